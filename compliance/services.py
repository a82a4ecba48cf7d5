"""Writes of compliance: decisions made and logged."""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from compliance.decision_log import decision_log_append
from compliance.facts import ContextRow, facts_gather_in_force
from compliance.models import DecisionRecord
from compliance.policy import CallContext, CallFacts, Decision, decide
from compliance.registry.litigator import litigator_review_flag
from compliance.rules import RuleSet
from core.prepared import Bound


@dataclass(frozen=True)
class Decided:
    facts: CallFacts
    rules: RuleSet
    decision: Decision
    record: DecisionRecord


def decision_make(
    *,
    number: str,
    context: CallContext | ContextRow,
    at: datetime,
    kind: str,
    actor,
    unless: Bound[Any] | None = None,
) -> Decided:
    """Gather the facts (attempt counts included, from the call-history
    provider) under the rule set in force, decide, and log the decision: the
    one path every hand-off and check takes. On PostgreSQL two statements:
    the facts with the rule set's stamp (and a ContextRow's row), then the
    log's row. Raises, logging nothing, compliance.facts.ContextMissing when a
    ContextRow's row does not exist, and compliance.facts.Withheld when the
    caller's `unless` rows exist as the facts are read (a hand-off's number
    already on another agent's screen).

    One transaction (a savepoint in the caller's) holds whatever it writes
    together. On PostgreSQL the facts are one statement, read at READ
    COMMITTED in a transaction or out of one alike, so the transaction holds
    the writes only, and only when there are two (the log's row and a
    litigator flag): a lone INSERT is its own transaction, and a check saves
    a BEGIN and a COMMIT round trip (a hand-off a savepoint's). The portable
    path reads in several queries: there the transaction holds them too."""
    reads_in_one_statement = connection.vendor == "postgresql"
    with nullcontext() if reads_in_one_statement else transaction.atomic():
        facts, rules = facts_gather_in_force(number=number, context=context, at=at, unless=unless)
        decision = decide(facts, rules)
        flag = _litigator_flag(facts, decision)
        with transaction.atomic() if flag else nullcontext():
            record = decision_log_append(
                facts=facts, decision=decision, kind=kind, actor=actor, number=number
            )
            if flag:
                flagged_number, synced_at = flag
                litigator_review_flag(
                    number=flagged_number, synced_at=synced_at, decision_id=record.pk, at=at
                )
    return Decided(facts=facts, rules=rules, decision=decision, record=record)


def _litigator_flag(facts: CallFacts, decision: Decision) -> tuple[str, datetime | None] | None:
    """The number and its list's sync time when the campaign flags this
    litigator-listed number: the call goes ahead and a compliance officer
    reviews the number (once)."""
    litigator = decision.evidence.get("litigator")
    if not (decision.allowed and litigator and litigator["flagged"] and facts.e164):
        return None
    synced_at = litigator["synced_at"]
    return facts.e164, datetime.fromisoformat(synced_at) if synced_at else None
