"""The facts of a number are read in one round trip on PostgreSQL and in six
queries elsewhere (the SQLite demo): both paths must read the same facts."""

import datetime as dt

import pytest

from compliance.facts import _stored_facts_one_query, _stored_facts_orm
from compliance.registry.selectors import e164_to_registry_int
from compliance.registry.services import registry_file_import, registry_source_ensure
from consent.services import consent_revoke, suppression_add
from tests.factories import ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 17, 15, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def numbers(tmp_path):
    """A number with everything: consents of each kind (one expiring, one
    revoked), a DNC request, reassignment, national and Texas listings; one
    customer's number with nothing; one erased person's suppressed number;
    one number nobody has."""
    rich = CustomerFactory(
        state="TX", postal_code="78701", last_purchase_at=T0 - dt.timedelta(days=90), last_inquiry_at=T0
    )
    phone = PhoneNumberFactory(customer=rich, number="+15125550101", reassigned_at=T0 - dt.timedelta(days=1))
    ConsentGrantFactory(phone_number=phone, written=True, granted_at=T0 - dt.timedelta(days=10))
    ConsentGrantFactory(
        phone_number=phone,
        purpose="informational",
        written=False,
        granted_at=T0 - dt.timedelta(days=5),
        expires_at=T0 + dt.timedelta(days=30),
    )
    consent_revoke(number="+15125550101", via="sms", by=None, at=T0)
    ConsentGrantFactory(phone_number=phone, written=False, granted_at=T0 + dt.timedelta(seconds=1))
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360101")
    suppression_add(e164="+13055550101", source="erasure", reason="test")
    national, texas = registry_source_ensure(key="national"), registry_source_ensure(key="state:TX")
    (tmp_path / "n.txt").write_text("5125550101\n3055550101\n")
    (tmp_path / "tx.txt").write_text("5125550101\n")
    registry_file_import(source=national, paths=[tmp_path / "n.txt"])
    registry_file_import(source=texas, paths=[tmp_path / "tx.txt"])
    return ["+15125550101", "+12127360101", "+13055550101", "+14155550199"]


@pytest.mark.parametrize("marketing", [True, False])
def test_one_round_trip_reads_what_the_orm_path_reads(numbers, marketing):
    for e164 in numbers:
        as_int = e164_to_registry_int(e164)
        area_code = as_int // 10_000_000 if marketing else None
        one = _stored_facts_one_query(e164, area_code, as_int)
        orm = _stored_facts_orm(e164, area_code, as_int)
        assert one == orm, e164
    rich = _stored_facts_one_query("+15125550101", 512, 5125550101)
    assert len(rich.consents) == 3 and sum(1 for c in rich.consents if c.revoked_at) == 2
    assert rich.listed_in == {"national", "state:TX"} and set(rich.freshness) == {"national", "state:TX"}
    assert rich.dnc_requested_at == T0 and rich.customer.state == "TX"
    assert _stored_facts_one_query("+13055550101", 305, 3055550101).suppressed
