"""The decision log: append, seal into a hash chain, checkpoint, verify.

Appending is a plain INSERT (hand-offs never wait on one another, nor on the
seal). A short sealing step, one at a time (an advisory lock on PostgreSQL),
reads the new rows and inserts their links (DecisionChainLink: position,
`prev_hash`, `row_hash = sha256(prev_hash + content)`); it never updates a
decision, so the app's role needs only SELECT and INSERT on the log. It
chains rows in id order up to a settled horizon, an id below which no
transaction can still commit a row, and ends with a checkpoint signed outside
the database (compliance.ledger) whose `last_id` is that horizon: a row at or
below a checkpoint's `last_id` without a link was inserted afterwards, a
tamper that the seal never chains and `decision_log_verify` names.
`decision_log_verify` recomputes the chain from the start and checks every
checkpoint's signature against it.
"""

import dataclasses
import hashlib
import json
import logging
import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance import ledger
from compliance.ledger import GENESIS_HASH, Checkpoint, CheckpointError
from compliance.models import (
    ChainVerification,
    DecisionChainLink,
    DecisionCheckpoint,
    DecisionLogPurge,
    DecisionRecord,
)
from compliance.policy import CallFacts, Decision
from compliance.retention import rows_unreferenced
from consent.services import number_hash, suppression_hashes, suppression_key_id, suppression_keys
from core.erasure import TEXT_MARK
from core.history import history_user
from core.prepared import PreparedInsert
from core.retention import FIVE_YEARS
from customers.models import Customer

logger = logging.getLogger(__name__)

_SEAL_LOCK_KEY = 0x434F4E53454E54  # pg_advisory lock id: one sealer at a time
ERASED_NUMBER = TEXT_MARK  # what compliance.erasure leaves in phone_number


def _json_default(value):
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def _jsonable_default(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # What dataclasses.asdict gives, field by field, left to the encoder's
        # own recursion (asdict deep-copied every value first: 0.2 ms a decision).
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    return _json_default(value)


def to_jsonable(value) -> Any:
    """Dataclasses (facts, evidence) as plain JSON values."""
    is_dataclass = dataclasses.is_dataclass(value) and not isinstance(value, type)
    return json.loads(json.dumps(value, default=_jsonable_default if is_dataclass else _json_default))


# The log's INSERT compiled once (core.prepared): compiling it cost as much as running it.
_LOG_INSERT = PreparedInsert(DecisionRecord)


def decision_log_append(
    *, facts: CallFacts, decision: Decision, kind: str, actor, number: str
) -> DecisionRecord:
    shown = (facts.e164 or number)[:40]
    stored_facts = to_jsonable(facts)
    stored_facts["e164"] = None  # kept once, erasable, in phone_number
    record = DecisionRecord(
        decided_at=facts.at,
        kind=kind,
        phone_number=shown,
        number_hash=number_hash(shown),
        number_key_id=suppression_key_id(settings.SUPPRESSION_HASH_KEY),
        customer_id=facts.customer_id,
        campaign_id=facts.context.campaign_id,
        actor=history_user(actor),
        allowed=decision.allowed,
        reasons=list(decision.reasons),
        evidence=to_jsonable(decision.evidence),
        facts=stored_facts,
        ruleset_version=decision.evidence.get("ruleset_version", ""),
    )
    _LOG_INSERT.save(record)
    return record


def decision_log_erase(numbers: list[str]) -> int:
    """The clear numbers in the log become '(erased)' (a customer's erasure,
    after it suppressed them); their hashes stay, so the chain holds. On
    PostgreSQL through the owner's function (migrations 0009, 0012): the
    app's role cannot update the log, and the function blanks only numbers
    with a suppression entry, each named with its hash under the current key."""
    if not numbers:
        return 0
    if connection.vendor != "postgresql":
        return DecisionRecord.objects.filter(phone_number__in=numbers).update(phone_number=ERASED_NUMBER)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT compliance_decision_log_erase(%s::text[], %s::text[])",
            [list(numbers), [number_hash(number) for number in numbers]],
        )
        return int(cursor.fetchone()[0])


# The legal minimum the purge function holds (migration 0009): decisions are
# kept 5 years whatever a retention policy says (TSR, 16 CFR 310.5).
LEGAL_MINIMUM = timedelta(days=FIVE_YEARS)


