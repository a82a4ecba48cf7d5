"""Writes to the RND query ledger: what an adapter answered, what a file
brings, what the beat task sends."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.utils import timezone

from compliance.rnd.adapters import RndAdapter, RndRequest, RndResult, e164_from
from compliance.rnd.answers import (
    API_BATCH_MAX,
    DATE_CONSENT,
    DATE_MANUAL,
    RND_ANSWERS,
    rnd_fresh_window,
)
from compliance.rnd.chain import RndEntry, rnd_ledger_append
from compliance.rnd.due import RndDue, rnd_due_providers
from compliance.rnd.models import RndQuery
from compliance.rnd.selectors import rnd_answered
from compliance.ruleset import ruleset_current
from consent.models import ConsentGrant
from core.history import history_note

logger = logging.getLogger(__name__)


def rnd_results_record(
    *, results: Sequence[RndResult], asked: dict[tuple[str, date], RndDue]
) -> list[RndQuery]:
    """Chain the adapter's results into the ledger, each with the date kind
    and consent it was asked for (`asked`; an answer to nothing asked now,
    such as a late result file, is recorded as a manual date)."""
    entries = []
    for result in results:
        due = asked.get((result.number, result.date_sent))
        if result.detail:
            logger.warning(
                "RND %s: %s %s: %s", result.provider, result.number, result.date_sent, result.detail
            )
        entries.append(
            RndEntry(
                number=result.number,
                date_sent=result.date_sent,
                date_kind=due.date_kind if due else DATE_MANUAL,
                answer=result.answer,
                provider=result.provider,
                queried_at=result.queried_at,
                response_sha256=result.response_sha256,
                provider_request_id=result.provider_request_id,
                rnd_update=result.rnd_update,
                consent_id=due.consent_id if due else None,
            )
        )
    return rnd_ledger_append(entries)


@dataclass
class RndQueryRun:
    candidates: int = 0  # (number, date) pairs the calls rely on, duplicates included
    due: int = 0  # without a fresh answer, once each
    sent: int = 0
    batches: int = 0
    answers: Counter[str] = field(default_factory=Counter)


def rnd_due_collect(*, at: datetime, campaign_id: int | None = None) -> tuple[int, list[RndDue]]:
    """What is due at `at`: every provider's pairs, without duplicates (the
    first consent asking for a pair keeps it) and without those that have a
    fresh answer. Returns the count of candidates and the due list."""
    candidates = [
        due for provider in rnd_due_providers() for due in provider.rnd_due(campaign_id=campaign_id, at=at)
    ]
    unique: dict[tuple[str, date], RndDue] = {}
    for due in candidates:
        unique.setdefault((due.number, due.date_sent), due)
    window = rnd_fresh_window(ruleset_current(), on=at.astimezone(UTC).date())
    answered = rnd_answered(keys=unique.keys(), at=at, window=window)
    return len(candidates), [due for key, due in unique.items() if key not in answered]


def rnd_query_due(
    *,
    adapter: RndAdapter,
    at: datetime | None = None,
    campaign_id: int | None = None,
    batch_size: int = API_BATCH_MAX,
) -> RndQueryRun:
    """Send what is due through `adapter`, in batches of at most `batch_size`
    (and of what the adapter takes), each batch's answers chained in a
    transaction of their own: a failure later loses none already answered."""
    at = at or timezone.now()
    run = RndQueryRun()
    run.candidates, due = rnd_due_collect(at=at, campaign_id=campaign_id)
    run.due = len(due)
    size = max(1, min(batch_size, adapter.batch_max, API_BATCH_MAX))
    for start in range(0, len(due), size):
        batch = due[start : start + size]
        asked = {(d.number, d.date_sent): d for d in batch}
        results = adapter.query([RndRequest(number=d.number, date_sent=d.date_sent) for d in batch])
        rnd_results_record(results=results, asked=asked)
        run.sent += len(batch)
        run.batches += 1
        run.answers.update(result.answer for result in results)
    if not due:  # the file adapter answers earlier uploads on any run
        results = adapter.query([])
        if results:
            rnd_results_record(results=results, asked={})
            run.answers.update(result.answer for result in results)
    return run


# --- import -----------------------------------------------------------------------------

IMPORT_HEADER = ["phone_number", "date", "answer", "queried_at"]
IMPORT_PROVIDER = "import"


class RndImportError(ValueError):
    """A file that cannot be imported whole; `line` names the first bad line."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class RndImport:
    recorded: int
    already: int  # lines already in the ledger (a file imported again)


