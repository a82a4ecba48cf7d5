"""A litigator list is a registry source of its own (issue 18, DESIGN.md "DNC
registry files": `dnc_import --source litigator`, same layouts, shrink guard
too). It is never read as a do-not-call listing: a number only a litigator
list holds is not "on the National DNC Registry"."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from compliance.registry.models import AreaCodeSync, RegistrySource, ShrinkHold
from compliance.registry.sources import (
    LITIGATOR_KEY,
    source_describe,
    source_key_of,
    source_key_parse,
    source_kind_parse,
)
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.registry.conftest import numbers_of, registry_snapshot

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-17 15:00 UTC = 10:00 in New York.
WEEKDAY_MORNING_NY = "2026-11-17T15:00:00+00:00"


def dnc_import(*args) -> str:
    out = io.StringIO()
    call_command("dnc_import", *map(str, args), stdout=out)
    return out.getvalue()


def test_keys_name_the_litigator_list_apart_from_the_registries():
    assert source_kind_parse("litigator") == ("litigator", "")
    assert source_kind_parse("state:fl") == ("state", "FL")
    assert source_kind_parse("national") == ("national", "")
    assert source_key_of("litigator", "") == LITIGATOR_KEY
    assert source_describe("litigator") == "the litigator list"
    with pytest.raises(ValueError, match="is not a registry source"):
        source_key_parse("litigator")
    with pytest.raises(ValueError, match="not a kind"):
        source_key_of("lawyers", "")  # an unknown kind is never read as national


def test_full_file_and_change_list_load_a_litigator_source(write):
    output = dnc_import("--source", "litigator", write("lit.txt", [2125550000, "305,5550000"]))
    litigator = RegistrySource.objects.get(kind="litigator")
    assert litigator.key == "litigator" and litigator.state == "" and litigator.name == "Litigator list"
    assert numbers_of(litigator) == {2125550000, 3055550000}
    assert "2 added, 0 removed, 2 area code(s)" in output
    assert set(AreaCodeSync.objects.filter(source=litigator).values_list("area_code", flat=True)) == {
        212,
        305,
    }

    dnc_import("--source", "litigator", "--change-list", write("c.txt", ["2125550000,2026-11-01,D"]))
    assert numbers_of(litigator) == {3055550000}


def test_a_bad_litigator_line_changes_nothing(write):
    dnc_import("--source", "litigator", write("lit.txt", [2125550000]))
    before = registry_snapshot()
    with pytest.raises(CommandError, match="line 2"):
        dnc_import("--source", "litigator", write("bad.txt", [2125550001, "2125"]))
    assert registry_snapshot() == before


def test_the_shrink_guard_holds_a_litigator_full_file_too(write, settings, tmp_path):
    settings.REGISTRY_INBOX_ROOT = tmp_path / "inbox"
    settings.REGISTRY_SHRINK_LIMIT, settings.REGISTRY_SHRINK_FLOOR = 0.20, 1000
    dnc_import("--source", "litigator", write("full.txt", [2125550000 + i for i in range(1200)]))
    before = registry_snapshot()
    with pytest.raises(CommandError) as held:
        dnc_import("--source", "litigator", write("half.txt", [2125550000]))
    assert held.value.returncode == 3 and "Held for approval" in str(held.value)
    assert registry_snapshot() == before
    assert ShrinkHold.objects.get().source.key == "litigator"


def test_a_number_only_on_a_litigator_list_is_not_on_the_national_registry(write, manager):
    """Before litigator sources had a kind of their own, a listing of any
    source that was not a state's was read as the national registry's."""
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360001"
    )
    ConsentGrantFactory(phone_number=phone, purpose="informational")
    dnc_import("--source", "national", write("national.txt", [2125550000]))  # 212 synced, not listed
    dnc_import("--source", "litigator", write("lit.txt", [2127360001]))
    campaign = CampaignFactory(purpose="marketing", dialing_mode="manual")
    client = APIClient()
    client.force_authenticate(manager)
    body = client.post(
        "/api/v1/compliance/check/",
        {"phone_number": "+12127360001", "campaign": campaign.pk, "at": WEEKDAY_MORNING_NY},
        format="json",
    ).json()
    assert "dnc_national" not in body["reasons"], body
    national = [entry for entry in body["evidence"]["registry"] if entry["source"] == "national"]
    assert national and national[0]["listed"] is False, body["evidence"]["registry"]
