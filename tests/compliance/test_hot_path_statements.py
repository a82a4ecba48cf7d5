"""What the database receives for a check (issue 17): three statements with a
token, transaction control not counted (the token with its user and roles;
the facts with the rule set's stamp and the campaign's row; the log's row),
the decision and its log entry as before. Nothing is remembered stale: a
change to the rules or to the campaign is seen by the very next check."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import CallAttempt, CampaignTarget
from campaigns.selectors import campaign_call_context, campaign_context_row
from compliance.facts import ContextMissing, facts_gather, facts_gather_in_force
from compliance.models import DecisionRecord, JurisdictionRule, RuleSetStamp
from compliance.policy import decide
from compliance.registry.models import LitigatorReview
from compliance.rules import ruleset_build
from compliance.ruleset import ruleset_current
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-17 13:30 UTC: 08:30 in Miami, inside Florida's 08:00-20:00.
EARLY_TUESDAY = dt.datetime(2026, 11, 17, 13, 30, tzinfo=dt.UTC)
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def statements(queries: CaptureQueriesContext) -> list[str]:
    """What the database received, transaction control left out."""
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)]


@pytest.fixture
def api(manager):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
    return client


@pytest.fixture
def miami():
    """A Miami number with written marketing consent (no registry applies then)."""
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="FL", postal_code="33101"), number="+13057360001"
    )
    ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True)
    return phone


@pytest.fixture
def marketing():
    return CampaignFactory(purpose="marketing", dialing_mode="manual", subject="orders")


def check(api, campaign_id, *, number="+13057360001", at=EARLY_TUESDAY):
    """(response, statements the database received)."""
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            "/api/v1/compliance/check/",
            {"phone_number": number, "campaign": campaign_id, "at": at.isoformat()},
            format="json",
        )
    return response, statements(queries)


def test_a_check_with_a_token_takes_three_statements(api, miami, marketing, manager):
    check(api, marketing.pk)  # the first in this process parses the rules
    response, sent = check(api, marketing.pk)
    assert response.status_code == 200, response.json()
    assert len(sent) == 3, sent
    token, gathered, logged = sent
    assert "authtoken_token" in token and "auth_user_groups" in token
    for table in (
        "campaigns_campaign",
        "compliance_rulesetstamp",
        "customers_phonenumber",
        "consent_consentgrant",
        "campaigns_callattempt",
    ):
        assert table in gathered, table
    assert logged.startswith('INSERT INTO "compliance_decisionrecord"')
    body = response.json()
    assert body["allowed"] is True, body
    record = DecisionRecord.objects.get(pk=body["decision"])
    assert (record.kind, record.actor, record.campaign_id) == ("check", manager, marketing.pk)
    assert record.evidence == body["evidence"]
    assert body["evidence"]["ruleset_version"] == ruleset_current().version


def test_a_check_sends_no_transaction_control_its_log_row_being_one_statement(api, miami, marketing):
    """The facts are one statement and the log's row another: no BEGIN and
    COMMIT (here, in the test's transaction, no savepoint) around them."""
    check(api, marketing.pk)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            "/api/v1/compliance/check/",
            {"phone_number": "+13057360001", "campaign": marketing.pk, "at": EARLY_TUESDAY.isoformat()},
            format="json",
        )
    assert response.status_code == 200
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_a_flagged_litigator_number_is_logged_and_flagged_in_one_transaction(api, miami, settings):
    """The decision's row and the review's rows commit together (a savepoint here)."""
    path = Path(settings.VAR_DIR) / "litigators.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("3057360001\n")
    call_command("dnc_import", "--source", "litigator", str(path), stdout=io.StringIO())
    campaign = CampaignFactory(purpose="marketing", dialing_mode="manual", litigator_policy="flag")
    with CaptureQueriesContext(connection) as queries:
        response = api.post(
            "/api/v1/compliance/check/",
            {"phone_number": "+13057360001", "campaign": campaign.pk, "at": EARLY_TUESDAY.isoformat()},
            format="json",
        )
    assert response.json()["evidence"]["litigator"]["flagged"] is True
    sent = [q["sql"] for q in queries]
    opened = next(i for i, sql in enumerate(sent) if sql.startswith("SAVEPOINT"))
    closed = next(i for i, sql in enumerate(sent) if sql.startswith("RELEASE SAVEPOINT"))
    written = [sql for sql in sent[opened:closed] if sql.startswith("INSERT")]
    assert written[0].startswith('INSERT INTO "compliance_decisionrecord"'), sent
    assert any("litigatorreview" in sql for sql in written[1:]), sent
    assert not any(sql.startswith("INSERT") for sql in sent[:opened] + sent[closed:]), sent
    assert LitigatorReview.objects.get().decision_id == response.json()["decision"]


