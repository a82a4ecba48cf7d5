"""Writes of compliance: decisions made and logged."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from compliance.decision_log import decision_log_append
from compliance.facts import ContextRow, facts_gather_in_force
from compliance.models import DecisionRecord
from compliance.policy import CallContext, CallFacts, Decision, decide
from compliance.registry.litigator import litigator_review_flag
from compliance.rules import RuleSet


@dataclass(frozen=True)
class Decided:
    facts: CallFacts
    rules: RuleSet
    decision: Decision
    record: DecisionRecord


@transaction.atomic
def decision_make(
    *,
    number: str,
    context: CallContext | ContextRow,
    at: datetime,
    kind: str,
    actor,
    unless: QuerySet[Any] | None = None,
) -> Decided:
    """Gather the facts (attempt counts included, from the call-history
    provider) under the rule set in force, decide, and log the decision: the
    one path every hand-off and check takes. On PostgreSQL two statements:
    the facts with the rule set's stamp (and a ContextRow's row), then the
    log's row. Raises, logging nothing, compliance.facts.ContextMissing when a
    ContextRow's row does not exist, and compliance.facts.Withheld when the
    caller's `unless` rows exist as the facts are read (a hand-off's number
    already on another agent's screen)."""
    facts, rules = facts_gather_in_force(number=number, context=context, at=at, unless=unless)
    decision = decide(facts, rules)
    record = decision_log_append(facts=facts, decision=decision, kind=kind, actor=actor, number=number)
    litigator = decision.evidence.get("litigator")
    if decision.allowed and litigator and litigator["flagged"] and facts.e164:
        # The campaign flags litigator-listed numbers: the call goes ahead and
        # a compliance officer reviews the number (once).
        litigator_review_flag(
            number=facts.e164,
            synced_at=datetime.fromisoformat(litigator["synced_at"]) if litigator["synced_at"] else None,
            decision_id=record.pk,
            at=at,
        )
    return Decided(facts=facts, rules=rules, decision=decision, record=record)
