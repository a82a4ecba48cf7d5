"""The litigator review queue (issue 18): a number flagged under a campaign
whose litigator policy is `flag` waits for a compliance officer, who signs it
off or suppresses it (the company's do-not-call list), with who and why; only
they may; an erasure takes the number out of the queue and its history."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from compliance.erasure import customer_erase
from compliance.registry.litigator import litigator_review_decide, litigator_review_flag
from compliance.registry.models import LitigatorReview
from compliance.registry.services import registry_source_ensure
from consent.models import DncRequest
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

FLAGGED_AT = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
NUMBER = "+12127360001"


@pytest.fixture
def review():
    registry_source_ensure(key="litigator")
    return litigator_review_flag(number=NUMBER, synced_at=None, decision_id=41, at=FLAGGED_AT)


def test_a_number_is_flagged_once_with_history(review):
    assert review.status == "open" and review.number == NUMBER and review.decision_id == 41
    assert review.history.get().history_change_reason.startswith("flagged")
    again = litigator_review_flag(number=NUMBER, synced_at=None, decision_id=42, at=FLAGGED_AT)
    assert again is None
    assert LitigatorReview.objects.count() == 1


def test_sign_off_is_recorded_and_cannot_be_made_twice(review, compliance_officer):
    with pytest.raises(ValidationError, match="Say why"):
        litigator_review_decide(review=review, by=compliance_officer, suppress=False, reason=" ")
    signed = litigator_review_decide(
        review=review, by=compliance_officer, suppress=False, reason="other person"
    )
    assert (signed.status, signed.decided_by, signed.reason) == (
        "signed_off",
        compliance_officer,
        "other person",
    )
    latest = signed.history.first()
    assert (
        latest.history_user == compliance_officer
        and latest.history_change_reason == "signed off: other person"
    )
    assert not DncRequest.objects.filter(number=NUMBER).exists()
    with pytest.raises(ValidationError, match="already signed off"):
        litigator_review_decide(review=review, by=compliance_officer, suppress=True, reason="changed my mind")


def test_suppress_puts_the_number_on_the_company_list_and_the_check_blocks_it(
    review, compliance_officer, manager
):
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=NUMBER)
    litigator_review_decide(review=review, by=compliance_officer, suppress=True, reason="serial filer")
    request = DncRequest.objects.get(number=NUMBER)
    assert request.recorded_by == compliance_officer and "litigator review: serial filer" in request.reason
    client = APIClient()
    client.force_authenticate(manager)
    body = client.post(
        "/api/v1/compliance/check/",
        {"phone_number": NUMBER, "campaign": CampaignFactory().pk, "at": "2026-11-17T15:00:00+00:00"},
        format="json",
    ).json()
    assert body["allowed"] is False and "dnc_internal" in body["reasons"]


def test_only_a_compliance_officer_decides_in_the_admin(review, client, compliance_officer, manager, agent):
    decide = f"/admin/registry/litigatorreview/{review.pk}/decide/"
    for outsider in (manager, agent):
        login_with_otp(client, outsider)
        assert client.get(decide).status_code in (302, 403)
        assert client.post(decide, {"decision": "suppress", "reason": "x"}).status_code in (302, 403)
    review.refresh_from_db()
    assert review.status == "open"

    login_with_otp(client, compliance_officer)
    page = client.get(f"/admin/registry/litigatorreview/{review.pk}/change/")
    assert page.status_code == 200 and b"Sign off or suppress" in page.content
    assert client.post(decide, {"decision": "sign_off", "reason": ""}).status_code == 400
    response = client.post(decide, {"decision": "sign_off", "reason": "listing is for another person"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "signed_off" and review.decided_by == compliance_officer


def test_an_erasure_takes_the_number_out_of_the_review_and_its_history(review, compliance_officer):
    customer = CustomerFactory()
    PhoneNumberFactory(customer=customer, number=NUMBER)
    litigator_review_decide(review=review, by=compliance_officer, suppress=False, reason="ok")
    customer_erase(customer=customer, by=compliance_officer, via="admin", reason="GDPR request")
    review.refresh_from_db()
    assert review.number == "(erased)"
    assert set(review.history.values_list("number", flat=True)) == {"(erased)"}
    with pytest.raises(ValidationError):
        litigator_review_decide(review=review, by=compliance_officer, suppress=True, reason="late")
