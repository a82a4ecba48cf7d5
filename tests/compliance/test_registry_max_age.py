"""Each registry source's maximum age is read from the rule set by one
function, for decisions and pages alike."""

from dataclasses import replace
from datetime import date, timedelta

from compliance import policy
from compliance.policy import decide, registry_max_age_days
from compliance.rules import rule_records_from_toml, ruleset_build
from tests.compliance.policy_factories import DALLAS, call_facts, eastern, rules

TODAY = (date(2025, 3, 12),)


def test_the_national_registry_takes_the_federal_rule_and_a_state_list_its_own():
    assert registry_max_age_days(rules(), source="national", dates=TODAY) == 31
    assert registry_max_age_days(rules(), source="state:TX", dates=TODAY) == 92
    assert registry_max_age_days(rules(), source="state:LA", dates=TODAY) == 31
    assert (
        registry_max_age_days(rules(), source="state:FL", dates=TODAY) is None
    )  # Florida keeps no list here


def test_an_edited_limit_is_the_one_the_decision_applies():
    records = [
        {**record, "dnc_list_max_age_days": 30} if record["jurisdiction"] == "US" else record
        for record in rule_records_from_toml()
    ]
    edited = ruleset_build(records)
    assert registry_max_age_days(edited, source="national", dates=TODAY) == 30
    at = eastern(2025, 3, 12, 12, 0)
    facts = call_facts(at=at, consents=())
    old = tuple(replace(fact, synced_at=at - timedelta(days=30)) for fact in facts.registry)
    facts = replace(facts, registry=old)  # 30 days old, to the second
    assert "dnc_data_stale" not in decide(facts, edited).reasons
    late = replace(facts, at=at.replace(second=1))
    assert "dnc_data_stale" in decide(late, edited).reasons
    assert [entry["max_age_days"] for entry in decide(late, edited).evidence["registry"]] == [30]


def test_a_call_to_a_state_with_its_own_list_reuses_its_rules_plan():
    policy._plans.clear()
    decide(call_facts(number=DALLAS), rules())
    assert all(isinstance(key, tuple) for key in policy._plans)  # memoised under the plan's own key
    assert len(policy._plans) == 1
