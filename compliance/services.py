"""Writes of compliance: decisions made and logged."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from compliance.decision_log import decision_log_append
from compliance.facts import ContextRow, facts_gather_in_force
from compliance.models import DecisionRecord
from compliance.policy import CallContext, CallFacts, Decision, decide
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
) -> Decided:
    """Gather the facts (attempt counts included, from the call-history
    provider) under the rule set in force, decide, and log the decision: the
    one path every hand-off and check takes. On PostgreSQL two statements as
    a rule: the facts with the rule set's stamp (and a ContextRow's row), then
    the log's row (`facts_gather_in_force` says when it takes one more).
    Raises compliance.facts.ContextMissing, logging nothing, when a
    ContextRow's row does not exist."""
    facts, rules = facts_gather_in_force(number=number, context=context, at=at)
    decision = decide(facts, rules)
    record = decision_log_append(facts=facts, decision=decision, kind=kind, actor=actor, number=number)
    return Decided(facts=facts, rules=rules, decision=decision, record=record)