def decision_log_purge(ids: list[int]) -> int:
    """Delete those of these decisions that are past the legal minimum and
    covered by a signed checkpoint, and record the run (DecisionLogPurge);
    returns how many went. On PostgreSQL through the owner's function, which
    holds the minimum itself; elsewhere (the demo's SQLite) the same here."""
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT compliance_decision_log_purge(%s::bigint[])", [list(ids)])
            return int(cursor.fetchone()[0])
    bound = timezone.now() - LEGAL_MINIMUM
    sealed_to = DecisionCheckpoint.objects.aggregate(last=Max("last_id"))["last"] or 0
    doomed = DecisionRecord.objects.filter(id__in=ids, recorded_at__lt=bound, id__lte=sealed_to)
    found = doomed.aggregate(first=Min("id"), last=Max("id"))
    deleted = doomed._raw_delete(doomed.db)
    if deleted:
        DecisionLogPurge.objects.create(
            bound=bound, deleted=deleted, first_id=found["first"], last_id=found["last"], by_role="sqlite"
        )
    return deleted


def decisions_purgeable(rows: QuerySet, cutoff: datetime) -> QuerySet:
    """Of the expired decisions, those the purge may take: none of a customer
    on legal hold, none a call attempt still points at."""
    held = Customer.objects.filter(legal_hold=True).values("pk")
    return rows_unreferenced(rows.exclude(customer_id__in=held), cutoff)


def _content(record: DecisionRecord, position: int) -> bytes:
    """Every field of the decision but the clear number (erasure blanks it;
    its keyed hash is covered instead, with the key's id on rows that keep one:
    rows logged before have no `number_key_id` and hash as they always did)."""
    body = {
        "id": record.pk,
        "decided_at": record.decided_at.isoformat(),
        "recorded_at": record.recorded_at.isoformat(),
        "kind": record.kind,
        "number_hash": record.number_hash,
        "customer_id": record.customer_id,
        "campaign_id": record.campaign_id,
        "actor_id": record.actor_id,
        "allowed": record.allowed,
        "reasons": record.reasons,
        "evidence": record.evidence,
        "facts": record.facts,
        "ruleset_version": record.ruleset_version,
        "chain_position": position,
    }
    if record.number_key_id:
        body["number_key_id"] = record.number_key_id
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def row_hash(record: DecisionRecord, *, position: int, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode() + _content(record, position)).hexdigest()


def link_verifies(record: DecisionRecord, link: DecisionChainLink) -> bool:
    """The row still matches its own link (not the whole chain: decision_log_verify)."""
    return row_hash(record, position=link.position, prev_hash=link.prev_hash) == link.row_hash


# --- sealing ---------------------------------------------------------------------------

SETTLE_TIMEOUT = 5.0  # seconds the seal waits for in-flight inserts before leaving them for the next run


def _settled_horizon(*, timeout: float) -> int | None:
    """The largest id up to which every decision row is committed (or never
    will be), so that rows are chained in id order and none can appear below
    the head later. PostgreSQL: the id sequence's last value, once every
    transaction that held the table's write lock at that moment has ended
    (the seal waits for them, a few milliseconds; hand-offs never wait on the
    seal). None when they are still running after `timeout`: the next run
    seals. SQLite has one writer at a time: the largest id present."""
    if connection.vendor != "postgresql":
        return DecisionRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
    table = DecisionRecord._meta.db_table
    with connection.cursor() as cursor:
        # The sequence first, the writers second: a row with an id up to that
        # value was inserted by a transaction that holds the lock now or has ended.
        cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')::regclass)", [table])
        horizon = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT array_agg(DISTINCT virtualtransaction) FROM pg_locks WHERE relation = %s::regclass "
            "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid() "
            # relation oids are per database: another database's table may share this one's
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [table],
        )
        writers = cursor.fetchone()[0] or []
        deadline = time.monotonic() + timeout
        while writers:
            cursor.execute(
                "SELECT array_agg(virtualxid) FROM pg_locks "
                "WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s)",
                [writers],
            )
            writers = cursor.fetchone()[0] or []
            if writers and time.monotonic() > deadline:
                return None
            if writers:
                time.sleep(0.01)
    return horizon


def _seal_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
        return bool(cursor.fetchone()[0])


@dataclass(frozen=True)
class _Head:
    """Where the seal extends the chain from: a position, its row hash, and
    the largest decision id chained up to it (a checkpoint's `last_id`)."""

    position: int
    row_hash: str
    last_id: int


class SealRefused(Exception):
    """The links since the last checkpoint are not what a seal makes."""


