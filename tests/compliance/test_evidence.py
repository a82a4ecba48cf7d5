"""The decision's evidence is one documented, versioned type
(`compliance.evidence`): decide writes only its keys, old rows read as
version 1, SQL over the stored JSON reads only the fields it documents, and
the pages read it through that type."""

import re
import typing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from compliance import evidence as evidence_module
from compliance.evidence import EVIDENCE_VERSION, SQL_FIELDS, Evidence, evidence_read
from compliance.policy import RegistryFact, decide
from tests.compliance.policy_factories import (
    DALLAS,
    MIAMI,
    call_facts,
    context,
    eastern,
    rules,
)

ROOT = Path(__file__).resolve().parents[2]


def documented_keys(typed_dict) -> set[str]:
    return set(typing.get_type_hints(typed_dict))


def assert_documented(evidence: dict) -> None:
    """Every key, nested ones too, is a key of the TypedDict that describes it."""
    assert set(evidence) <= documented_keys(Evidence), set(evidence) - documented_keys(Evidence)
    nested = {
        "zones": evidence_module.ZoneEvidence,
        "registry": evidence_module.RegistryEvidence,
        "caps": evidence_module.CapEvidence,
        "windows": evidence_module.WindowEvidence,
    }
    for key, item_type in nested.items():
        for item in evidence.get(key, []):
            assert set(item) <= documented_keys(item_type), (key, set(item) - documented_keys(item_type))
    assert set(evidence["consent"]) <= documented_keys(evidence_module.ConsentEvidence)
    if "ebr" in evidence:
        assert set(evidence["ebr"]) <= documented_keys(evidence_module.EbrEvidence)
        for event in ("purchase", "inquiry"):
            if event in evidence["ebr"]:
                assert set(evidence["ebr"][event]) <= documented_keys(evidence_module.EbrEventEvidence)
    if "dnc_cooldown" in evidence:
        assert set(evidence["dnc_cooldown"]) <= documented_keys(evidence_module.CooldownEvidence)


def varied_facts():
    at = eastern(2025, 3, 12, 12, 0)
    plain = call_facts(at=at)
    yield plain
    yield call_facts(number=MIAMI, at=at)  # Florida: a cap
    yield call_facts(number=DALLAS, at=at)  # Texas: a state list
    yield replace(
        plain,
        last_purchase_at=at - timedelta(days=30),
        last_inquiry_at=at - timedelta(days=400),
        reassigned_at=at - timedelta(days=2),
        dnc_requested_at=at - timedelta(days=1),
        consents=(),
        registry=(RegistryFact(source="national", listed=True, synced_at=None, sync_id=None),),
    )
    yield replace(
        plain, context=context(window_start=eastern(2025, 3, 12, 13, 0).time(), max_attempts_per_day=1)
    )
    yield replace(plain, candidate_zones=(), number_valid=False)


@pytest.mark.parametrize("facts", list(varied_facts()))
def test_decide_writes_the_current_version_and_only_documented_keys(facts):
    evidence = decide(facts, rules()).evidence
    assert evidence["evidence_version"] == EVIDENCE_VERSION
    assert_documented(evidence)


def test_a_row_logged_before_the_version_existed_reads_as_version_1():
    old = {"ruleset_version": "abc", "at": "2025-03-12T16:00:00+00:00", "zones": [], "states": ["NY"]}
    read = evidence_read(old)
    assert read["evidence_version"] == 1 and read["consent"] == {"needed": None, "ids": []}
    assert "evidence_version" not in old  # the stored row is not touched
    assert evidence_read(None)["zones"] == []
    assert evidence_read({**old, "evidence_version": 2})["evidence_version"] == 2  # issue 18's rnd, litigator
    with pytest.raises(ValueError, match="evidence version 3"):
        evidence_read({**old, "evidence_version": 3})


def test_sql_over_the_evidence_reads_only_the_fields_the_type_documents():
    documented = set(SQL_FIELDS) | {key for keys in SQL_FIELDS.values() for key in keys}
    assert set(SQL_FIELDS) <= documented_keys(Evidence)
    read = set()
    for module in ("campaigns/reports.py", "compliance/reports.py"):
        text = (ROOT / module).read_text()
        read |= set(re.findall(r"evidence\s*->>?\s*'(\w+)'", text))
        read |= set(re.findall(r"json_each\(d\.evidence,\s*'\$\.(\w+)'\)", text))
        read |= set(re.findall(r"\b(?:w|z|own)\s*->>?\s*'(\w+)'", text))
        read |= set(re.findall(r"json_extract\((?:w|z|own)\.value,\s*'\$\.(\w+)'\)", text))
    assert read and read <= documented, read - documented
