"""The rule data file encodes REGULATIONS.md; the loader validates records
the way the admin form needs. Pure: no database."""

from datetime import date, time

import pytest

from compliance.rules import (
    RECORD_KEYS,
    RULES_FILE,
    RuleError,
    rule_from_record,
    rule_records_from_toml,
    ruleset_build,
    ruleset_from_file,
)

MON, SAT, SUN = 0, 5, 6


def window(text):
    start, end = text.split("-")
    return (time.fromisoformat(start), time.fromisoformat(end))


@pytest.fixture(scope="module")
def records():
    return rule_records_from_toml()


@pytest.fixture(scope="module")
def by_jurisdiction(records):
    rules = [rule_from_record(record) for record in records]
    assert len({rule.jurisdiction for rule in rules}) == len(rules), (
        "one row per jurisdiction in the seed file"
    )
    return {rule.jurisdiction: rule for rule in rules}


# (jurisdiction, applies_to, Mon-Fri, Saturday, Sunday, holiday_ban, cap, certainty) from REGULATIONS.md
TABLE = [
    ("US", "all", "08:00-21:00", "08:00-21:00", "08:00-21:00", "none", None, "P"),
    ("FL", "marketing", "08:00-20:00", "08:00-20:00", "08:00-20:00", "none", 3, "P"),
    ("OK", "marketing", "08:00-20:00", "08:00-20:00", "08:00-20:00", "none", 3, "S"),
    ("MD", "marketing", "08:00-20:00", "08:00-20:00", "08:00-20:00", "none", 3, "S"),
    ("CT", "marketing", "09:00-20:00", "09:00-20:00", "09:00-20:00", "none", None, "S"),
    ("WA", "marketing", "08:00-20:00", "08:00-20:00", "08:00-20:00", "none", None, "P"),
    ("UT", "marketing", "08:00-21:00", "08:00-21:00", None, "without_consent", None, "P"),
    ("RI", "marketing", "09:00-18:00", "10:00-17:00", None, "all", None, "P"),
    ("MS", "marketing", "08:00-20:00", "08:00-20:00", None, "none", None, "P"),
    ("AL", "automated", "08:00-20:00", "08:00-20:00", None, "all", None, "P"),
    ("PA", "marketing", "08:00-21:00", "08:00-21:00", "08:00-21:00", "all", None, "?"),
    ("TX", "marketing", "09:00-21:00", "09:00-21:00", "12:00-21:00", "none", None, "?"),
    ("LA", "marketing", "08:00-20:00", "08:00-20:00", "08:00-20:00", "none", None, "?"),
    ("KY", "automated", "08:00-21:00", "08:00-21:00", "08:00-21:00", "none", None, "P"),
]


@pytest.mark.parametrize(
    ("jurisdiction", "applies_to", "weekday", "saturday", "sunday", "holiday_ban", "cap", "certainty"), TABLE
)
def test_the_rule_data_encodes_regulations_md(
    by_jurisdiction, jurisdiction, applies_to, weekday, saturday, sunday, holiday_ban, cap, certainty
):
    rule = by_jurisdiction[jurisdiction]
    assert rule.applies_to == applies_to
    assert rule.windows[MON] == window(weekday)
    assert rule.windows[SAT] == window(saturday)
    assert rule.windows[SUN] == (window(sunday) if sunday else None)
    assert rule.holiday_ban == holiday_ban
    assert rule.cap_per_24h == cap
    assert rule.certainty == certainty
    assert rule.citation


def test_every_jurisdiction_of_regulations_md_and_no_other(by_jurisdiction):
    assert set(by_jurisdiction) == {row[0] for row in TABLE}


def test_federal_row_carries_registry_age_and_ebr(by_jurisdiction):
    federal = by_jurisdiction["US"]
    assert (federal.dnc_list_max_age_days, federal.ebr_purchase_months, federal.ebr_inquiry_months) == (
        31,
        18,
        3,
    )
    assert all(
        rule.ebr_purchase_months == rule.ebr_inquiry_months == 0
        for j, rule in by_jurisdiction.items()
        if j != "US"
    )


def test_state_specials(by_jurisdiction):
    assert by_jurisdiction["CT"].written_consent_for_sales
    assert not any(rule.written_consent_for_sales for j, rule in by_jurisdiction.items() if j != "CT")
    assert by_jurisdiction["WA"].dnc_request_cooldown_days == 365
    assert by_jurisdiction["FL"].effective_from == date(2021, 7, 1)
    assert by_jurisdiction["OK"].effective_from == date(2022, 11, 1)
    assert by_jurisdiction["MD"].effective_from == date(2024, 1, 1)
    assert by_jurisdiction["CT"].effective_from == date(2023, 10, 1)
    assert by_jurisdiction["PA"].effective_from == date(2019, 12, 3)


def test_state_dnc_lists_are_marked_uncertain(by_jurisdiction):
    lists = {j: rule.dnc_list_max_age_days for j, rule in by_jurisdiction.items() if rule.own_dnc_list}
    assert lists == {"LA": 31, "TX": 92, "PA": 92}
    for jurisdiction in lists:
        assert by_jurisdiction[jurisdiction].certainty == "?"
        assert by_jurisdiction[jurisdiction].note