def test_the_attempts_are_counted_on_the_campaigns_own_row_in_the_same_statement(api, miami, marketing):
    """No memory of a campaign's subject between checks: a campaign checked
    for the first time takes three statements too."""
    check(api, marketing.pk)
    other = CampaignFactory(purpose="marketing", dialing_mode="manual", subject="never checked")
    _response, sent = check(api, other.pk)
    assert len(sent) == 3 and 'ctx."subject"' in sent[1], sent


def test_a_campaign_changed_is_seen_by_the_next_check(api, miami, marketing, agent):
    """Florida's cap: 3 calls per 24 h on one subject, across campaigns."""
    other = CampaignFactory(purpose="marketing", dialing_mode="manual", subject="spring sale")
    record_id = check(api, marketing.pk)[0].json()["decision"]
    target = CampaignTarget.objects.create(campaign=other, phone_number=miami, next_attempt_at=EARLY_TUESDAY)
    for minutes in (10, 20, 30):
        CallAttempt.objects.create(
            target=target,
            campaign=other,
            phone_number=miami,
            subject="spring sale",
            agent=agent,
            decision_id=record_id,
            caller_id="+12125550100",
            handed_at=EARLY_TUESDAY - dt.timedelta(minutes=minutes),
            ended_at=EARLY_TUESDAY - dt.timedelta(minutes=minutes - 1),
            outcome=CallAttempt.Outcome.NO_ANSWER,
        )
    assert check(api, marketing.pk)[0].json()["allowed"] is True
    marketing.subject = "spring sale"
    marketing.save()
    response, sent = check(api, marketing.pk)
    body = response.json()
    assert body["reasons"] == ["frequency_cap"] and body["evidence"]["caps"][0]["attempts"] == 3, body
    assert len(sent) == 3  # counted on the subject the statement read
    marketing.status = "paused"
    marketing.save()
    assert set(check(api, marketing.pk)[0].json()["reasons"]) == {"frequency_cap", "campaign_inactive"}


def test_a_rule_changed_by_a_compliance_officer_is_seen_by_the_next_check(
    api, miami, marketing, client, compliance_officer
):
    before = check(api, marketing.pk)[0].json()
    assert before["allowed"] is True, before
    rule = JurisdictionRule.objects.get(jurisdiction="FL")
    data = {name: "" if getattr(rule, name) is None else getattr(rule, name) for name in rule.RECORD_FIELDS}
    login_with_otp(client, compliance_officer)
    data["weekday_window"] = "09:00-20:00"
    assert client.post(f"/admin/compliance/jurisdictionrule/{rule.pk}/change/", data).status_code == 302
    response, sent = check(api, marketing.pk)
    after = response.json()
    assert after["allowed"] is False and after["reasons"] == ["outside_calling_hours"], after
    assert after["evidence"]["ruleset_version"] not in ("", before["evidence"]["ruleset_version"])
    assert len(sent) == 4 and "compliance_jurisdictionrule" in sent[2], sent  # the rules, read once
    assert len(check(api, marketing.pk)[1]) == 3


