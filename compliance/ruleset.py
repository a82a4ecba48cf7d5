"""The rule set in force, parsed once per change of the rules.

The database keeps a stamp that every change to the rule table moves, in the
change's own transaction (compliance.models.RuleSetStamp, migration 0010).
A decision reads it inside its facts query (`STAMP_SQL`, compliance.facts)
and asks `ruleset_for` for the rules of that value: parsed once per value per
process, so knowing whether a compliance officer changed a rule costs no
query of its own, and a change is seen by the very next decision.

Without a stamp (a backend with no trigger for it) or without any rule,
nothing is kept: the rules are read and parsed again on every call, and
missing rules block every call as they always did (compliance.policy).
"""

import threading

from django.db.models import Subquery

from compliance.models import JurisdictionRule, RuleSetStamp
from compliance.rules import RuleSet, ruleset_build

STAMP_SQL = f"(SELECT version FROM {RuleSetStamp._meta.db_table} WHERE id = 1)"

_lock = threading.Lock()
_parsed: tuple[int, RuleSet] | None = None  # (stamp, its rule set)


def ruleset_current() -> RuleSet:
    """The rule set in force: one query for the stamp, and the rules only
    when it moved. Decisions read the stamp in their facts query instead."""
    return ruleset_for(RuleSetStamp.objects.filter(pk=1).values_list("version", flat=True).first())


def ruleset_for(stamp: int | None) -> RuleSet:
    """The rule set of stamp value `stamp`, as read by a query: from memory
    when this process parsed it last, else read (with the stamp, in one query)
    and parsed. The rules read may be newer than `stamp` when a rule changed
    in between; they are then kept under the stamp read with them."""
    global _parsed
    parsed = _parsed
    if stamp is not None and parsed is not None and parsed[0] == stamp:
        return parsed[1]
    with _lock:
        parsed = _parsed
        if stamp is not None and parsed is not None and parsed[0] == stamp:
            return parsed[1]  # parsed by another thread meanwhile
        rows = list(
            JurisdictionRule.objects.annotate(
                stamp=Subquery(RuleSetStamp.objects.filter(pk=1).values("version"))
            ).order_by("jurisdiction", "effective_from")
        )
        rules = ruleset_build(row.to_record() for row in rows)
        read_with = rows[0].stamp if rows else None
        if read_with is not None:
            _parsed = (read_with, rules)
    return rules
