import hashlib

import pytest
from django.db import connection

from compliance.registry.formats import registry_files_checksum
from compliance.registry.models import SyncRun
from compliance.registry.selectors import (
    RegistryInt,
    e164_to_registry_int,
    registry_freshness,
    registry_listed_count,
    registry_listed_filter,
    registry_listings,
    sync_run_get_succeeded,
)
from compliance.registry.services import registry_file_import, registry_source_ensure, sync_run_record_skipped
from customers.models import PhoneNumber
from tests.factories import PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+13055550123", 3055550123),
        ("+12125550000", 2125550000),
        ("+441632960000", None),  # not NANP
        ("+10555550123", None),  # area code starting with 0
        ("+13051550123", None),  # exchange starting with 1
        ("+1305555012", None),
        ("3055550123", None),  # not E.164
        ("", None),
    ],
)
def test_e164_to_registry_int(e164, expected):
    assert e164_to_registry_int(e164) == expected


@pytest.fixture
def listed(national, florida, write):
    """National lists 212-555-0000/1 and 305-555-0000; Florida lists 305-555-0000/1."""
    runs = {
        "national": registry_file_import(
            source=national, paths=[write("n.txt", [2125550000, 2125550001, 3055550000])]
        ),
        "state:FL": registry_file_import(source=florida, paths=[write("fl.txt", [3055550000, 3055550001])]),
    }
    return runs


def test_listings_name_every_source_listing_each_number(listed, django_assert_num_queries):
    with django_assert_num_queries(1):
        listings = registry_listings(numbers=[3055550000, 3055550001, 2125550000, 4155550000])
    assert listings == {
        3055550000: {"national", "state:FL"},
        3055550001: {"state:FL"},
        2125550000: {"national"},
    }
    assert registry_listings(numbers=[]) == {}


def test_freshness_per_source_and_area_code(listed, django_assert_num_queries):
    with django_assert_num_queries(1):
        freshness = registry_freshness(area_codes=[305, 212, 415])
    national, florida = listed["national"], listed["state:FL"]
    assert freshness == {
        ("national", 305): (national.started_at, national.pk),
        ("national", 212): (national.started_at, national.pk),
        ("state:FL", 305): (florida.started_at, florida.pk),
    }


def test_scrub_filter_counts_listed_and_unlisted_numbers_in_one_query(listed, django_assert_num_queries):
    for number in ["+13055550000", "+13055550001", "+12125550001", "+14155550000", "+12125550099"]:
        PhoneNumberFactory(number=number)
    phones = PhoneNumber.objects.all()
    number = RegistryInt("number")
    with django_assert_num_queries(1):
        assert registry_listed_filter(queryset=phones, number=number).count() == 3
    assert registry_listed_filter(queryset=phones, number=number, listed=False).count() == 2
    national_only = registry_listed_filter(queryset=phones, number=number, sources=["national"])
    assert sorted(str(p.number) for p in national_only) == ["+12125550001", "+13055550000"]
    assert registry_listed_filter(queryset=phones, number=number, sources=["state:TX"]).count() == 0


def test_scrub_count_over_sql(listed):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scrub_batch (number bigint)")
        cursor.executemany(
            "INSERT INTO scrub_batch VALUES (%s)", [(n,) for n in (3055550000, 3055550001, 2125550009)]
        )
    assert registry_listed_count(numbers_sql="SELECT number FROM scrub_batch") == 2
    assert registry_listed_count(numbers_sql="SELECT number FROM scrub_batch", sources=["national"]) == 1
    assert registry_listed_count(numbers_sql="SELECT number FROM scrub_batch", sources=["state:TX"]) == 0
    assert (
        registry_listed_count(
            numbers_sql="SELECT number FROM scrub_batch WHERE number > %s", params=[3055550000]
        )
        == 1
    )


def test_a_file_already_imported_is_found_by_its_checksum(national, florida, write):
    path = write("n.txt", [2125550000])
    checksum = registry_files_checksum(paths=[path])
    assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sync_run_get_succeeded(source=national, checksum=checksum) is None

    run = registry_file_import(source=national, paths=[path])
    assert sync_run_get_succeeded(source=national, checksum=checksum) == run
    assert sync_run_get_succeeded(source=florida, checksum=checksum) is None

    skipped = sync_run_record_skipped(source=national, paths=[path], previous=run)
    assert skipped.status == SyncRun.Status.SKIPPED
    assert str(run.pk) in skipped.note
    assert sync_run_get_succeeded(source=national, checksum=checksum) == run


def test_a_failed_import_is_not_a_match(national, write):
    bad = write("bad.txt", ["2125550000", "oops"])
    with pytest.raises(Exception):  # noqa: B017 - the file error, tested elsewhere
        registry_file_import(source=national, paths=[bad])
    assert sync_run_get_succeeded(source=national, checksum=registry_files_checksum(paths=[bad])) is None


def test_source_keys():
    national = registry_source_ensure(key="national")
    texas = registry_source_ensure(key="state:tx")
    assert (national.key, texas.key, texas.state) == ("national", "state:TX", "TX")
    assert registry_source_ensure(key="state:TX") == texas
    assert texas.history.count() == 1
    for bad in ["federal", "state:", "state:TEX", "state:1A"]:
        with pytest.raises(ValueError, match="national"):
            registry_source_ensure(key=bad)
