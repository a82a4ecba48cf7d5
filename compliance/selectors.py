"""Reads of compliance: the rule set in force, decisions."""

import threading

from django.db.models import Count, Max

from compliance.models import DecisionRecord, JurisdictionRule
from compliance.rules import RuleSet, ruleset_build

_cache_lock = threading.Lock()
_cached: tuple[tuple, RuleSet] | None = None


def ruleset_current() -> RuleSet:
    """The rule set stored in the database, parsed once per change: one
    cheap query per call tells whether a compliance officer changed a rule."""
    global _cached
    stamp = JurisdictionRule.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    key = (stamp["n"], stamp["changed"], stamp["top"])
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _cache_lock:
        rules = ruleset_build(
            rule.to_record() for rule in JurisdictionRule.objects.order_by("jurisdiction", "effective_from")
        )
        _cached = (key, rules)
    return rules


def decision_get(*, decision_id: int) -> DecisionRecord | None:
    return DecisionRecord.objects.select_related("actor").filter(pk=decision_id).first()
