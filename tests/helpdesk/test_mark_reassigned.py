"""Marking a number reassigned from the customer page (issue 18): agents and
compliance officers, with a reason; the number's history keeps who and why;
the very next decision treats every earlier consent as void; the page shows
the number's RND answers and says what a litigator listing means."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from compliance.rnd.services import rnd_import
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

NUMBER = "+12127360501"


@pytest.fixture
def phone():
    phone = PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=NUMBER)
    ConsentGrantFactory(
        phone_number=phone, purpose="marketing", written=True, granted_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    return phone


def mark(client, phone, reason):
    return client.post(f"/customers/{phone.customer_id}/numbers/{phone.pk}/reassigned/", {"reason": reason})


def test_an_agent_marks_a_number_reassigned_with_a_reason_and_the_next_check_blocks(
    client, agent, manager, phone
):
    login_with_otp(client, agent)
    page = client.get(f"/customers/{phone.customer_id}/")
    assert b"Mark as reassigned" in page.content
    assert mark(client, phone, " ").status_code == 400
    phone.refresh_from_db()
    assert phone.reassigned_at is None

    response = mark(client, phone, "the person who answered is not the customer")
    assert response.status_code == 302
    phone.refresh_from_db()
    assert phone.reassigned_at is not None
    latest = phone.history.first()
    assert latest.history_user == agent and "not the customer" in latest.history_change_reason
    assert b"Reported reassigned on" in client.get(f"/customers/{phone.customer_id}/").content

    api = APIClient()
    api.force_authenticate(manager)
    body = api.post(
        "/api/v1/compliance/check/",
        {
            "phone_number": NUMBER,
            "campaign": CampaignFactory(purpose="marketing", dialing_mode="autodialed").pk,
            "at": (timezone.now() + timedelta(minutes=1)).isoformat(),
        },
        format="json",
    ).json()
    assert "reassigned_number" in body["reasons"]

    assert mark(client, phone, "again").status_code == 400  # marked once, its first date kept


def test_a_manager_may_not_and_sees_no_form(client, manager, compliance_officer, phone):
    login_with_otp(client, manager)
    assert b"Mark as reassigned" not in client.get(f"/customers/{phone.customer_id}/").content
    assert mark(client, phone, "why").status_code == 403
    login_with_otp(client, compliance_officer)
    assert mark(client, phone, "RND said yes").status_code == 302


def test_another_customers_number_is_a_404(client, agent, phone):
    other = CustomerFactory()
    login_with_otp(client, agent)
    assert (
        client.post(f"/customers/{other.pk}/numbers/{phone.pk}/reassigned/", {"reason": "x"}).status_code
        == 404
    )


def test_the_page_shows_rnd_answers_and_what_a_litigator_listing_means(client, agent, phone, tmp_path):
    from compliance.registry.services import registry_file_import, registry_source_ensure

    rnd_import(
        data=f"phone_number,date,answer,queried_at\n{NUMBER},2026-01-05,no,2026-11-16T12:00:00+00:00\n".encode()
    )
    listed = tmp_path / "litigator.txt"
    listed.write_text("2127360501\n")
    registry_file_import(source=registry_source_ensure(key="litigator"), paths=[listed])
    login_with_otp(client, agent)
    html = client.get(f"/customers/{phone.customer_id}/").content.decode()
    assert "Reassigned Numbers Database (asked" in html and "no, not disconnected since" in html
    assert "On the litigator list: each campaign" in html
    assert "On the litigator list: marketing calls need written consent" not in html
