"""Litigator screening through a provider's adapter (issue 18): one
interface, a recorded adapter; a screen applies the answer to the litigator
source as a change list (matched numbers listed, others unlisted) and keeps
only the level, provider and date of each match; a bad provider file
changes nothing and names its line; the decision reads the listing as it
reads a file's."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from compliance.registry.litigator_adapters import (
    LitigatorAdapterError,
    RecordedLitigatorAdapter,
    litigator_screen,
)
from compliance.registry.models import LitigatorListing, RegistrySource, SyncRun
from consent.services import number_hash
from tests.factories import CustomerFactory, PhoneNumberFactory
from tests.registry.conftest import numbers_of

pytestmark = pytest.mark.django_db

RECORDED = "phone_number,level,listed_on\n+12127360001,serial filer,2025-06-01\n(305) 555-0142,litigator,\n"


def test_the_recorded_adapter_answers_only_for_its_numbers():
    adapter = RecordedLitigatorAdapter.from_text(RECORDED)
    matches = adapter.query(["+12127360001", "+12127360002", "+13055550142"])
    assert [(m.number, m.level, m.listed_on) for m in matches] == [
        ("+12127360001", "serial filer", date(2025, 6, 1)),
        ("+13055550142", "litigator", None),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("number,level\n", "line 1"),
        ("phone_number,level,listed_on\n+12127360001,,2025-06-01\n", "line 2"),
        ("phone_number,level,listed_on\n+12127360001,x,2025-06-01\ncall me,x,\n", "line 3"),
        ("phone_number,level,listed_on\n+12127360001,x,June\n", "line 2"),
    ],
)
def test_a_bad_provider_file_is_refused_naming_its_line(text, line):
    with pytest.raises(LitigatorAdapterError, match=line):
        RecordedLitigatorAdapter.from_text(text)


def test_a_screen_lists_matches_unlists_the_rest_and_keeps_level_provider_date():
    adapter = RecordedLitigatorAdapter.from_text(RECORDED)
    first = litigator_screen(numbers=["+12127360001", "+12127360002"], adapter=adapter)
    source = RegistrySource.objects.get(kind="litigator")
    assert (first.asked, first.matched) == (2, 1)
    assert numbers_of(source) == {2127360001}
    assert first.run is not None and first.run.kind == SyncRun.Kind.CHANGE_LIST
    listing = LitigatorListing.objects.get(number_hash=number_hash("+12127360001"))
    assert (listing.level, listing.provider, listing.listed_on) == (
        "serial filer",
        "recorded",
        date(2025, 6, 1),
    )

    cleared = litigator_screen(numbers=["+12127360001"], adapter=RecordedLitigatorAdapter({}))
    assert cleared.matched == 0 and numbers_of(source) == set()
    assert not LitigatorListing.objects.exists()

    again = litigator_screen(numbers=["+12127360002"], adapter=adapter)
    assert again.run is None  # nothing to change: no sync run


def test_the_command_screens_customer_numbers_and_refuses_without_a_provider(settings, tmp_path):
    PhoneNumberFactory(customer=CustomerFactory(), number="+12127360001")
    PhoneNumberFactory(customer=CustomerFactory(), number="+12127360009")
    with pytest.raises(CommandError, match="No litigator provider"):
        call_command("litigator_screen", stdout=io.StringIO())
    recorded = tmp_path / "recorded.csv"
    recorded.write_text(RECORDED)
    settings.LITIGATOR_ADAPTER, settings.LITIGATOR_RECORDED_FILE = "recorded", str(recorded)
    out = io.StringIO()
    call_command("litigator_screen", stdout=out)
    assert "Screened 2 number(s) with recorded: 1 on a litigator list." in out.getvalue()
    bad = tmp_path / "numbers.txt"
    bad.write_text("+12127360001\nnot a number\n")
    with pytest.raises(CommandError, match="line 2"):
        call_command("litigator_screen", "--numbers", str(bad), stdout=io.StringIO())
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("litigator_screen", "--numbers", str(tmp_path / "missing.txt"), stdout=io.StringIO())
