"""Managers build campaigns in the admin: the campaign with its script and
disclosure (saved with history naming them and why), targets from a CSV of
numbers or a segment of customers, the pre-launch scrub."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from campaigns.models import Campaign, CampaignScrub, CampaignTarget
from campaigns.services import targets_add
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

CAMPAIGN_FORM = {
    "name": "Winter offers",
    "status": "draft",
    "purpose": "marketing",
    "dialing_mode": "manual",
    "subject": "winter offers",
    "caller_id": "+12125550100",
    "window_start": "10:00",
    "window_end": "18:00",
    "max_attempts_per_day": "2",
    "starts_at_0": "2026-12-01",
    "starts_at_1": "09:00:00",
    "ends_at_0": "2026-12-31",
    "ends_at_1": "18:00:00",
    "script": "Hello, this is Acme about our winter offers.",
    "disclosure": "This is Acme Retail calling about offers. Say 'stop' and we will never call again.",
    "change_reason": "",
}


def test_a_manager_builds_a_campaign_and_history_names_them(client, manager):
    client.force_login(manager)
    response = client.post("/admin/campaigns/campaign/add/", {**CAMPAIGN_FORM, "change_reason": "Q4 plan"})
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert (campaign.window_start, campaign.max_attempts_per_day) == (dt.time(10), 2)
    assert campaign.disclosure.startswith("This is Acme") and campaign.created_by == manager
    created = campaign.history.get()
    assert (created.history_user, created.history_change_reason) == (manager, "Q4 plan")

    response = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/change/",
        {**CAMPAIGN_FORM, "window_end": "17:00", "change_reason": "Earlier close"},
    )
    assert response.status_code == 302
    latest = campaign.history.first()
    assert (latest.window_end, latest.history_user, latest.history_change_reason) == (
        dt.time(17),
        manager,
        "Earlier close",
    )


def test_a_window_that_ends_before_it_starts_is_refused(client, manager):
    client.force_login(manager)
    response = client.post("/admin/campaigns/campaign/add/", {**CAMPAIGN_FORM, "window_end": "09:00"})
    assert response.status_code == 200
    assert not Campaign.objects.exists()


def test_the_change_page_shows_targets_per_status_in_one_query(
    client, manager, django_assert_max_num_queries
):
    campaign = CampaignFactory(name="Counts")
    phones = [PhoneNumberFactory(number=f"+1212736{i:04d}") for i in range(1, 5)]
    targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)
    CampaignTarget.objects.filter(phone_number=phones[0]).update(status="suppressed")
    client.force_login(manager)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "Queued</a></td><td>3</td>" in page
    assert "Suppressed (may never be called)</a></td><td>1</td>" in page
    assert "no call answered by a person in the last 30 days" in page
    assert "Add targets" in page and "Pre-launch scrub" in page


def upload(client, campaign, content: bytes, **extra):
    return client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/targets/add/",
        {"source": "csv", "csv_file": SimpleUploadedFile("numbers.csv", content), "priority": "0", **extra},
    )


def test_a_csv_in_any_common_format_adds_the_known_numbers_and_reports_the_rest(client, manager):
    campaign = CampaignFactory()
    for number in ("+13055550123", "+13055550124", "+13055550125"):
        PhoneNumberFactory(number=number)
    targets_add(campaign=campaign, numbers=["+13055550125"], by=None)
    client.force_login(manager)

    response = upload(
        client,
        campaign,
        b"phone\n(305) 555-0123\n305.555.0124\n+1 305 555 0125\n\n3055550199\n305-555-0123\n",
    )

    assert response.status_code == 302
    assert set(CampaignTarget.objects.values_list("phone_number__number", flat=True)) == {
        "+13055550123",
        "+13055550124",
        "+13055550125",
    }
    text = " ".join(str(m) for m in response.wsgi_request._messages)
    assert "4 number(s) in the file: 2 added, 1 already targeted, 1 unknown" in text
    assert "+13055550199" in text
    added = CampaignTarget.objects.get(phone_number__number="+13055550123").history.get()
    assert added.history_user == manager


def test_one_bad_line_rejects_the_whole_file_naming_the_lines(client, manager):
    campaign = CampaignFactory()
    PhoneNumberFactory(number="+13055550123")
    client.force_login(manager)
    response = upload(client, campaign, b"305-555-0123\n555-01\n305,5550123\nnot a number\n")
    page = response.content.decode()
    assert response.status_code == 200
    assert "nothing changed" in page
    assert "Line 2:" in page and "Line 3: one column expected" in page and "Line 4:" in page
    assert not CampaignTarget.objects.exists()


def test_a_segment_by_state_consent_and_purchase_adds_its_customers(client, manager):
    campaign = CampaignFactory()
    now = timezone.now()
    wanted = PhoneNumberFactory(
        number="+13055550101",
        customer=CustomerFactory(state="FL", last_purchase_at=now - dt.timedelta(days=10)),
    )
    ConsentGrantFactory(phone_number=wanted, purpose="marketing", written=True)
    no_consent = PhoneNumberFactory(
        number="+13055550102",
        customer=CustomerFactory(state="FL", last_purchase_at=now - dt.timedelta(days=10)),
    )
    revoked = PhoneNumberFactory(
        number="+13055550103",
        customer=CustomerFactory(state="FL", last_purchase_at=now - dt.timedelta(days=10)),
    )
    ConsentGrantFactory(phone_number=revoked, purpose="marketing", revoked_at=now, revoked_via="api")
    old_buyer = PhoneNumberFactory(
        number="+13055550104",
        customer=CustomerFactory(state="FL", last_purchase_at=now - dt.timedelta(days=400)),
    )
    ConsentGrantFactory(phone_number=old_buyer, purpose="marketing")
    elsewhere = PhoneNumberFactory(
        number="+12125550105",
        customer=CustomerFactory(state="NY", last_purchase_at=now - dt.timedelta(days=10)),
    )
    ConsentGrantFactory(phone_number=elsewhere, purpose="marketing")
    client.force_login(manager)

    response = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/targets/add/",
        {
            "source": "segment",
            "states": ["FL"],
            "consent_purpose": "marketing",
            "consent_written": "on",
            "purchased_since": (now - dt.timedelta(days=30)).date().isoformat(),
            "priority": "5",
        },
    )

    assert response.status_code == 302
    (target,) = CampaignTarget.objects.all()
    assert (target.phone_number, target.priority) == (wanted, 5)
    assert no_consent.targets.count() == 0


def test_a_segment_needs_a_criterion(client, manager):
    campaign = CampaignFactory()
    client.force_login(manager)
    response = client.post(
        f"/admin/campaigns/campaign/{campaign.pk}/targets/add/", {"source": "segment", "priority": "0"}
    )
    assert response.status_code == 200 and "at least one criterion" in response.content.decode()


def test_agents_cannot_add_targets_or_see_the_scrub(client, agent):
    agent.is_staff = True
    agent.save()
    campaign = CampaignFactory()
    client.force_login(agent)
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/targets/add/").status_code == 403
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/scrub/").status_code == 403


def test_a_manager_runs_the_scrub_and_sees_counts_and_reasons(client, manager):
    campaign = CampaignFactory(status="draft", purpose="informational", dialing_mode="autodialed")
    consented = PhoneNumberFactory(number="+12127360001")
    ConsentGrantFactory(phone_number=consented, purpose="informational", written=False)
    PhoneNumberFactory(number="+12127360002")  # no consent: never
    targets_add(campaign=campaign, numbers=["+12127360001", "+12127360002"], by=None)
    client.force_login(manager)

    response = client.post(f"/admin/campaigns/campaign/{campaign.pk}/scrub/")
    assert response.status_code == 302
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/scrub/").content.decode()

    run = CampaignScrub.objects.get()
    assert run.status == "succeeded" and run.requested_by == manager
    assert run.result["reasons"]["consent_missing"] == 1
    assert 'id="scrub-never"' in page and "consent_missing" in page
    assert "There is no consent of the kind this call needs." in page


def test_compliance_officers_see_the_scrub_but_cannot_change_the_campaign(client, compliance_officer):
    campaign = CampaignFactory()
    login_with_otp(client, compliance_officer)
    assert client.get(f"/admin/campaigns/campaign/{campaign.pk}/scrub/").status_code == 200
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()
    assert "Pre-launch scrub" in page and "Add targets" not in page
    assert client.post(f"/admin/campaigns/campaign/{campaign.pk}/change/", CAMPAIGN_FORM).status_code == 403


def test_the_target_list_is_read_only_and_filtered_by_campaign(client, manager):
    campaign = CampaignFactory()
    PhoneNumberFactory(number="+13055550123")
    targets_add(campaign=campaign, numbers=["+13055550123"], by=None)
    target = CampaignTarget.objects.get()
    client.force_login(manager)
    listing = client.get(
        f"/admin/campaigns/campaigntarget/?campaign__id__exact={campaign.pk}&status__exact=queued"
    )
    assert listing.status_code == 200 and "+13055550123" in listing.content.decode()
    assert client.get("/admin/campaigns/campaigntarget/add/").status_code == 403
    assert client.post(f"/admin/campaigns/campaigntarget/{target.pk}/delete/").status_code == 403