SEAL_REFUSED = "decision log: seal refused, the chain since the last checkpoint does not hold: %s"


def _head_extended(head: _Head, *, horizon: int) -> _Head:
    """`head` moved past the links chained after it, once they are what a
    seal makes: the link at `head` still there with its hash, then each link
    at the next position, chained from the one before, its decision unchanged
    and above the one before it, up to the settled horizon. A link anyone
    else appended (a back-dated decision at head+1, say) raises SealRefused."""
    if (
        head.position
        and not DecisionChainLink.objects.filter(position=head.position, row_hash=head.row_hash).exists()
    ):
        raise SealRefused(f"the link at position {head.position} is gone or changed")
    links = list(DecisionChainLink.objects.filter(position__gt=head.position).order_by("position"))
    decisions = DecisionRecord.objects.in_bulk([link.decision_id for link in links])
    for link in links:
        record = decisions.get(link.decision_id)
        if link.position != head.position + 1 or link.prev_hash != head.row_hash:
            raise SealRefused(f"position {link.position} does not follow position {head.position}")
        if not head.last_id < link.decision_id <= horizon:
            raise SealRefused(
                f"position {link.position} chains decision #{link.decision_id}, "
                f"not above #{head.last_id} or past the settled horizon #{horizon}"
            )
        if record is None or not link_verifies(record, link):
            raise SealRefused(f"decision #{link.decision_id} does not match its link")
        head = _Head(link.position, link.row_hash, link.decision_id)
    return head


def decision_log_seal(*, batch_size: int = 2000, settle_timeout: float = SETTLE_TIMEOUT) -> int | None:
    """Chain the rows committed so far and sign a checkpoint; returns how
    many rows were chained, or None when it could not seal: inserts still in
    flight after `settle_timeout` (the next run seals), or the links since
    the last checkpoint are not the seal's (an error is logged; nothing is
    chained or signed until someone looks). Safe to run often and
    concurrently: a second sealer finds the lock taken and leaves. With
    nothing new it signs no checkpoint: the latest one still covers the
    whole chain, and a quiet log would otherwise fill the store with a file
    a minute that proves nothing more."""
    horizon = _settled_horizon(timeout=settle_timeout)
    if horizon is None:
        logger.warning("decision log: inserts still running after %ss; sealing next time", settle_timeout)
        return None
    sealed = 0
    head: _Head | None = None  # checked up to here, by this run
    while True:
        with transaction.atomic():
            if not _seal_lock():
                return sealed
            checkpoint = DecisionCheckpoint.objects.order_by("-seq").first()
            # Never below the last checkpoint: a row there without a link is a tamper.
            floor = checkpoint.last_id if checkpoint else 0
            if checkpoint is None:
                # Nothing signed yet vouches for the links (those migration 0008
                # copied are not in id order): verify walks them; the first
                # checkpoint signs what is there.
                last = DecisionChainLink.objects.order_by("-position").first()
                head = _Head(last.position, last.row_hash, 0) if last else _Head(0, GENESIS_HASH, 0)
            else:
                if head is None or head.position < checkpoint.position:  # or another sealer signed since
                    head = _Head(checkpoint.position, checkpoint.head_hash, checkpoint.last_id)
                try:
                    head = _head_extended(head, horizon=max(horizon, floor))
                except SealRefused as exc:
                    logger.error(SEAL_REFUSED, exc)
                    return None
            rows = list(
                DecisionRecord.objects.filter(id__gt=floor, id__lte=max(horizon, floor))
                .filter(~Exists(DecisionChainLink.objects.filter(decision_id=OuterRef("pk"))))
                .order_by("id")[:batch_size]
            )
            if checkpoint is not None and rows and rows[0].pk < head.last_id:
                logger.error(
                    SEAL_REFUSED, f"decision #{rows[0].pk} is below chained decision #{head.last_id}"
                )
                return None
            position, prev = head.position, head.row_hash
            links = []
            for record in rows:
                position += 1
                link = DecisionChainLink(
                    position=position,
                    decision_id=record.pk,
                    prev_hash=prev,
                    row_hash=row_hash(record, position=position, prev_hash=prev),
                )
                links.append(link)
                prev = link.row_hash
            DecisionChainLink.objects.bulk_create(links, batch_size=500)
            if rows:
                head = _Head(position, prev, rows[-1].pk)
            sealed += len(rows)
            done = len(rows) < batch_size
            if done and position > (checkpoint.position if checkpoint else 0):
                _checkpoint_add(
                    after=checkpoint, position=position, last_id=max(horizon, floor), head_hash=prev
                )
        if done:
            break
    _store_catch_up()
    return sealed