def test_records_are_flat_with_defaults_filled(records):
    for record in records:
        assert tuple(record) == RECORD_KEYS
        assert type(record["effective_from"]) is date
        assert record["saturday_window"] and record["sunday_window"]
        assert all(not isinstance(value, dict | list) for value in record.values())
    florida = next(record for record in records if record["jurisdiction"] == "FL")
    assert florida["saturday_window"] == florida["sunday_window"] == "08:00-20:00"
    assert florida["effective_to"] is None and florida["note"]


def test_a_record_round_trips_through_the_rule(records):
    for record in records:
        assert rule_from_record(record).to_record() == record


def test_the_version_is_stable_and_order_independent(records):
    first = ruleset_build(records)
    assert first.version == ruleset_build(list(reversed(records))).version == ruleset_from_file().version
    assert len(first.version) == 16
    # As the database hands them back: same values, other spellings of defaults.
    from_db = [dict(record, note=record["note"] or None) for record in records]
    assert ruleset_build(from_db).version == first.version
    changed = [
        dict(record, cap_per_24h=4) if record["jurisdiction"] == "FL" else record for record in records
    ]
    assert ruleset_build(changed).version != first.version


def test_rules_are_found_by_jurisdiction_and_local_date():
    rules = ruleset_from_file()
    assert rules.state_rules("FL", date(2021, 6, 30)) == ()
    assert [rule.jurisdiction for rule in rules.state_rules("FL", date(2021, 7, 1))] == ["FL"]
    assert rules.state_rules("NY", date(2025, 1, 1)) == ()
    assert rules.federal_rule(date(2025, 1, 1)).jurisdiction == "US"
    assert rules.federal_rule(date(1990, 1, 1)) is None


def test_effective_to_is_exclusive():
    record = {**_valid(), "effective_from": date(2024, 1, 1), "effective_to": date(2025, 1, 1)}
    rules = ruleset_build([record])
    assert rules.state_rules("FL", date(2024, 12, 31))
    assert rules.state_rules("FL", date(2025, 1, 1)) == ()


def _valid(**changes):
    record = {
        "jurisdiction": "FL",
        "effective_from": date(2021, 7, 1),
        "applies_to": "marketing",
        "weekday_window": "08:00-20:00",
        "citation": "Fla. Stat. 501.616(6)",
        "certainty": "P",
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weekday_window": "8-20"}, "weekday_window"),
        ({"weekday_window": "20:00-08:00"}, "weekday_window"),
        ({"weekday_window": "08:00-24:00"}, "weekday_window"),
        ({"weekday_window": "closed", "holiday_ban": "without_consent"}, "weekday_window"),
        ({"saturday_window": "10:00-10:00"}, "saturday_window"),
        ({"sunday_window": "noon"}, "sunday_window"),
        ({"jurisdiction": "XX"}, "jurisdiction"),
        ({"jurisdiction": None}, "jurisdiction"),
        ({"applies_to": "sales"}, "applies_to"),
        ({"holiday_ban": "some"}, "holiday_ban"),
        ({"certainty": "maybe"}, "certainty"),
        ({"cap_per_24h": 0}, "cap_per_24h"),
        ({"cap_per_24h": "3"}, "cap_per_24h"),
        ({"dnc_request_cooldown_days": -1}, "dnc_request_cooldown_days"),
        ({"dnc_list_max_age_days": 0}, "dnc_list_max_age_days"),
        ({"own_dnc_list": "yes"}, "own_dnc_list"),
        ({"effective_from": None}, "effective_from"),
        ({"effective_from": "2021-13-01"}, "effective_from"),
        ({"effective_to": date(2021, 7, 1)}, "effective_to"),
        ({"citation": " "}, "citation"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field(changes, field):
    with pytest.raises(RuleError) as raised:
        rule_from_record(_valid(**changes))
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")
    assert isinstance(raised.value, ValueError)


def test_a_minimal_record_gets_the_defaults():
    rule = rule_from_record(_valid(jurisdiction="fl", effective_from="2021-07-01"))
    assert rule.jurisdiction == "FL" and rule.effective_from == date(2021, 7, 1)
    assert rule.windows == (window("08:00-20:00"),) * 7
    assert (rule.holiday_ban, rule.cap_per_24h, rule.dnc_list_max_age_days, rule.note) == (
        "none",
        None,
        31,
        "",
    )


def test_the_file_loader_refuses_unknown_keys_and_bad_values(tmp_path):
    typo = tmp_path / "typo.toml"
    typo.write_text(
        '[[rule]]\njurisdiction = "FL"\neffective_from = 2021-07-01\napplies_to = "marketing"\n'
        'weekday_window = "08:00-20:00"\ncitation = "x"\ncertainty = "P"\ncap_per_day = 3\n'
    )
    with pytest.raises(ValueError, match="cap_per_day"):
        rule_records_from_toml(typo)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[rule]]\njurisdiction = "FL"\neffective_from = 2021-07-01\napplies_to = "marketing"\n'
        'weekday_window = "08:00-2000"\ncitation = "x"\ncertainty = "P"\n'
    )
    with pytest.raises(ValueError, match="weekday_window"):
        rule_records_from_toml(bad)


def test_the_rules_file_is_where_the_model_says():
    assert RULES_FILE.name == "rules.toml" and RULES_FILE.exists()
