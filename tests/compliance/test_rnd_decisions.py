"""The RND answers and litigator lists reach the decision through the one
gatherer (issue 18): the check API, on PostgreSQL's one statement and the
portable path alike, voids a consent on a "yes", cites a fresh "no" as the
safe harbor, follows the company's RND policy, needs a fresh "no" for Maine
marketing, and applies the campaign's litigator policy, filing a flagged
number for review."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from compliance.facts import _in_force_portable, facts_gather_in_force
from compliance.models import RndPolicy
from compliance.registry.models import LitigatorReview
from compliance.rnd.services import rnd_import
from customers.models import Customer
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

AT = "2026-11-17T15:00:00+00:00"  # a Tuesday, 10:00 in New York and Maine
AT_INSTANT = datetime.fromisoformat(AT)
GRANTED = datetime(2026, 9, 1, 14, 0, tzinfo=UTC)
NEW_YORK = "+12127360001"
PORTLAND_ME = "+12077360001"


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def check(api, number, campaign):
    response = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": number, "campaign": campaign.pk, "at": AT},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def answers(*lines: tuple[str, str, str, datetime]) -> None:
    """Record RND answers as `rnd_import` does: (number, date sent, answer, queried at)."""
    text = "phone_number,date,answer,queried_at\n" + "".join(
        f"{number},{day},{answer},{queried.isoformat()}\n" for number, day, answer, queried in lines
    )
    rnd_import(data=text.encode())


@pytest.fixture
def consented():
    """A New York number with written marketing consent granted on 2026-09-01."""
    phone = PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=NEW_YORK)
    return ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True, granted_at=GRANTED)


@pytest.fixture
def autodialed():
    return CampaignFactory(purpose="marketing", dialing_mode="autodialed")


def test_a_yes_for_the_consents_date_blocks_as_reassigned(api, consented, autodialed):
    answers((NEW_YORK, "2026-09-01", "yes", AT_INSTANT - timedelta(days=2)))
    body = check(api, NEW_YORK, autodialed)
    assert "reassigned_number" in body["reasons"]
    assert body["evidence"]["consent"]["ids"] == []


def test_a_fresh_no_is_the_safe_harbor_and_the_policy_decides_without_one(api, consented, autodialed):
    flagged = check(api, NEW_YORK, autodialed)
    assert flagged["allowed"] is True
    assert (
        flagged["evidence"]["rnd"]["safe_harbor"] is False and flagged["evidence"]["rnd"]["policy"] == "flag"
    )

    policy = RndPolicy.objects.get()
    policy.policy, policy._change_reason = "block", "counsel: no call without the safe harbor"
    policy.save()
    assert check(api, NEW_YORK, autodialed)["reasons"] == ["rnd_unverified"]

    answers((NEW_YORK, "2026-09-01", "no", AT_INSTANT - timedelta(days=29)))
    body = check(api, NEW_YORK, autodialed)
    assert body["allowed"] is True, body["reasons"]
    rnd = body["evidence"]["rnd"]
    assert rnd["safe_harbor"] is True and rnd["answer"] == "no" and rnd["date_sent"] == "2026-09-01"
    assert rnd["consent_id"] == consented.pk and rnd["provider"] == "import"


def test_no_policy_row_reads_as_block(api, consented, autodialed):
    RndPolicy.objects.all().delete()
    assert check(api, NEW_YORK, autodialed)["reasons"] == ["rnd_unverified"]


def test_maine_marketing_needs_a_fresh_no_for_the_latest_contact(api, settings):
    customer = CustomerFactory(state="ME", postal_code="04101")
    Customer.objects.filter(pk=customer.pk).update(created_at=datetime(2025, 1, 5, 16, 0, tzinfo=UTC))
    customer.refresh_from_db()
    PhoneNumberFactory(customer=customer, number=PORTLAND_ME)
    manual = CampaignFactory(purpose="marketing", dialing_mode="manual")
    call_command("dnc_import", "--source", "national", _file(settings, [2075550000]), stdout=io.StringIO())
    assert "rnd_unverified" in check(api, PORTLAND_ME, manual)["reasons"]
    created_on = customer.created_at.astimezone(UTC).date().isoformat()
    answers((PORTLAND_ME, created_on, "no", AT_INSTANT - timedelta(days=1)))
    body = check(api, PORTLAND_ME, manual)
    assert "rnd_unverified" not in body["reasons"], body
    assert body["evidence"]["rnd"]["needed"] == "maine" and body["evidence"]["rnd"]["date_kind"] == "contact"


def _file(settings, numbers) -> str:
    from pathlib import Path

    path = Path(settings.VAR_DIR) / f"registry-{numbers[0]}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{n}\n" for n in numbers))
    return str(path)


@pytest.mark.parametrize(
    ("policy", "reasons", "reviews"), [("block", ["litigator_listed"], 0), ("flag", [], 1), ("ignore", [], 0)]
)
def test_the_campaigns_litigator_policy(api, consented, settings, policy, reasons, reviews):
    call_command("dnc_import", "--source", "litigator", _file(settings, [2127360001]), stdout=io.StringIO())
    campaign = CampaignFactory(purpose="marketing", dialing_mode="manual", litigator_policy=policy)
    body = check(api, NEW_YORK, campaign)
    assert body["reasons"] == reasons
    assert body["evidence"]["litigator"]["listed"] is True
    assert LitigatorReview.objects.count() == reviews
    if reviews:
        review = LitigatorReview.objects.get()
        assert review.number == NEW_YORK and review.decision_id == body["decision"]
        check(api, NEW_YORK, campaign)
        assert LitigatorReview.objects.count() == 1  # once per number


def test_informational_calls_read_the_litigator_list_too(api, consented, settings):
    call_command("dnc_import", "--source", "litigator", _file(settings, [2127360001]), stdout=io.StringIO())
    informational = CampaignFactory(purpose="informational", dialing_mode="manual")
    assert informational.litigator_policy == "flag"
    body = check(api, NEW_YORK, informational)
    assert body["allowed"] is True and body["evidence"]["litigator"]["flagged"] is True
    assert "registry" not in body["evidence"]  # the DNC registries still decide marketing calls only


def test_the_one_statement_and_the_portable_path_gather_the_same_rnd_facts(consented, autodialed, settings):
    from campaigns.selectors import campaign_call_context

    answers(
        (NEW_YORK, "2026-09-01", "no", AT_INSTANT - timedelta(days=3)),
        (NEW_YORK, "2026-09-01", "no_data", AT_INSTANT - timedelta(days=1)),  # the latest for the date
        (NEW_YORK, "2026-01-01", "yes", AT_INSTANT - timedelta(days=5)),
        (NEW_YORK, "2026-10-01", "no", AT_INSTANT + timedelta(days=1)),  # after the call: not known yet
    )
    call_command("dnc_import", "--source", "litigator", _file(settings, [2127360001]), stdout=io.StringIO())
    context = campaign_call_context(campaign=autodialed)
    one, _rules = facts_gather_in_force(number=NEW_YORK, context=context, at=AT_INSTANT)
    portable, _rules = _in_force_portable(number=NEW_YORK, context=context, at=AT_INSTANT, unless=None)
    assert one == portable
    assert [(a.date_sent.isoformat(), a.answer) for a in one.rnd] == [
        ("2026-09-01", "no_data"),
        ("2026-01-01", "yes"),
    ]
    assert one.rnd_policy == "flag" and one.customer_created_at is not None
    assert [fact.source for fact in one.registry if fact.listed] == ["litigator"]
