"""One truth per rule (STYLE.md): a helper, a constant or a check written
once, in the module that owns it, and used everywhere else. These tests read
the application's source: a second spelling fails them."""

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from compliance.policy import decide
from compliance.registry.sources import source_describe, source_key, source_key_parse
from core.history import history_user
from tests.compliance.policy_factories import call_facts, rules
from tests.factories import CampaignFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "campaigns", "compliance", "config", "consent", "core", "customers", "helpdesk")


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text()


def where(predicate) -> list[str]:
    return [name for name, text in app_sources() if predicate(text)]


def string_constants(text: str) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_the_acting_user_is_worked_out_by_one_helper(db):
    user = UserFactory()
    assert history_user(user) is user
    assert history_user(AnonymousUser()) is None
    assert history_user(None) is None
    assert where(lambda text: 'is_authenticated", False)' in text) == ["core/history.py"]


def test_a_campaign_is_active_by_one_check_that_the_dialer_and_decide_share():
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    campaign = CampaignFactory.build(status="active", starts_at=start, ends_at=end)
    for status in ("active", "paused", "draft"):
        campaign.status = status
        for at in (start - timedelta(seconds=1), start, end - timedelta(seconds=1), end):
            facts = call_facts(at=at)
            facts = replace(
                facts,
                context=replace(
                    facts.context, campaign_status=status, campaign_starts_at=start, campaign_ends_at=end
                ),
            )
            blocked = "campaign_inactive" in decide(facts, rules()).reasons
            assert campaign.active_at(at) is not blocked, (status, at)
            assert campaign.active_at(at) is (status == "active" and start <= at < end)
    # Nothing else compares a campaign's dates: callers ask Campaign.active_at.
    assert (
        where(lambda text: any(name in {"starts_at", "ends_at"} for name in compared_attributes(text))) == []
    )


def compared_attributes(text: str) -> list[str]:
    return [
        operand.attr
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Compare)
        for operand in (node.left, *node.comparators)
        if isinstance(operand, ast.Attribute)
    ]


def test_registry_source_keys_are_spelled_in_one_module():
    def spells_a_source_key(text: str) -> bool:
        return any(value == "national" or value.startswith("state:") for value in string_constants(text))

    # registry/models.py names the `kind` column's value "national" (a column, not a key).
    assert where(spells_a_source_key) == ["compliance/registry/models.py", "compliance/registry/sources.py"]
    assert source_key(state=None) == "national" and source_key(state="FL") == "state:FL"
    assert source_key_parse("state:fl") == "FL" and source_key_parse("national") is None
    assert source_describe("state:TX") == "the TX state do-not-call list"
    with pytest.raises(ValueError, match="not a registry source"):
        source_key_parse("county:XX")


def test_registry_max_age_is_read_from_the_rule_set_in_one_place():
    def reads_the_limit(text: str) -> bool:
        return any(
            isinstance(node, ast.Attribute) and node.attr == "dnc_list_max_age_days"
            for node in ast.walk(ast.parse(text))
        )

    # The engine's registry_max_age_days, and the rules module that parses the field.
    assert where(reads_the_limit) == ["compliance/policy.py", "compliance/rules/__init__.py"]
    # No page, report or task keeps a number of days of its own for it.
    assert where(lambda text: "timedelta(days=31)" in text or "timedelta(days=25)" in text) == []
