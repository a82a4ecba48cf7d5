"""The RND query ledger's hash chain: each row holds the hash of the row
before it (`prev_hash`, GENESIS_HASH for the first) and its own,
`row_hash = sha256(prev_hash + content)`, in id order.

Rows are appended one writer at a time (a transaction-scoped advisory lock
on PostgreSQL; SQLite has one writer anyway), so the row before is the
latest committed one. The content is every field but the clear number
(erasure blanks it) and the chain fields; `recorded_at` is the database's
clock, read in the appending transaction: the trigger stamps the same
`now()` on every row the transaction inserts.

`rnd_ledger_verify` recomputes the chain and names the first row that does
not hold: a changed field, a removed row, a row slipped in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from compliance.ledger import GENESIS_HASH
from compliance.rnd.models import RndQuery
from consent.services import number_hash, suppression_key_id
from core.erasure import TEXT_MARK

_APPEND_LOCK_KEY = 0x524E444C4544  # pg_advisory lock id ("RNDLED"): one appender at a time
ERASED_NUMBER = TEXT_MARK

CHAINED_FIELDS = (
    "number_hash",
    "number_key_id",
    "date_sent",
    "date_kind",
    "answer",
    "provider",
    "provider_request_id",
    "queried_at",
    "rnd_update",
    "response_sha256",
    "consent_id",
    "recorded_at",
)


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def row_content(row: RndQuery) -> bytes:
    body = {name: _canonical(getattr(row, name)) for name in CHAINED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def row_hash(row: RndQuery, *, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode() + row_content(row)).hexdigest()


def _lock_and_clock() -> datetime:
    """Take the appenders' lock for this transaction and read the database's
    clock (the instant the trigger stamps on this transaction's rows)."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_APPEND_LOCK_KEY])
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class RndEntry:
    """One answer to record (compliance.rnd.services builds them)."""

    number: str  # E.164
    date_sent: date
    date_kind: str
    answer: str
    provider: str
    queried_at: datetime
    response_sha256: str
    provider_request_id: str = ""
    rnd_update: str = ""
    consent_id: int | None = None


@transaction.atomic
def rnd_ledger_append(entries: Sequence[RndEntry]) -> list[RndQuery]:
    """Append `entries` to the ledger, chained, in one transaction."""
    if not entries:
        return []
    recorded_at = _lock_and_clock()
    prev = RndQuery.objects.order_by("-id").values_list("row_hash", flat=True).first() or GENESIS_HASH
    key_id = suppression_key_id(settings.SUPPRESSION_HASH_KEY)
    rows = []
    for entry in entries:
        row = RndQuery(
            phone_number=entry.number,
            number_hash=number_hash(entry.number),
            number_key_id=key_id,
            date_sent=entry.date_sent,
            date_kind=entry.date_kind,
            answer=entry.answer,
            provider=entry.provider,
            provider_request_id=entry.provider_request_id[:120],
            queried_at=entry.queried_at,
            rnd_update=entry.rnd_update[:40],
            response_sha256=entry.response_sha256,
            consent_id=entry.consent_id,
            recorded_at=recorded_at,
            prev_hash=prev,
        )
        row.full_clean(exclude=["consent", "row_hash"], validate_unique=False, validate_constraints=False)
        row.row_hash = prev = row_hash(row, prev_hash=prev)
        rows.append(row)
    return RndQuery.objects.bulk_create(rows)


@dataclass(frozen=True)
class RndChainCheck:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""


def rnd_ledger_verify(*, chunk: int = 5000) -> RndChainCheck:
    """Recompute the chain from the first row; the first row that does not
    hold is named, with what is wrong with it."""
    prev = GENESIS_HASH
    checked = 0
    last_id = 0
    current_key_id = suppression_key_id(settings.SUPPRESSION_HASH_KEY)
    while True:
        rows = list(RndQuery.objects.filter(id__gt=last_id).order_by("id")[:chunk])
        if not rows:
            return RndChainCheck(ok=True, checked=checked)
        for row in rows:
            problem = ""
            if row.prev_hash != prev:
                problem = "does not follow the row before it (a row was removed, inserted or reordered)"
            elif row_hash(row, prev_hash=prev) != row.row_hash:
                problem = "its content does not match its hash (a field was changed)"
            elif (
                row.phone_number != ERASED_NUMBER
                and row.number_key_id == current_key_id  # rows hashed with an older key: not checkable here
                and number_hash(row.phone_number) != row.number_hash
            ):
                problem = "its number does not match the number's hash (the number was changed)"
            if problem:
                return RndChainCheck(ok=False, checked=checked, broken_id=row.pk, problem=problem)
            prev = row.row_hash
            checked += 1
            last_id = row.pk


def rnd_ledger_erase(numbers: Sequence[str]) -> int:
    """The clear numbers become '(erased)' (a customer's erasure); their
    hashes stay, so the chain holds. On PostgreSQL through the owner's
    function (migrations 0011, 0014): the app's role cannot update the
    ledger, and the function blanks only numbers with a suppression entry
    (an erasure writes one first), each named with its hash."""
    if not numbers:
        return 0
    if connection.vendor != "postgresql":
        return RndQuery.objects.filter(phone_number__in=numbers).update(phone_number=ERASED_NUMBER)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT compliance_rnd_erase(%s::text[], %s::text[])",
            [list(numbers), [number_hash(number) for number in numbers]],
        )
        return int(cursor.fetchone()[0])
