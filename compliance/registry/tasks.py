"""Registry work run by the Celery worker on beat's schedule."""

import logging

from celery import shared_task
from django.utils import timezone

from compliance.registry.inbox import registry_inbox_sync
from compliance.selectors import registry_status

logger = logging.getLogger(__name__)


@shared_task(name="compliance.registry_inbox_sync")
def registry_inbox_sync_task() -> list[dict]:
    """Import every settled file in every active source's inbox."""
    return [
        {
            "source": report.source,
            "imported": [run.pk for run in report.imported],
            "skipped": [run.pk for run in report.skipped],
            "rejected": report.rejected,
            "busy": report.busy,
        }
        for report in registry_inbox_sync()
    ]


@shared_task(name="compliance.registry_freshness_check")
def registry_freshness_check_task() -> list[dict]:
    """Warn (a log line; the audit page shows a banner) when a subscribed
    source has area codes within six days of the maximum age the rule set
    gives that source (`dnc_list_max_age_days`), after which the engine
    blocks marketing calls to them."""
    aging = [status for status in registry_status(timezone.now()) if status.aging_area_codes]
    for status in aging:
        logger.warning(
            "registry %s: %s area code(s) synced more than %s days ago (oldest %s); "
            "marketing calls to them are blocked after %s days",
            status.source,
            status.aging_area_codes,
            status.limit.warn_days,
            status.oldest_sync,
            status.limit.max_age_days,
        )
    return [{"source": status.source, "aging_area_codes": status.aging_area_codes} for status in aging]
