"""Writes of compliance: decisions made and logged."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from compliance.decision_log import decision_log_append
from compliance.facts import facts_gather
from compliance.models import DecisionRecord
from compliance.policy import CallContext, CallFacts, Decision, decide
from compliance.rules import RuleSet
from compliance.selectors import ruleset_current


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
    context: CallContext,
    at: datetime,
    kind: str,
    actor,
) -> Decided:
    """Gather the facts (attempt counts included, from the call-history
    provider), decide, and log the decision: the one path every hand-off and
    check takes."""
    rules = ruleset_current()
    facts = facts_gather(number=number, context=context, at=at, rules=rules)
    decision = decide(facts, rules)
    record = decision_log_append(facts=facts, decision=decision, kind=kind, actor=actor, number=number)
    return Decided(facts=facts, rules=rules, decision=decision, record=record)