def _checkpoint_add(
    *, after: DecisionCheckpoint | None, position: int, last_id: int, head_hash: str
) -> DecisionCheckpoint:
    previous = Checkpoint.parse(after.document) if after else None
    signed = ledger.checkpoint_sign(
        key=ledger.signing_key(),
        seq=previous.seq + 1 if previous else 1,
        position=position,
        last_id=last_id,
        rows_sealed=position - (previous.position if previous else 0),
        head_hash=head_hash,
        at=timezone.now().astimezone(UTC).isoformat(),
        prev=previous.digest() if previous else GENESIS_HASH,
    )
    return DecisionCheckpoint.objects.create(
        seq=signed.seq,
        position=signed.position,
        last_id=signed.last_id,
        head_hash=signed.head_hash,
        made_at=datetime.fromisoformat(signed.at),
        key_id=signed.key_id,
        document=signed.document(),
    )


def _store_catch_up() -> None:
    """Write the checkpoint files the store lacks, newest back to the last one
    present (usually just the one made now; more after a failed write). After
    the commit: the store never holds a checkpoint whose links were rolled back."""
    directory = ledger.store_dir()
    missing = []
    for copy in DecisionCheckpoint.objects.order_by("-seq").iterator(chunk_size=100):
        if (directory / f"{copy.seq:012d}.json").exists():
            break
        missing.append(copy)
    for copy in reversed(missing):
        ledger.store_write(Checkpoint.parse(copy.document), directory)


# --- verifying -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None  # the first decision that does not verify
    problem: str = ""
    broken_checkpoint: int | None = None  # or the first checkpoint that does not
    checkpoints: int = 0
    latest: Checkpoint | None = None
    purged: int = 0  # links whose decisions a retention purge removed
    numbers_checked: int = 0
    numbers_unchecked: int = 0  # erased, logged before key ids, or their key not configured here

    @property
    def where(self) -> str:
        if self.broken_id is not None:
            return f"row #{self.broken_id}"
        if self.broken_checkpoint:
            return f"checkpoint #{self.broken_checkpoint}"
        return "the checkpoint store"


class _Broken(Exception):
    def __init__(self, problem: str, *, row: int | None = None, checkpoint: int | None = None):
        super().__init__(problem)
        self.problem, self.row, self.checkpoint = problem, row, checkpoint


def _checkpoints_check(checkpoints: list[Checkpoint], public_key: Ed25519PublicKey | None) -> None:
    """Each signed by the key, numbered from 1 without a gap, each naming the
    one before, none going back."""
    previous: Checkpoint | None = None
    for expected_seq, checkpoint in enumerate(checkpoints, start=1):
        seq = checkpoint.seq
        if seq != expected_seq:
            raise _Broken(f"checkpoint #{expected_seq} is missing from the store", checkpoint=expected_seq)
        if public_key is None:
            raise _Broken("no public key to check the checkpoints with", checkpoint=seq)
        if checkpoint.key_id != ledger.key_id(public_key) or not checkpoint.signed_by(public_key):
            raise _Broken("its signature does not verify with the public key", checkpoint=seq)
        if checkpoint.prev != (previous.digest() if previous else GENESIS_HASH):
            raise _Broken("it does not name the checkpoint before it", checkpoint=seq)
        if previous and (checkpoint.position < previous.position or checkpoint.last_id < previous.last_id):
            raise _Broken("it covers less than the checkpoint before it", checkpoint=seq)
        previous = checkpoint


def _links(chunk_size: int) -> Iterator[list[DecisionChainLink]]:
    last = None
    while True:
        links = DecisionChainLink.objects.order_by("position")
        chunk = list((links.filter(position__gt=last) if last is not None else links)[:chunk_size])
        if chunk:
            yield chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1].position


@dataclass
class _Walk:
    checked: int = 0
    purged: int = 0
    first_purged: int | None = None
    numbers_checked: int = 0
    numbers_unchecked: int = 0
    head: int = 0


def _number_matches(record: DecisionRecord, walk: _Walk, key_ids: list[str]) -> bool:
    """The clear number against its hash, with the key the row names (a row
    whose number was erased, or whose key is not configured here, is counted
    as not checked)."""
    if record.phone_number == ERASED_NUMBER or record.number_key_id not in key_ids:
        walk.numbers_unchecked += 1
        return True
    walk.numbers_checked += 1
    hashes = dict(zip(key_ids, suppression_hashes(record.phone_number), strict=True))
    return hashes[record.number_key_id] == record.number_hash


