"""Campaigns' part of a customer's erasure (core.erasure hooks).

- Call attempts to the person's numbers stay (the TSR's call records: when,
  which campaign, which agent, the outcome, the decision); their agents'
  notes become "(erased)". Notes of other calls that mention the person's
  numbers or email addresses have those occurrences redacted.
- Their campaign targets keep what the law needs (campaign, attempts, dates,
  status): still-queued ones are suppressed with `customer_erased` so that
  the queue no longer holds them.
- Files under VAR_DIR/cache: the pre-launch scrub no longer writes any (it
  runs on the engine and caches nothing between runs), but earlier versions
  kept a sample number per prefix there (`scrub-places-*.json`). Every file
  there is deleted (safe: nothing reads them), now and again once the
  erasure commits.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from campaigns.models import CallAttempt, CampaignTarget
from core.erasure import TEXT_MARK, ErasureContext, erasure_hook_register
from core.history import history_save

logger = logging.getLogger(__name__)


def call_notes_erase(context: ErasureContext) -> None:
    own = CallAttempt.objects.filter(phone_number__customer_id=context.customer_id)
    own.exclude(notes="").update(notes=TEXT_MARK)
    terms = context.search_terms()
    if not terms:
        return
    condition = Q()
    for term in terms:
        condition |= Q(notes__icontains=term)
    others = CallAttempt.objects.exclude(phone_number__customer_id=context.customer_id).filter(condition)
    for attempt in others.only("pk", "notes"):
        if context.mentions(attempt.notes):
            CallAttempt.objects.filter(pk=attempt.pk).update(notes=context.redact(attempt.notes))


def targets_suppress(context: ErasureContext) -> None:
    queued = CampaignTarget.objects.select_for_update().filter(
        phone_number__customer_id=context.customer_id, status=CampaignTarget.Status.QUEUED
    )
    for target in queued:
        target.status = CampaignTarget.Status.SUPPRESSED
        target.blocked_reasons = ["customer_erased"]
        history_save(target, by=context.by, reason=f"suppressed: customer_erased ({context.reason})")


def scrub_cache_files() -> list[Path]:
    folder = Path(settings.VAR_DIR) / "cache"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def scrub_cache_clear() -> int:
    """Delete the scrub's cache files; returns how many went."""
    removed = 0
    for path in scrub_cache_files():
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError:
            logger.error("erasure: could not delete the cache file %s", path, exc_info=True)
            raise
    return removed


def scrub_cache_erase(context: ErasureContext) -> None:
    scrub_cache_clear()  # a failure here undoes the erasure: no number is left behind
    transaction.on_commit(scrub_cache_clear, robust=True)


def erasure_hooks_register() -> None:
    erasure_hook_register("campaigns.call_notes", call_notes_erase)
    erasure_hook_register("campaigns.scrub_cache", scrub_cache_erase)
    erasure_hook_register("campaigns.targets", targets_suppress)
