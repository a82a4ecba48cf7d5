"""A campaign's litigator policy (issue 18, DESIGN.md "Campaigns"): `block |
flag | ignore`, stored when the campaign is created (block for marketing,
flag for informational) whichever way it is created, kept when the purpose
changes later, and never anything else in the database."""

import pytest
from django.db import IntegrityError, connection, transaction

from campaigns.models import Campaign
from campaigns.services import campaign_create, campaign_update
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

FIELDS = {"subject": "orders", "caller_id": "+12125550100", "dialing_mode": "manual", "status": "draft"}


@pytest.mark.parametrize(("purpose", "policy"), [("marketing", "block"), ("informational", "flag")])
def test_the_policy_is_stored_at_creation_by_purpose(purpose, policy, manager):
    created = campaign_create(fields={"name": "c", "purpose": purpose, **FIELDS}, by=manager, reason="new")
    assert Campaign.objects.get(pk=created.pk).litigator_policy == policy
    assert created.history.get().litigator_policy == policy
    assert CampaignFactory(purpose=purpose).litigator_policy == policy  # a plain save too


def test_a_chosen_policy_is_kept_and_a_later_purpose_change_leaves_it(manager):
    chosen = campaign_create(
        fields={"name": "c", "purpose": "marketing", "litigator_policy": "ignore", **FIELDS},
        by=manager,
        reason="new",
    )
    assert chosen.litigator_policy == "ignore"
    marketing = campaign_create(
        fields={"name": "m", "purpose": "marketing", **FIELDS}, by=manager, reason="new"
    )
    changed = campaign_update(
        campaign=marketing, fields={"purpose": "informational"}, by=manager, reason="why"
    )
    assert changed.litigator_policy == "block"


def test_the_database_refuses_an_unknown_or_empty_policy():
    campaign = CampaignFactory()
    for value in ("", "warn"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE campaigns_campaign SET litigator_policy = %s WHERE id = %s", [value, campaign.pk]
            )
    campaign.refresh_from_db()
    assert campaign.litigator_policy == "flag"


def test_the_admin_form_offers_the_policy(client, manager):
    from tests.otp import login_with_otp

    login_with_otp(client, manager)
    page = client.get("/admin/campaigns/campaign/add/")
    assert page.status_code == 200
    assert b'name="litigator_policy"' in page.content


def test_the_campaigns_api_takes_and_shows_the_policy(manager):
    """DESIGN.md "Campaigns": `litigator_policy?`, stored at creation."""
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    body = {"subject": "sale", "caller_id": "+12125550100", "dialing_mode": "manual", "status": "draft"}
    made = api.post("/api/v1/campaigns/", {**body, "name": "m", "purpose": "marketing"}, format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["litigator_policy"] == "block"
    chosen = api.post(
        "/api/v1/campaigns/",
        {**body, "name": "i", "purpose": "informational", "litigator_policy": "ignore"},
        format="json",
    )
    assert chosen.status_code == 201 and chosen.json()["litigator_policy"] == "ignore"
    bad = api.post(
        "/api/v1/campaigns/",
        {**body, "name": "b", "purpose": "marketing", "litigator_policy": "warn"},
        format="json",
    )
    assert bad.status_code == 400 and "litigator_policy" in bad.json()
    assert not Campaign.objects.filter(name="b").exists()
