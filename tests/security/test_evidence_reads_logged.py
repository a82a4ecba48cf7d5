"""Every read of evidence leaves a trace (issue 15, item 6): the consent API
(list and detail), the proof of a call (page and PDF), the decision page, the
customer page and the timeline write who saw what in the access log, a page
of any size in one insert; a refused or missing read writes nothing."""

import datetime as dt
import io

import pypdfium2
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.audit import access_record_many
from accounts.models import AccessLog
from accounts.services import training_record
from campaigns import dialer
from campaigns.services import targets_add
from compliance.erasure import customer_erase
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)  # 11:00 in New York
NUMBER = "+12127360701"
ACCESS_LOG_INSERT = 'INSERT INTO "accounts_accesslog"'


def _reads(user) -> list[tuple[str, str]]:
    """(action, target) of the user's access-log rows, logins left out, oldest first."""
    rows = AccessLog.objects.filter(user=user).exclude(action="logged in").order_by("id")
    return list(rows.values_list("action", "target"))


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.fixture
def thirty_consents():
    phones = [PhoneNumberFactory(number=f"+1212736{i:04d}") for i in range(10)]
    return [ConsentGrantFactory(phone_number=phones[i % 10]) for i in range(30)]


@pytest.mark.parametrize("limit", [5, 30, 500])
def test_a_page_of_consents_logs_each_consent_seen_in_one_insert(manager, thirty_consents, limit):
    with CaptureQueriesContext(connection) as queries:
        response = _api(manager).get("/api/v1/consents/", {"limit": limit})
    assert response.status_code == 200
    seen = [consent["id"] for consent in response.json()["results"]]
    assert len(seen) == min(limit, 30)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1 and inserts[0].startswith(ACCESS_LOG_INSERT), inserts
    rows = AccessLog.objects.filter(user=manager)
    assert sorted(rows.values_list("target", flat=True)) == sorted(f"consent #{pk}" for pk in seen)
    assert set(rows.values_list("action", "path")) == {
        ("viewed consent evidence", f"/api/v1/consents/?limit={limit}")
    }


def test_a_page_of_consents_costs_the_same_queries_whatever_its_size(manager, thirty_consents):
    api = _api(manager)
    api.get("/api/v1/consents/", {"limit": 1})  # the user's roles, read once per user
    counts = []
    for limit in (1, 30):
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/consents/", {"limit": limit}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == 2  # the page, and its log


def test_the_next_page_logs_its_own_consents(compliance_officer, thirty_consents):
    api = _api(compliance_officer)
    first = api.get("/api/v1/consents/", {"limit": 20}).json()
    second = api.get(first["next"]).json()
    seen = [c["id"] for c in first["results"]] + [c["id"] for c in second["results"]]
    assert sorted(seen) == sorted(grant.pk for grant in thirty_consents)
    assert sorted(target for _action, target in _reads(compliance_officer)) == sorted(
        f"consent #{pk}" for pk in seen
    )


def test_consents_found_by_number_are_logged(manager, thirty_consents):
    response = _api(manager).get("/api/v1/consents/", {"phone": "(212) 736-0003"})
    found = {c["id"] for c in response.json()["results"]}
    assert len(found) == 3
    assert {target for _action, target in _reads(manager)} == {f"consent #{pk}" for pk in found}


def test_an_empty_page_writes_nothing(manager):
    assert _api(manager).get("/api/v1/consents/").json()["results"] == []
    assert not AccessLog.objects.exists()


def test_one_consent_read_by_id_is_logged(compliance_officer):
    grant = ConsentGrantFactory()
    response = _api(compliance_officer).get(f"/api/v1/consents/{grant.pk}/")
    assert response.status_code == 200 and response.json()["evidence"]
    row = AccessLog.objects.get()
    assert (row.user, row.action, row.target, row.path) == (
        compliance_officer,
        "viewed consent evidence",
        f"consent #{grant.pk}",
        f"/api/v1/consents/{grant.pk}/",
    )
    assert row.at is not None


def test_refused_and_missing_consent_reads_write_nothing(agent, manager, outsider):
    grant = ConsentGrantFactory()
    for user in (agent, outsider):
        assert _api(user).get("/api/v1/consents/").status_code == 403
        assert _api(user).get(f"/api/v1/consents/{grant.pk}/").status_code == 403
    assert APIClient().get("/api/v1/consents/").status_code in (401, 403)
    assert _api(manager).get("/api/v1/consents/999999/").status_code == 404
    assert _api(manager).get("/api/v1/consents/", {"limit": 501}).status_code == 400
    assert _api(manager).get("/api/v1/consents/", {"phone": "not a number"}).status_code == 400
    assert not AccessLog.objects.exists()


@pytest.fixture
def allowed_call(agent, time_machine):
    """A marketing call handed off on written consent, as the proof shows it."""
    time_machine.move_to(TUESDAY_MORNING)
    customer = CustomerFactory(state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    consent = ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        evidence={"disclosure_text": "I agree to marketing calls by autodialer.", "ip": "203.0.113.9"},
        granted_at=TUESDAY_MORNING - dt.timedelta(days=40),
    )
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=[NUMBER], by=None)
    handoff = dialer.dialer_next(
        campaign=campaign, agent=agent, now=TUESDAY_MORNING + dt.timedelta(minutes=1)
    )
    assert handoff is not None, "the call should be allowed"
    return handoff.attempt, consent