def _import_rows(data: bytes) -> list[tuple[str, date, str, datetime, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RndImportError(1, "the file is not UTF-8 text") from None
    rows = []
    lines = text.splitlines()
    if not lines or [cell.strip() for cell in next(csv.reader([lines[0]]))] != IMPORT_HEADER:
        raise RndImportError(1, f"the header must be {','.join(IMPORT_HEADER)}")
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        cells = next(csv.reader([raw]))
        if len(cells) != len(IMPORT_HEADER):
            raise RndImportError(number, f"expected {len(IMPORT_HEADER)} fields, got {len(cells)}")
        phone, day, answer, queried = (cell.strip() for cell in cells)
        try:
            e164 = e164_from(phone)
        except ValueError as error:
            raise RndImportError(number, str(error)) from None
        try:
            date_sent = date.fromisoformat(day)
            if len(day) != 10:
                raise ValueError
        except ValueError:
            raise RndImportError(number, f"date must be YYYY-MM-DD, got {day!r}") from None
        if answer not in RND_ANSWERS:
            raise RndImportError(number, f"answer must be one of {' | '.join(RND_ANSWERS)}, got {answer!r}")
        try:
            queried_at = datetime.fromisoformat(queried)
        except ValueError:
            raise RndImportError(
                number, f"queried_at must be ISO 8601 with an offset, got {queried!r}"
            ) from None
        if queried_at.tzinfo is None:
            raise RndImportError(number, f"queried_at needs an offset (e.g. +00:00), got {queried!r}")
        if queried_at > timezone.now():
            raise RndImportError(number, f"queried_at {queried} is in the future")
        rows.append((e164, date_sent, answer, queried_at, hashlib.sha256(raw.encode()).hexdigest()))
    return rows


def rnd_import(*, data: bytes) -> RndImport:
    """Record a CSV of RND answers (DESIGN.md's `rnd_import`): every line is
    checked first, and a file with any bad line records nothing
    (RndImportError names the line). A date that is the UTC date of one of
    the number's consents is recorded as that consent's; others as manual.
    A line already in the ledger (same number, date, answer and queried_at,
    imported) is not recorded twice."""
    rows = _import_rows(data)
    numbers = {row[0] for row in rows}
    consents: dict[tuple[str, date], int] = {}
    for consent_id, number, granted_at in (
        ConsentGrant.objects.filter(phone_number__number__in=numbers)
        .order_by("granted_at", "id")
        .values_list("id", "phone_number__number", "granted_at")
    ):
        consents[(str(number), granted_at.astimezone(UTC).date())] = consent_id  # the latest of a day
    present: set[tuple[str, date, str, datetime]] = set(
        RndQuery.objects.filter(phone_number__in=numbers, provider=IMPORT_PROVIDER).values_list(
            "phone_number", "date_sent", "answer", "queried_at"
        )
    )
    entries = []
    already = 0
    for e164, date_sent, answer, queried_at, line_hash in rows:
        key = (e164, date_sent, answer, queried_at)
        if key in present:
            already += 1
            continue
        present.add(key)
        linked = consents.get((e164, date_sent))
        entries.append(
            RndEntry(
                number=e164,
                date_sent=date_sent,
                date_kind=DATE_CONSENT if linked else DATE_MANUAL,
                answer=answer,
                provider=IMPORT_PROVIDER,
                queried_at=queried_at,
                response_sha256=line_hash,
                consent_id=linked,
            )
        )
    rnd_ledger_append(entries)
    return RndImport(recorded=len(entries), already=already)


def rnd_policy_ensure(sender=None, *, using: str = "default", **kwargs) -> None:
    """The company's RND policy row, with its default (`flag`, DESIGN.md),
    where none exists (post_migrate, so a flush makes it again; never changes
    an existing one)."""
    from compliance.models import RndPolicy

    if not RndPolicy.objects.using(using).filter(pk=1).exists():
        policy = RndPolicy(pk=1, policy=RndPolicy.Policy.FLAG, note="the default policy (DESIGN.md)")
        history_note(policy, by=None, reason="default RND policy")
        policy.save(using=using)
