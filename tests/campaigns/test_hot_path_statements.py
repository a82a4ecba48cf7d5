"""What the database receives for a hand-off and a disposition (issue 17),
transaction control not counted, with a token: `next` in six statements when
the first target claimed may be called (the token with its user and roles;
the campaign with the agent's training; the claim with the number's lock; the
facts with the rule set's stamp, the attempt counts and whether the number is
on another screen; the decision's row; the lease, its history row and the
attempt), a `no_answer` disposition in three (the token; the caller's own
attempt, its target and number locked; the outcome, the target and its
history row). Every other outcome at its own count. The decision, its log
entry, the history with who and why, the attempt and the lease are written
as before, and nothing is remembered stale: a campaign paused, a rule changed
or a role taken away is seen by the very next request."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import AGENTS
from campaigns.models import CallAttempt, Campaign, CampaignTarget
from campaigns.services import targets_add
from compliance.models import DecisionRecord, JurisdictionRule
from compliance.ruleset import ruleset_current
from consent.services import consent_revoke
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.compliance.test_hot_path_statements import statements
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statement counts of the PostgreSQL path"
)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(TUESDAY_MORNING, tick=False)


@pytest.fixture
def api(trained_agent, clock):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=trained_agent).key}")
    return client


def queue(campaign, phones):
    targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)
    CampaignTarget.objects.filter(campaign=campaign).update(
        next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1)
    )


def next_call(api, campaign_id):
    """(response, statements the database received)."""
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/v1/dialer/next/", {"campaign": campaign_id}, format="json")
    return response, statements(queries)


def dispose(api, attempt_id, outcome="no_answer", **extra):
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            f"/api/v1/dialer/attempts/{attempt_id}/disposition/", {"outcome": outcome, **extra}, format="json"
        )
    return response, statements(queries)


@pytest.fixture
def warm(api, informational_campaign):
    """One hand-off and its disposition in another campaign: the rule set in
    force is parsed in this process (its first decision reads the rules)."""
    other = CampaignFactory(purpose="informational", dialing_mode="manual", subject="warm-up")
    queue(other, [ny_phone(9999)])
    attempt = next_call(api, other.pk)[0].json()["attempt"]
    assert dispose(api, attempt)[0].status_code == 200


def test_a_hand_off_takes_six_statements_and_writes_what_it_always_wrote(
    api, warm, informational_campaign, trained_agent
):
    queue(informational_campaign, [ny_phone(1), ny_phone(2)])
    response, sent = next_call(api, informational_campaign.pk)
    assert response.status_code == 200, response.content
    if connection.vendor == "postgresql":
        assert len(sent) == 6, sent
        token, campaign, claim, gathered, logged, written = sent
        assert "authtoken_token" in token and "auth_user_groups" in token
        assert "accounts_trainingacknowledgement" in campaign and "accounts_trainingpolicy" in campaign
        assert (
            claim.count("SKIP LOCKED") == 2 and claim.count("NOT (EXISTS") == 2
        )  # expired leases, the queue
        assert claim.endswith('FOR UPDATE OF "campaigns_campaigntarget", "customers_phonenumber"')
        for table in ("compliance_rulesetstamp", "consent_consentgrant", "campaigns_callattempt"):
            assert table in gathered, table
        assert logged.startswith('INSERT INTO "compliance_decisionrecord"')
        assert written.startswith('WITH w0 AS (UPDATE "campaigns_campaigntarget"')
        assert 'INSERT INTO "campaigns_historicalcampaigntarget"' in written
        assert 'INSERT INTO "campaigns_callattempt"' in written
    body = response.json()
    attempt = CallAttempt.objects.select_related("target", "decision").get(pk=body["attempt"])
    target = attempt.target
    assert (target.status, target.lease_agent, target.attempts, target.blocked_reasons) == (
        "leased",
        trained_agent,
        1,
        [],
    )
    assert target.lease_until == TUESDAY_MORNING + dt.timedelta(minutes=10) and body["target"] == target.pk
    assert (attempt.agent, attempt.handed_at, attempt.subject) == (trained_agent, TUESDAY_MORNING, "orders")
    assert attempt.caller_id == informational_campaign.caller_id and attempt.ended_at is None
    record = attempt.decision
    assert (record.kind, record.allowed, record.actor, record.campaign_id) == (
        "handoff",
        True,
        trained_agent,
        informational_campaign.pk,
    )
    assert body["decision"]["id"] == record.pk and body["decision"]["evidence"] == record.evidence
    assert record.ruleset_version == ruleset_current().version
    assert body["phone_number"] == "+12127360001"
    assert body["customer"]["id"] == attempt.phone_number.customer_id
    history = target.history.first()
    assert (history.history_type, history.history_user, history.history_change_reason) == (
        "~",
        trained_agent,
        "handed to an agent",
    )
    for field in target.history.model.tracked_fields:  # the row's values, as simple-history records them
        assert getattr(history, field.attname) == getattr(target, field.attname), field.name


@postgresql_only
def test_a_no_answer_disposition_takes_three_statements(api, warm, informational_campaign, trained_agent):
    queue(informational_campaign, [ny_phone(1)])
    attempt_id = next_call(api, informational_campaign.pk)[0].json()["attempt"]
    response, sent = dispose(api, attempt_id, notes="rang out")
    assert response.status_code == 200 and response.json() == {"attempt": attempt_id, "outcome": "no_answer"}
    assert len(sent) == 3, sent
    token, locked, written = sent
    assert "authtoken_token" in token
    assert locked.startswith('SELECT "campaigns_callattempt"')
    assert f'"campaigns_callattempt"."agent_id" = {trained_agent.pk}' in locked  # the caller's own only
    assert locked.endswith(
        'FOR UPDATE OF "campaigns_callattempt", "campaigns_campaigntarget", "customers_phonenumber"'
    )
    assert written.startswith('WITH w0 AS (UPDATE "campaigns_callattempt"')
    assert 'INSERT INTO "campaigns_historicalcampaigntarget"' in written


@pytest.mark.sqlite
def test_a_disposition_writes_the_outcome_the_target_and_its_history(
    api, informational_campaign, trained_agent
):
    queue(informational_campaign, [ny_phone(1)])
    attempt_id = next_call(api, informational_campaign.pk)[0].json()["attempt"]
    assert dispose(api, attempt_id, notes="rang out")[0].status_code == 200
    attempt = CallAttempt.objects.select_related("target").get(pk=attempt_id)
    assert (attempt.outcome, attempt.notes, attempt.ended_at) == ("no_answer", "rang out", TUESDAY_MORNING)
    target = attempt.target
    assert (target.status, target.lease_agent, target.lease_until) == ("queued", None, None)
    assert target.next_attempt_at == TUESDAY_MORNING + dt.timedelta(hours=4)
    history = target.history.first()
    assert (history.history_user, history.history_change_reason, history.status) == (
        trained_agent,
        "disposition: no_answer",
        "queued",
    )
    assert target.history.count() == 3  # queued, handed, disposed


@pytest.mark.sqlite
def test_a_hand_off_on_the_portable_path_hands_and_moves_on_as_before(api, informational_campaign):
    """The SQLite demo: the same hand-off, its writes one after the other."""
    opted_out, callable_ = ny_phone(1), ny_phone(2)
    consent_revoke(number=str(opted_out.number), via="api", by=None)
    queue(informational_campaign, [opted_out, callable_])
    CampaignTarget.objects.filter(phone_number=opted_out).update(priority=5)
    body = next_call(api, informational_campaign.pk)[0].json()
    assert body["phone_number"] == "+12127360002"
    suppressed = CampaignTarget.objects.get(phone_number=opted_out)
    assert (suppressed.status, suppressed.blocked_reasons) == ("suppressed", ["dnc_internal"])
    assert suppressed.history.first().history_change_reason == "suppressed: dnc_internal"
    assert DecisionRecord.objects.filter(kind="handoff").count() == 2


@postgresql_only
def test_other_hand_off_outcomes_at_their_own_counts(api, warm, informational_campaign, agent, trained_agent):
    # Nothing to call: the token, the campaign, the claim.
    response, sent = next_call(api, informational_campaign.pk)
    assert (response.status_code, len(sent)) == (204, 3), sent
    # A blocked target moved on, then a callable one: four more for the first.
    opted_out, callable_ = ny_phone(1), ny_phone(2)
    consent_revoke(number=str(opted_out.number), via="api", by=None)
    queue(informational_campaign, [opted_out, callable_])
    CampaignTarget.objects.filter(phone_number=opted_out).update(priority=5)
    response, sent = next_call(api, informational_campaign.pk)
    assert response.status_code == 200 and response.json()["phone_number"] == "+12127360002"
    assert len(sent) == 10, sent
    assert (
        sent[5].startswith('WITH w0 AS (UPDATE "campaigns_campaigntarget"') and "callattempt" not in sent[5]
    )
    # An expired lease: its open call is closed first (one more).
    later = TUESDAY_MORNING + dt.timedelta(minutes=11)
    CampaignTarget.objects.filter(status="leased").update(lease_until=later - dt.timedelta(minutes=1))
    CallAttempt.objects.update(handed_at=later - dt.timedelta(minutes=11))
    with CaptureQueriesContext(connection) as queries:
        from campaigns import dialer

        assert dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=later)
    sent = statements(queries)
    assert len(sent) == 6 and sent[2].startswith('UPDATE "campaigns_callattempt"'), sent  # no token here
    # A paused campaign, a missing one, an agent without training: the token and one more.
    Campaign.objects.filter(pk=informational_campaign.pk).update(status="paused")
    response, sent = next_call(api, informational_campaign.pk)
    assert (response.status_code, len(sent)) == (409, 2)
    response, sent = next_call(api, 999_999)
    assert response.status_code == 400 and len(sent) == 2
    assert response.json() == {"campaign": ['Invalid pk "999999" - object does not exist.']}
    untrained = APIClient()
    untrained.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent_untrained()).key}")
    response, sent = next_call(untrained, informational_campaign.pk)
    assert (response.status_code, len(sent)) == (403, 2)
    assert "training" in response.json()["detail"]


def agent_untrained():
    user = UserFactory(username="new.agent")
    user.groups.add(Group.objects.get(name=AGENTS))
    return user


@postgresql_only
@pytest.mark.parametrize(
    ("outcome", "count"),
    [
        ("busy", 3),
        ("voicemail", 3),
        ("connected", 3),
        ("wrong_number", 3),
        ("callback", 5),  # the rule set's stamp and the facts at the callback's instant
        (
            "do_not_call",
            10,
        ),  # and the opt-out: the number, its consents, each revoked with history, the request
    ],
)
def test_other_dispositions_at_their_own_counts(api, warm, informational_campaign, outcome, count):
    phone = ny_phone(1)
    from tests.factories import ConsentGrantFactory

    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False)
    queue(informational_campaign, [phone])
    attempt_id = next_call(api, informational_campaign.pk)[0].json()["attempt"]
    extra = {"callback_at": "2026-11-18T16:00:00+00:00"} if outcome == "callback" else {}
    response, sent = dispose(api, attempt_id, outcome, **extra)
    assert response.status_code == 200, response.content
    assert len(sent) == count, sent
    response, sent = dispose(api, attempt_id + 1000, outcome)  # not the caller's (nor anyone's): a 404
    assert (response.status_code, len(sent)) == (404, 2)


def test_a_role_taken_away_stops_the_token_at_the_next_hand_off(api, informational_campaign, trained_agent):
    queue(informational_campaign, [ny_phone(1), ny_phone(2)])
    assert next_call(api, informational_campaign.pk)[0].status_code == 200
    trained_agent.groups.remove(Group.objects.get(name=AGENTS))
    assert next_call(api, informational_campaign.pk)[0].status_code == 403


def test_a_campaign_paused_is_seen_by_the_very_next_hand_off(api, informational_campaign, manager):
    queue(informational_campaign, [ny_phone(1), ny_phone(2)])
    assert next_call(api, informational_campaign.pk)[0].status_code == 200
    managers = APIClient()
    managers.force_authenticate(manager)
    assert (
        managers.patch(
            f"/api/v1/campaigns/{informational_campaign.pk}/", {"status": "paused"}, format="json"
        ).status_code
        == 200
    )
    response = next_call(api, informational_campaign.pk)[0]
    assert response.status_code == 409, response.content
    assert CampaignTarget.objects.filter(status="queued").count() == 1  # nothing claimed


def test_a_rule_changed_is_seen_by_the_very_next_hand_off(api, warm, informational_campaign):
    """The federal window moved to start at noon: 11:00 in New York is now outside it."""
    queue(informational_campaign, [ny_phone(1), ny_phone(2)])
    assert next_call(api, informational_campaign.pk)[0].status_code == 200
    rule = JurisdictionRule.objects.filter(jurisdiction="US").order_by("-effective_from").first()
    rule.weekday_window = "12:00-21:00"
    rule.save()
    response, sent = next_call(api, informational_campaign.pk)
    assert response.status_code == 204, response.content
    moved = CampaignTarget.objects.get(campaign=informational_campaign, status="queued")
    assert moved.blocked_reasons == ["outside_calling_hours"]
    if connection.vendor == "postgresql":
        # The claim, the facts, the rules (read once), the decision, the target moved on, the next claim.
        assert len(sent) == 8 and "compliance_jurisdictionrule" in sent[4], sent
        assert len(next_call(api, informational_campaign.pk)[1]) == 3  # nothing due: token, campaign, claim