def test_the_proof_page_logs_the_call_its_decision_and_the_consents_it_shows(
    client, compliance_officer, allowed_call
):
    attempt, consent = allowed_call
    login_with_otp(client, compliance_officer)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/compliance/attempts/{attempt.pk}/proof/")
    assert page.status_code == 200 and "203.0.113.9" in page.content.decode()
    assert sum(q["sql"].startswith(ACCESS_LOG_INSERT) for q in queries.captured_queries) == 1
    assert _reads(compliance_officer) == [
        ("viewed proof of call", f"call attempt #{attempt.pk}"),
        ("viewed proof of call", f"decision #{attempt.decision_id}"),
        ("viewed proof of call", f"consent #{consent.pk}"),
    ]


def test_the_proof_pdf_logs_the_same_records(client, compliance_officer, allowed_call):
    attempt, consent = allowed_call
    login_with_otp(client, compliance_officer)
    answer = client.get(f"/compliance/attempts/{attempt.pk}/proof.pdf")
    assert answer.status_code == 200
    pdf = pypdfium2.PdfDocument(io.BytesIO(answer.content))
    assert f"Consent #{consent.pk}" in "".join(
        pdf[i].get_textpage().get_text_range() for i in range(len(pdf))
    )
    assert _reads(compliance_officer) == [
        ("exported proof of call (PDF)", f"call attempt #{attempt.pk}"),
        ("exported proof of call (PDF)", f"decision #{attempt.decision_id}"),
        ("exported proof of call (PDF)", f"consent #{consent.pk}"),
    ]


def test_the_decision_page_is_logged(client, compliance_officer, allowed_call):
    attempt, _consent = allowed_call
    login_with_otp(client, compliance_officer)
    page = client.get(f"/compliance/decisions/{attempt.decision_id}/")
    assert page.status_code == 200 and NUMBER in page.content.decode()
    row = AccessLog.objects.exclude(action="logged in").get()
    assert (row.user, row.action, row.target, row.path) == (
        compliance_officer,
        "viewed decision",
        f"decision #{attempt.decision_id}",
        f"/compliance/decisions/{attempt.decision_id}/",
    )


def test_refused_and_missing_proofs_and_decisions_write_nothing(
    client, agent, manager, compliance_officer, allowed_call
):
    attempt, _consent = allowed_call
    paths = [
        f"/compliance/attempts/{attempt.pk}/proof/",
        f"/compliance/attempts/{attempt.pk}/proof.pdf",
        f"/compliance/decisions/{attempt.decision_id}/",
    ]
    for user in (agent, manager):
        client.force_login(user)
        assert [client.get(path).status_code for path in paths] == [403, 403, 403]
    login_with_otp(client, compliance_officer)
    missing = ["/compliance/attempts/999999/proof/", "/compliance/attempts/999999/proof.pdf"]
    missing.append("/compliance/decisions/999999/")
    assert [client.get(path).status_code for path in missing] == [404, 404, 404]
    assert not AccessLog.objects.exclude(action="logged in").exists()


def test_the_customer_page_is_logged_and_a_missing_customer_is_not(client, agent, outsider):
    customer = PhoneNumberFactory(number=NUMBER).customer
    client.force_login(outsider)
    assert client.get(f"/customers/{customer.pk}/").status_code == 403
    client.force_login(agent)
    assert client.get("/customers/999999/").status_code == 404
    assert _reads(outsider) == _reads(agent) == []
    page = client.get(f"/customers/{customer.pk}/")
    assert page.status_code == 200
    row = AccessLog.objects.exclude(action="logged in").get()
    assert (row.user, row.action, row.target, row.path) == (
        agent,
        "viewed customer",
        f"customer #{customer.pk}",
        f"/customers/{customer.pk}/",
    )


def test_the_timeline_by_customer_is_logged(client, compliance_officer, allowed_call):
    _attempt, consent = allowed_call
    customer = consent.phone_number.customer
    login_with_otp(client, compliance_officer)
    assert client.get("/compliance/timeline/", {"customer": customer.pk}).status_code == 200
    assert _reads(compliance_officer) == [("viewed timeline", NUMBER)]


def test_an_erasure_keeps_who_saw_which_consent_and_removes_the_number_from_the_path(
    manager, compliance_officer
):
    phone = PhoneNumberFactory(number="+13055550177")
    grant = ConsentGrantFactory(phone_number=phone)
    api = _api(manager)
    for written in ("+13055550177", "(305) 555-0177", "305.555.0177"):
        assert api.get("/api/v1/consents/", {"phone": written}).json()["results"][0]["id"] == grant.pk
    customer_erase(customer=phone.customer, by=compliance_officer, via="api", reason="GDPR request")
    rows = AccessLog.objects.filter(user=manager)
    assert set(rows.values_list("action", "target")) == {("viewed consent evidence", f"consent #{grant.pk}")}
    assert rows.count() == 3
    for path in rows.values_list("path", flat=True):
        assert path.startswith("/api/v1/consents/?phone=") and "0177" not in path, path


def test_anonymous_reads_are_not_logged_and_a_target_is_logged_once(manager):
    request = RequestFactory().get("/api/v1/consents/")
    request.user = AnonymousUser()
    assert access_record_many(request, action="viewed consent evidence", targets=["consent #1"]) == []
    request.user = manager
    rows = access_record_many(request, action="viewed", targets=["consent #1", "consent #2", "consent #1"])
    assert [row.target for row in rows] == ["consent #1", "consent #2"]
    assert AccessLog.objects.count() == 2