def _id_bounds_check(link: DecisionChainLink, checkpoints: list[Checkpoint], positions: list[int]) -> None:
    """A link between checkpoints k and k+1 chains a decision above k's
    `last_id` and up to k+1's (the seal chains in id order from the last
    checkpoint up); one after the latest, above its `last_id`. Links before
    checkpoint #1 (migration 0008 copied the old chain as it was) only need
    the upper bound. So a back-dated decision under an id a checkpoint
    already covers cannot be chained at the head either."""
    after = bisect_left(positions, link.position)  # the first checkpoint holding this position
    row = link.decision_id
    if after < len(checkpoints) and row > checkpoints[after].last_id:
        covering = checkpoints[after]
        raise _Broken(
            f"checkpoint #{covering.seq} covers position {link.position} and decisions up to "
            f"#{covering.last_id}, yet the link there chains decision #{row}",
            row=row,
        )
    if after > 0 and row <= checkpoints[after - 1].last_id:
        before = checkpoints[after - 1]
        raise _Broken(
            f"it is chained at position {link.position}, after checkpoint #{before.seq}, which covers "
            f"every decision up to #{before.last_id}: a back-dated row",
            row=row,
        )


def _chain_walk(checkpoints: list[Checkpoint], walk: _Walk, chunk_size: int) -> None:
    positions = [checkpoint.position for checkpoint in checkpoints]  # in order: _checkpoints_check
    at_position: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        at_position.setdefault(checkpoint.position, []).append(checkpoint)
    key_ids = [key_id for key_id, _key in suppression_keys()]
    purged_to = DecisionLogPurge.objects.aggregate(last=Max("last_id"))["last"] or 0
    prev = expected = None
    for chunk in _links(chunk_size):
        decisions = DecisionRecord.objects.in_bulk([link.decision_id for link in chunk])
        for link in chunk:
            if expected is None:
                # The first link: position 1, or the first kept after a purge of
                # links, which starts from the checkpoint holding the one before.
                expected, prev = link.position, GENESIS_HASH
                if link.position > 1:
                    start = at_position.get(link.position - 1)
                    if not start:
                        raise _Broken(
                            f"the chain starts at position {link.position} and no checkpoint holds "
                            f"position {link.position - 1}: its first rows were deleted",
                            row=link.decision_id,
                        )
                    prev = start[0].head_hash
            row = link.decision_id
            if link.position != expected:
                raise _Broken(f"position {expected} is missing (its link was deleted)", row=row)
            if link.prev_hash != prev:
                raise _Broken("its prev_hash does not match the row before it", row=row)
            _id_bounds_check(link, checkpoints, positions)
            record = decisions.get(row)
            if record is None:
                if row > purged_to:  # above every purge run's last row: no purge took it
                    raise _Broken(f"decision #{row} at position {link.position} was deleted", row=row)
                walk.purged += 1  # removed by the purge function, if the runs' counts agree
                walk.first_purged = walk.first_purged or row
            else:
                if row_hash(record, position=link.position, prev_hash=prev) != link.row_hash:
                    raise _Broken("its content does not match its hash", row=row)
                if not _number_matches(record, walk, key_ids):
                    raise _Broken("its phone number does not match its number hash", row=row)
                walk.checked += 1
            prev = link.row_hash
            for checkpoint in at_position.get(link.position, []):
                if checkpoint.head_hash != prev:
                    raise _Broken(
                        f"it signed head hash {checkpoint.head_hash[:16]}… at position {link.position}, "
                        f"the chain has {prev[:16]}…: rows up to that position were rewritten",
                        checkpoint=checkpoint.seq,
                    )
            walk.head = link.position
            expected += 1


def _purges_check(walk: _Walk) -> None:
    """The decisions missing from the log are exactly those the purge
    function's runs removed: a row deleted by hand, even one past the legal
    minimum below a purged one, makes the counts disagree."""
    recorded = DecisionLogPurge.objects.aggregate(total=Sum("deleted"))["total"] or 0
    if walk.purged != recorded:
        raise _Broken(
            f"{walk.purged} chained decision(s) are missing from the log and the purge runs account for "
            f"{recorded}: rows were deleted outside the purge",
            row=walk.first_purged,
        )


