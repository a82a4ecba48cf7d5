import pytest

from consent.models import ConsentGrant
from tests.factories import ConsentGrantFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db


def record_opt_in(client, **overrides):
    data = {
        "phone": "305-555-0123",
        "purpose": "marketing",
        "channel": "voice",
        "written": "on",
        "source": "signed_form",
        "granted_at_0": "2026-03-01",
        "granted_at_1": "10:00:00",
        "disclosure_text": "I agree to receive marketing calls by autodialer.",
        "form_reference": "SF-1001",
        **overrides,
    }
    return client.post("/admin/consent/consentgrant/add/", data)


def test_manager_records_an_opt_in_with_evidence_and_it_shows_in_history(client, manager):
    PhoneNumberFactory(number="+13055550123")
    client.force_login(manager)
    response = record_opt_in(client)
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = ConsentGrant.objects.get()
    assert grant.evidence == {
        "disclosure_text": "I agree to receive marketing calls by autodialer.",
        "form_reference": "SF-1001",
    }
    assert grant.recorded_by == manager
    history = client.get(f"/admin/consent/consentgrant/{grant.pk}/history/").content.decode()
    assert manager.username in history
    assert "opt-in recorded in the admin" in history


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"disclosure_text": ""}, "This field is required"),
        ({"phone": "555-01"}, "not a valid"),
        ({"phone": "+13055550999"}, "No customer has this number"),
    ],
)
def test_opt_in_without_evidence_or_with_a_bad_number_is_refused(client, manager, overrides, message):
    PhoneNumberFactory(number="+13055550123")
    client.force_login(manager)
    response = record_opt_in(client, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ConsentGrant.objects.exists()


def test_bad_number_in_the_opt_out_form_is_refused(client, compliance_officer):
    login_with_otp(client, compliance_officer)
    response = client.post("/admin/consent/dncrequest/add/", {"phone": "12", "reason": "x"})
    assert response.status_code == 200
    assert "not a" in response.content.decode()


def test_bad_number_in_the_customer_admin_is_refused(client, manager):
    client.force_login(manager)
    data = {
        "first_name": "A",
        "last_name": "B",
        "phone_numbers-TOTAL_FORMS": "1",
        "phone_numbers-INITIAL_FORMS": "0",
        "phone_numbers-0-number": "+1555",
        "phone_numbers-0-kind": "mobile",
    }
    response = client.post("/admin/customers/customer/add/", data)
    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()


def test_consent_records_are_read_only_even_for_superusers(client, superuser):
    grant = ConsentGrantFactory()
    login_with_otp(client, superuser)
    page = client.get(f"/admin/consent/consentgrant/{grant.pk}/change/").content.decode()
    assert 'name="purpose"' not in page
    assert client.post(f"/admin/consent/consentgrant/{grant.pk}/delete/").status_code == 403


def test_history_cannot_be_reverted_from_the_admin(client, superuser, manager):
    phone = PhoneNumberFactory(number="+13055550123")
    customer = phone.customer
    first_version = customer.history.get()
    customer.first_name = "Changed"
    customer.save()
    for user in (manager, superuser):
        login_with_otp(client, user)
        url = f"/admin/customers/customer/{customer.pk}/history/{first_version.history_id}/"
        page = client.get(url)
        assert page.status_code == 200
        assert "Revert" not in page.content.decode()
        response = client.post(url, {"first_name": first_version.first_name, "last_name": customer.last_name})
        assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.first_name == "Changed"
    assert customer.history.count() == 2


def test_customer_page_shows_consents_and_dnc_in_one_place(client, compliance_officer):
    phone = PhoneNumberFactory(number="+13055550123")
    ConsentGrantFactory(phone_number=phone)
    login_with_otp(client, compliance_officer)
    page = client.get(f"/admin/customers/customer/{phone.customer_id}/change/").content.decode()
    assert "written marketing (voice)" in page
    assert "Preference page link" in page


def test_admin_search_finds_a_customer_by_any_format_of_a_number(client, manager):
    phone = PhoneNumberFactory(number="+13055550123")
    client.force_login(manager)
    page = client.get("/admin/customers/customer/", {"q": "(305) 555-0123"}).content.decode()
    assert str(phone.customer) in page


def test_reading_a_consents_evidence_in_the_admin_is_logged(client, compliance_officer):
    from accounts.models import AccessLog
    from tests.factories import ConsentGrantFactory

    grant = ConsentGrantFactory()
    login_with_otp(client, compliance_officer)
    assert client.get(f"/admin/consent/consentgrant/{grant.pk}/change/").status_code == 200
    entry = AccessLog.objects.exclude(action="logged in").get()
    assert (entry.user, entry.action, entry.target) == (
        compliance_officer,
        "viewed consent evidence",
        f"consent #{grant.pk}",
    )