@pytest.mark.sqlite
def test_every_change_to_the_rules_moves_the_stamp_and_no_value_comes_twice():
    """Whoever writes (QuerySet.update writes no history, the trigger still
    sees it); a value seen in a transaction rolled back is never given again."""
    seen = [RuleSetStamp.objects.get().version]
    florida = JurisdictionRule.objects.filter(jurisdiction="FL")
    florida.update(note="per counsel")
    seen.append(RuleSetStamp.objects.get().version)
    with pytest.raises(RuntimeError), transaction.atomic():
        florida.update(note="a draft")
        seen.append(RuleSetStamp.objects.get().version)
        raise RuntimeError("rolled back")
    florida.update(note="per counsel, again")
    seen.append(RuleSetStamp.objects.get().version)
    JurisdictionRule.objects.create(**{**florida.get().to_record(), "effective_from": dt.date(2030, 1, 1)})
    seen.append(RuleSetStamp.objects.get().version)
    JurisdictionRule.objects.filter(effective_from=dt.date(2030, 1, 1)).delete()
    seen.append(RuleSetStamp.objects.get().version)
    assert len(set(seen)) == 6, seen


def test_missing_rule_data_blocks_the_check_as_before(api, miami, marketing):
    JurisdictionRule.objects.all().delete()
    body = check(api, marketing.pk)[0].json()
    no_rules = ruleset_build([])
    expected = decide(
        facts_gather(
            number="+13057360001",
            context=campaign_call_context(campaign=marketing),
            at=EARLY_TUESDAY,
            rules=no_rules,
        ),
        no_rules,
    )
    assert body["allowed"] is False and "outside_calling_hours" in body["reasons"]
    assert body["reasons"] == list(expected.reasons)
    assert body["evidence"]["ruleset_version"] == no_rules.version


def test_a_missing_campaign_is_a_400_logging_nothing_in_two_statements(api, miami):
    response, sent = check(api, 999_999)
    assert response.status_code == 400
    assert response.json() == {"campaign": ['Invalid pk "999999" - object does not exist.']}
    assert len(sent) == 2, sent
    assert not DecisionRecord.objects.exists()


def test_an_unknown_number_is_decided_in_three_statements(api, marketing):
    check(api, marketing.pk, number="+13057369999")
    response, sent = check(api, marketing.pk, number="+13057369999")
    body = response.json()
    assert len(sent) == 3, sent
    # No consent and no registry data: a marketing call is not exempt, and the data is missing.
    assert body["allowed"] is False and "dnc_data_stale" in body["reasons"], body


@pytest.mark.sqlite
@pytest.mark.parametrize("number", ["+13057360001", "+13057369999", "+1 555 123 4567", "not a number"])
def test_a_context_row_gathers_what_the_campaigns_context_gathers(miami, marketing, number):
    gathered = facts_gather_in_force(
        number=number, context=campaign_context_row(campaign_id=marketing.pk), at=EARLY_TUESDAY
    )
    rules = ruleset_current()
    assert gathered.rules.version == rules.version
    context = campaign_call_context(campaign=marketing)
    assert gathered.facts == facts_gather(number=number, context=context, at=EARLY_TUESDAY, rules=rules)
    with pytest.raises(ContextMissing):
        facts_gather_in_force(
            number=number, context=campaign_context_row(campaign_id=999_999), at=EARLY_TUESDAY
        )


def test_postgresql_plans_the_checks_statements_once_per_connection(api, miami, marketing):
    """The three statements are bound and prepared by the server (config.settings'
    server_side_binding and prepare_threshold): from the third check on, PostgreSQL
    runs the plans it made, instead of parsing and planning the facts statement
    (a few milliseconds) on every call."""
    for _ in range(4):
        response, _sent = check(api, marketing.pk)
        assert response.status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("authtoken_token" in statement for statement in prepared), prepared
    assert any("compliance_rulesetstamp" in statement for statement in prepared), prepared
    assert any(statement.startswith('INSERT INTO "compliance_decisionrecord"') for statement in prepared)
