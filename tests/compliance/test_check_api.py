"""The check API and the decision log, end to end on PostgreSQL."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_seal, decision_log_verify
from compliance.facts import facts_gather
from compliance.models import DecisionRecord, JurisdictionRule
from compliance.ruleset import ruleset_current
from consent.services import consent_revoke
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp
from tests.owner import owner_powers

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-17 15:00 UTC = 10:00 in New York.
WEEKDAY_MORNING_NY = "2026-11-17T15:00:00+00:00"


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.fixture
def ny_customer():
    customer = CustomerFactory(state="NY", postal_code="10001")
    return PhoneNumberFactory(customer=customer, number="+12127360001")


def check(api, number, campaign, at=WEEKDAY_MORNING_NY):
    return api.post(
        "/api/v1/compliance/check/",
        {"phone_number": number, "campaign": campaign.pk, "at": at},
        format="json",
    )


def test_check_answers_the_contract_and_logs_the_decision(api, ny_customer, manager):
    campaign = CampaignFactory(purpose="informational", dialing_mode="manual")
    response = check(api, "(212) 736-0001", campaign)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["allowed"] is True and body["reasons"] == []
    assert body["evidence"]["zones"][0]["zone"] == "America/New_York"
    assert body["evidence"]["ruleset_version"] == ruleset_current().version
    record = DecisionRecord.objects.get(pk=body["decision"])
    assert record.kind == "check" and record.actor == manager and record.phone_number == "+12127360001"
    assert body["explanation"].endswith(f"/compliance/decisions/{record.pk}/")


def test_check_lists_every_blocking_reason(api, ny_customer):
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed", status="paused")
    consent_revoke(number="+12127360001", via="api", by=None)
    # 02:00 in New York: outside hours too.
    body = check(api, "+12127360001", campaign, at="2026-11-17T07:00:00+00:00").json()
    assert body["allowed"] is False
    for code in ("consent_missing", "dnc_internal", "outside_calling_hours", "campaign_inactive"):
        assert code in body["reasons"], body["reasons"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"phone_number": "12"}, "phone_number"),
        ({"phone_number": "call me"}, "phone_number"),
        ({"campaign": 999999}, "campaign"),
        ({"campaign": "abc"}, "campaign"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2026-11-17T15:00:00"}, "at"),
    ],
)
def test_check_refuses_unparseable_input_with_a_400(api, payload, field):
    campaign = CampaignFactory()
    body = {"phone_number": "+12127360001", "campaign": campaign.pk, "at": WEEKDAY_MORNING_NY, **payload}
    response = api.post("/api/v1/compliance/check/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not DecisionRecord.objects.exists()


def test_a_valid_looking_but_undialable_number_is_decided_as_invalid(api):
    campaign = CampaignFactory()
    body = check(api, "+1 555 123 4567", campaign).json()
    assert body["allowed"] is False and "invalid_number" in body["reasons"]


def test_an_erased_customers_number_stays_blocked(api, compliance_officer, ny_customer):
    officer = APIClient()
    officer.force_authenticate(compliance_officer)
    campaign = CampaignFactory()
    assert (
        officer.post(f"/api/v1/customers/{ny_customer.customer_id}/erase/", {}, format="json").status_code
        == 200
    )
    body = check(api, "+12127360001", campaign).json()
    assert "customer_erased" in body["reasons"]


def test_facts_are_gathered_in_a_fixed_small_number_of_queries(ny_customer):
    for i in range(20):
        ConsentGrantFactory(phone_number=ny_customer, written=bool(i % 2))
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    from campaigns.selectors import campaign_call_context

    rules = ruleset_current()
    at = dt.datetime(2026, 11, 17, 15, tzinfo=dt.UTC)
    with CaptureQueriesContext(connection) as queries:
        facts = facts_gather(
            number="+12127360001", context=campaign_call_context(campaign=campaign), at=at, rules=rules
        )
    assert len(facts.consents) == 20
    assert len(queries) == 1, [q["sql"] for q in queries]  # one round trip on PostgreSQL


def test_the_decision_log_chain_verifies_and_names_the_first_tampered_row(api, ny_customer):
    campaign = CampaignFactory()
    ids = [check(api, "+12127360001", campaign).json()["decision"] for _ in range(5)]
    assert decision_log_seal() == 5
    result = decision_log_verify()
    assert result.ok and result.checked == 5 and result.unsealed == 0
    # The owner (a superuser here), with the append-only trigger disabled, rewrites a reason in SQL.
    with owner_powers() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE compliance_decisionrecord SET reasons = '[\"consent_missing\"]' WHERE id = %s", [ids[2]]
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    result = decision_log_verify()
    assert not result.ok and result.broken_id == ids[2]
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_decision_log")
    assert exit_info.value.code == 1


def test_rows_committed_after_a_seal_join_the_chain_later(api, ny_customer):
    campaign = CampaignFactory()
    check(api, "+12127360001", campaign)
    decision_log_seal()
    check(api, "+12127360001", campaign)
    assert decision_log_seal() == 1
    assert decision_log_verify().checked == 2


def test_the_decision_log_cannot_be_changed_in_the_admin(client, superuser, api, ny_customer):
    record_id = check(api, "+12127360001", CampaignFactory()).json()["decision"]
    login_with_otp(client, superuser)
    page = client.get(f"/admin/compliance/decisionrecord/{record_id}/change/")
    assert page.status_code == 200 and 'name="allowed"' not in page.content.decode()
    assert client.post(f"/admin/compliance/decisionrecord/{record_id}/delete/").status_code == 403
    assert client.get("/admin/compliance/decisionrecord/add/").status_code == 403


def test_the_explanation_page_speaks_plainly_to_compliance_officers(
    client, compliance_officer, agent, api, ny_customer
):
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    record_id = check(api, "+12127360001", campaign).json()["decision"]
    login_with_otp(client, compliance_officer)
    page = client.get(f"/compliance/decisions/{record_id}/").content.decode()
    assert "There is no consent of the kind this call needs." in page
    assert "America/New_York" in page and "Tue, Nov 17, 2026 10:00 EST (America/New_York)" in page
    client.force_login(agent)
    assert client.get(f"/compliance/decisions/{record_id}/").status_code == 403


def test_a_compliance_officer_changes_a_rule_and_the_version_follows(client, compliance_officer):
    before = ruleset_current().version
    rule = JurisdictionRule.objects.get(jurisdiction="FL")
    login_with_otp(client, compliance_officer)
    data = {name: getattr(rule, name) for name in JurisdictionRule.RECORD_FIELDS}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["weekday_window"] = "09:00-20:00"
    data["note"] = "stricter, per counsel"
    response = client.post(f"/admin/compliance/jurisdictionrule/{rule.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ruleset_current().version != before
    latest = JurisdictionRule.history.filter(id=rule.pk).first()
    assert latest.history_user == compliance_officer and latest.weekday_window == "09:00-20:00"
    data["weekday_window"] = "9am-8pm"
    response = client.post(f"/admin/compliance/jurisdictionrule/{rule.pk}/change/", data)
    assert response.status_code == 200 and "weekday_window" in response.content.decode()
