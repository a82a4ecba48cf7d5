"""The decision log: append, seal into a hash chain, verify.

Appending is a plain INSERT (hand-offs never wait on one another). A short
sealing step, one at a time (an advisory lock on PostgreSQL), gives each new
row the next `chain_position` and `row_hash = sha256(prev_hash + content)`.
A row whose transaction commits late is simply sealed by a later step, so
the chain has no gaps. `decision_log_verify` recomputes it from the start.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import connection, transaction

from compliance.models import DecisionRecord
from compliance.policy import CallFacts, Decision
from consent.services import number_hash
from core.history import history_user

GENESIS_HASH = "0" * 64
_SEAL_LOCK_KEY = 0x434F4E53454E54  # pg_advisory lock id: one sealer at a time


def _json_default(value):
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def to_jsonable(value) -> Any:
    """Dataclasses (facts, evidence) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=_json_default))


def decision_log_append(
    *, facts: CallFacts, decision: Decision, kind: str, actor, number: str
) -> DecisionRecord:
    shown = (facts.e164 or number)[:40]
    stored_facts = to_jsonable(facts)
    stored_facts["e164"] = None  # kept once, erasable, in phone_number
    return DecisionRecord.objects.create(
        decided_at=facts.at,
        kind=kind,
        phone_number=shown,
        number_hash=number_hash(shown),
        customer_id=facts.customer_id,
        campaign_id=facts.context.campaign_id,
        actor=history_user(actor),
        allowed=decision.allowed,
        reasons=list(decision.reasons),
        evidence=to_jsonable(decision.evidence),
        facts=stored_facts,
        ruleset_version=decision.evidence.get("ruleset_version", ""),
    )


def _content(record: DecisionRecord) -> bytes:
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
        "chain_position": record.chain_position,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def row_hash(record: DecisionRecord, prev_hash: str) -> str:
    return hashlib.sha256(prev_hash.encode() + _content(record)).hexdigest()


def decision_log_seal(*, batch_size: int = 2000) -> int:
    """Seal the rows committed so far; returns how many. Safe to run often
    and concurrently: a second sealer finds the lock taken and leaves."""
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
                    if not cursor.fetchone()[0]:
                        return sealed
            last = (
                DecisionRecord.objects.filter(chain_position__isnull=False)
                .order_by("-chain_position")
                .first()
            )
            position = (last.chain_position or 0) if last else 0  # a sealed row has its position
            prev = last.row_hash if last else GENESIS_HASH
            rows = list(
                DecisionRecord.objects.filter(chain_position__isnull=True).order_by("id")[:batch_size]
            )
            if not rows:
                return sealed
            for record in rows:
                position += 1
                record.chain_position = position
                record.prev_hash = prev
                record.row_hash = prev = row_hash(record, prev)
            DecisionRecord.objects.bulk_update(
                rows, ["chain_position", "prev_hash", "row_hash"], batch_size=500
            )
            sealed += len(rows)
        if len(rows) < batch_size:
            return sealed


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None
    problem: str = ""


def decision_log_verify(*, chunk_size: int = 5000) -> ChainCheck:
    """Recompute the chain in position order; name the first broken row."""
    prev = GENESIS_HASH
    expected_position = 1
    checked = 0
    last_position = 0
    while True:
        rows = list(
            DecisionRecord.objects.filter(chain_position__gt=last_position).order_by("chain_position")[
                :chunk_size
            ]
        )
        for record in rows:
            if record.chain_position != expected_position:
                return ChainCheck(False, checked, 0, record.pk, f"position {expected_position} is missing")
            if record.prev_hash != prev:
                return ChainCheck(
                    False, checked, 0, record.pk, "its prev_hash does not match the row before it"
                )
            if row_hash(record, prev) != record.row_hash:
                return ChainCheck(False, checked, 0, record.pk, "its content does not match its hash")
            prev = record.row_hash
            expected_position += 1
            checked += 1
        if len(rows) < chunk_size:
            break
        last_position = expected_position - 1  # the last row's, checked above
    unsealed = DecisionRecord.objects.filter(chain_position__isnull=True).count()
    return ChainCheck(True, checked, unsealed)


def decision_log_verify_record() -> ChainCheck:
    """Verify and keep the outcome (ChainVerification), for the audit page's alert."""
    from compliance.models import ChainVerification

    result = decision_log_verify()
    ChainVerification.objects.create(
        ok=result.ok,
        checked=result.checked,
        unsealed=result.unsealed,
        broken_id=result.broken_id,
        problem=result.problem,
    )
    return result