def decision_log_verify(
    *,
    checkpoints: list[Checkpoint] | None = None,
    public_key: Ed25519PublicKey | None = None,
    chunk_size: int = 5000,
) -> ChainCheck:
    """Recompute the chain in position order, check every checkpoint's
    signature and that the chain still holds what each one signed; name the
    first broken row or checkpoint. Without arguments: the configured store
    and the public half of the configured key (as the nightly task runs);
    an auditor passes the checkpoints and the public key (no secret: the
    phone numbers are then checked only where the suppression key is at hand)."""
    walk = _Walk()
    configured = checkpoints is None
    try:
        if checkpoints is None:
            checkpoints, public_key = _configured_checkpoints()
        _checkpoints_check(checkpoints, public_key)
        if configured:
            _store_against_copies(checkpoints)
        _chain_walk(checkpoints, walk, chunk_size)
        _purges_check(walk)
        latest = checkpoints[-1] if checkpoints else None
        if latest and latest.position > walk.head:
            raise _Broken(
                f"it covers the chain up to position {latest.position} (decision #{latest.last_id}), "
                f"the chain ends at position {walk.head}: its last rows were deleted",
                checkpoint=latest.seq,
            )
        if latest:
            forged = (
                DecisionRecord.objects.filter(id__lte=latest.last_id)
                .filter(~Exists(DecisionChainLink.objects.filter(decision_id=OuterRef("pk"))))
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
            if forged is not None:
                raise _Broken(
                    f"it is not in the chain, though checkpoint #{latest.seq} covers every decision "
                    f"up to #{latest.last_id}: it was inserted afterwards",
                    row=forged,
                )
    except (_Broken, CheckpointError) as exc:
        broken = exc if isinstance(exc, _Broken) else _Broken(str(exc), checkpoint=0)
        return ChainCheck(
            False,
            walk.checked,
            0,
            broken_id=broken.row,
            problem=broken.problem,
            broken_checkpoint=broken.checkpoint,
            checkpoints=len(checkpoints or []),
        )
    unsealed = unsealed_count(above=latest.last_id if latest else 0)
    return ChainCheck(
        True,
        walk.checked,
        unsealed,
        checkpoints=len(checkpoints),
        latest=latest,
        purged=walk.purged,
        numbers_checked=walk.numbers_checked,
        numbers_unchecked=walk.numbers_unchecked,
    )


def unsealed_count(*, above: int | None = None) -> int:
    """Decisions not in the chain yet, counted above a checkpoint's `last_id`
    (below it, one is a tamper that verify names, not a row still to seal):
    an index range, not the whole log. `above` defaults to the latest
    checkpoint's copy in the database (in the same query)."""
    floor = (
        Coalesce(Subquery(DecisionCheckpoint.objects.order_by("-seq").values("last_id")[:1]), 0)
        if above is None
        else above
    )
    return (
        DecisionRecord.objects.filter(id__gt=floor)
        .filter(~Exists(DecisionChainLink.objects.filter(decision_id=OuterRef("pk"))))
        .count()
    )


def _configured_checkpoints() -> tuple[list[Checkpoint], Ed25519PublicKey | None]:
    directory = ledger.store_dir()
    checkpoints = ledger.store_read(directory) if directory.is_dir() else []
    return checkpoints, ledger.ledger_public_key()


def _store_against_copies(checkpoints: list[Checkpoint]) -> None:
    """The store holds at least every checkpoint the database has a copy of:
    an emptied or cut store would otherwise leave the chain vouched for by
    nothing, and verify would say it is intact."""
    copies = DecisionCheckpoint.objects.aggregate(top=Max("seq"))["top"] or 0
    if copies > len(checkpoints):  # the store holds #1..len without a gap (_checkpoints_check)
        first = len(checkpoints) + 1
        lacking = f"#{first}" if first == copies else f"#{first}..{copies}"
        raise _Broken(
            f"the store lacks checkpoint(s) {lacking}, which the database holds copies of", checkpoint=0
        )


def decision_log_verify_record() -> ChainCheck:
    """Verify and keep the outcome (ChainVerification), for the audit page's alert."""
    result = decision_log_verify()
    ChainVerification.objects.create(
        ok=result.ok,
        checked=result.checked,
        unsealed=result.unsealed,
        broken_id=result.broken_id,
        problem=result.problem if result.broken_id is not None else f"{result.where}: {result.problem}",
    )
    return result
