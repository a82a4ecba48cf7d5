"""Legal holds are set and lifted by compliance officers (and superusers)
only, always with a reason and history; nobody else changes them, in the API
or the admin, so that no erasure path can be opened by lifting a hold."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from customers.models import Customer
from customers.services import customer_legal_hold_set
from tests.customers.test_api import CONTRACT_CUSTOMER
from tests.factories import CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def held():
    customer = CustomerFactory(first_name="Grace", legal_hold=True, legal_hold_reason="litigation 2026-114")
    PhoneNumberFactory(customer=customer, number="+12127360042")
    return customer


def test_a_manager_cannot_lift_a_legal_hold_through_the_customer_api(manager, held):
    response = _api(manager).patch(f"/api/v1/customers/{held.pk}/", {"legal_hold": False}, format="json")

    assert response.status_code == 400
    assert "compliance officers" in str(response.json()["legal_hold"])
    held.refresh_from_db()
    assert held.legal_hold and held.legal_hold_reason == "litigation 2026-114"


def test_a_manager_cannot_rewrite_the_reason_of_a_hold(manager, held):
    response = _api(manager).patch(
        f"/api/v1/customers/{held.pk}/", {"legal_hold_reason": "none"}, format="json"
    )

    assert response.status_code == 400
    held.refresh_from_db()
    assert held.legal_hold_reason == "litigation 2026-114"


def test_a_manager_cannot_create_a_customer_under_hold(manager):
    response = _api(manager).post(
        "/api/v1/customers/",
        {**CONTRACT_CUSTOMER, "legal_hold": True, "legal_hold_reason": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert not Customer.objects.exists()


def test_sending_the_hold_back_unchanged_is_accepted(manager, held):
    api = _api(manager)
    body = api.get(f"/api/v1/customers/{held.pk}/").json()

    response = api.put(f"/api/v1/customers/{held.pk}/", {**body, "last_name": "Hughes"}, format="json")

    assert response.status_code == 200, response.json()
    held.refresh_from_db()
    assert held.last_name == "Hughes" and held.legal_hold


def test_a_compliance_officer_lifts_and_sets_a_hold_with_a_reason_kept_in_history(compliance_officer, held):
    api = _api(compliance_officer)

    lifted = api.post(
        f"/api/v1/customers/{held.pk}/legal-hold/",
        {"legal_hold": False, "reason": "case 2026-114 settled"},
        format="json",
    )
    assert lifted.status_code == 200, lifted.json()
    assert lifted.json()["legal_hold"] is False
    set_again = api.post(
        f"/api/v1/customers/{held.pk}/legal-hold/",
        {"legal_hold": True, "reason": "audit 2027"},
        format="json",
    )
    assert set_again.status_code == 200
    assert set_again.json()["legal_hold_reason"] == "audit 2027"

    history = list(held.history.order_by("history_date"))[-2:]
    assert [
        (h.legal_hold, h.legal_hold_reason, h.history_change_reason, h.history_user) for h in history
    ] == [
        (False, "case 2026-114 settled", "legal hold lifted", compliance_officer),
        (True, "audit 2027", "legal hold set", compliance_officer),
    ]


@pytest.mark.parametrize("body", [{"legal_hold": False}, {"legal_hold": False, "reason": "   "}, {}])
def test_a_hold_is_not_changed_without_a_reason(compliance_officer, held, body):
    response = _api(compliance_officer).post(f"/api/v1/customers/{held.pk}/legal-hold/", body, format="json")

    assert response.status_code == 400
    held.refresh_from_db()
    assert held.legal_hold


def test_only_compliance_officers_and_superusers_change_holds(agent, manager, superuser, held):
    url = f"/api/v1/customers/{held.pk}/legal-hold/"
    lift = {"legal_hold": False, "reason": "I say so"}
    assert _api(agent).post(url, lift, format="json").status_code == 403
    assert _api(manager).post(url, lift, format="json").status_code == 403
    held.refresh_from_db()
    assert held.legal_hold
    assert _api(superuser).post(url, lift, format="json").status_code == 200


def test_the_service_refuses_anyone_but_a_compliance_officer(manager, agent, compliance_officer, held):
    for user in (manager, agent, None):
        with pytest.raises(PermissionDenied):
            customer_legal_hold_set(customer=held, on=False, reason="because", by=user)
    with pytest.raises(ValidationError):
        customer_legal_hold_set(customer=held, on=False, reason=" ", by=compliance_officer)
    held.refresh_from_db()
    assert held.legal_hold and held.history.count() == 1


def test_in_the_admin_a_manager_cannot_change_the_hold(client, manager, held):
    client.force_login(manager)
    change_url = f"/admin/customers/customer/{held.pk}/change/"
    form = client.get(change_url).content.decode()
    assert 'name="legal_hold"' not in form and 'name="legal_hold_reason"' not in form

    saved = client.post(
        change_url,
        {
            "first_name": "Grace",
            "last_name": "Renamed",
            "email": held.email,
            "state": held.state,
            "postal_code": held.postal_code,
            "legal_hold_reason": "",  # the unchecked legal_hold box is simply absent
            "phone_numbers-TOTAL_FORMS": "1",
            "phone_numbers-INITIAL_FORMS": "1",
            "phone_numbers-MIN_NUM_FORMS": "0",
            "phone_numbers-MAX_NUM_FORMS": "1000",
            "phone_numbers-0-id": held.phone_numbers.get().pk,
            "phone_numbers-0-customer": held.pk,
            "phone_numbers-0-number": "+12127360042",
            "phone_numbers-0-kind": "mobile",
        },
    )
    page = client.post(
        f"/admin/customers/customer/{held.pk}/legal-hold/", {"legal_hold": "", "reason": "lifting"}
    )

    assert saved.status_code == 302  # the rest of the form was saved
    assert page.status_code == 403
    held.refresh_from_db()
    assert held.last_name == "Renamed"
    assert held.legal_hold and held.legal_hold_reason == "litigation 2026-114"


def test_in_the_admin_a_compliance_officer_lifts_a_hold_on_its_own_page(client, compliance_officer, held):
    login_with_otp(client, compliance_officer)
    url = f"/admin/customers/customer/{held.pk}/legal-hold/"
    assert "litigation 2026-114" in client.get(url).content.decode()

    refused = client.post(url, {"legal_hold": "", "reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    response = client.post(url, {"legal_hold": "", "reason": "case settled"})

    assert response.status_code == 302
    held.refresh_from_db()
    assert not held.legal_hold and held.legal_hold_reason == "case settled"
    last = held.history.latest("history_date")
    assert (last.history_user, last.history_change_reason) == (compliance_officer, "legal hold lifted")
