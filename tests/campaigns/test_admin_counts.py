"""The campaign page and its scrub agree (issue 16, item 10): the page said
"Suppressed 0" where the scrub said "Never 15". The page now shows the
latest scrub's figures in the scrub's own words beside the queue's, and says
what each counts; the scrub page speaks in plain words and one date format."""

import re

import pytest

from campaigns.scrub import CLASS_LABELS
from campaigns.services import targets_add
from tests.factories import CampaignFactory, ConsentGrantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scrubbed(client, manager):
    campaign = CampaignFactory(
        name="Winter sale", status="draft", purpose="informational", dialing_mode="autodialed"
    )
    consented = PhoneNumberFactory(number="+12127360001")
    ConsentGrantFactory(phone_number=consented, purpose="informational", written=False)
    for i in range(2, 5):
        PhoneNumberFactory(number=f"+1212736000{i}")  # no consent: never callable
    targets_add(campaign=campaign, numbers=[f"+1212736000{i}" for i in range(1, 5)], by=None)
    client.force_login(manager)
    assert client.post(f"/admin/campaigns/campaign/{campaign.pk}/scrub/").status_code == 302
    return campaign


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_campaign_page_shows_the_scrubs_never_beside_the_queues_suppressed(client, scrubbed):
    page = client.get(f"/admin/campaigns/campaign/{scrubbed.pk}/change/").content.decode()

    scrub = _text(page[page.index('id="scrub-counts"') :])
    queue = _text(page[page.index('id="queue-counts"') : page.index('id="scrub-counts"')])
    assert f"{CLASS_LABELS['never']} 3" in scrub
    assert "Total 4" in scrub and "Why, and run it again" in scrub
    assert "Suppressed (may never be called) 0 Taken out for good" in queue
    assert "one the pre-launch scrub finds never callable stays queued until then" in queue


def test_before_any_scrub_the_campaign_page_offers_one(client, manager):
    campaign = CampaignFactory(name="Fresh")
    client.force_login(manager)

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    assert "None yet:" in page and f"/admin/campaigns/campaign/{campaign.pk}/scrub/" in page


def test_the_scrub_page_speaks_plainly_in_one_date_format(client, scrubbed, manager):
    page = client.get(f"/admin/campaigns/campaign/{scrubbed.pk}/scrub/").content.decode()

    text = _text(page)
    assert re.search(
        r"Scrub of [A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d UTC by " + manager.get_full_name(), text
    )
    assert re.search(r"before midnight [A-Z][a-z]{2} \d{1,2}, \d{4} 00:00 UTC", text)
    assert re.search(r"Took (under 1 ms|\d+ ms|\d+\.\d s);", text)
    assert "0:00:00" not in text
    assert "3: There is no consent of the kind this call needs. (consent_missing)" in text
    assert not re.search(r"\d{4}-\d\d-\d\d", text)


def test_the_hours_the_later_targets_open_are_shown_in_the_viewers_zone(client, manager, time_machine):
    import datetime as dt

    time_machine.move_to(dt.datetime(2026, 11, 17, 12, 30, tzinfo=dt.UTC))  # 07:30 in New York
    campaign = CampaignFactory(status="draft", purpose="informational", dialing_mode="autodialed")
    phone = PhoneNumberFactory(number="+12127360001")
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False)
    targets_add(campaign=campaign, numbers=["+12127360001"], by=None)
    client.force_login(manager)
    client.post(f"/admin/campaigns/campaign/{campaign.pk}/scrub/")
    client.cookies["tz"] = "America/New_York"

    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/scrub/").content.decode()

    opens = _text(page[page.index('id="scrub-opens"') :])
    assert "Nov 17, 2026 08:00 EST 1" in opens
    assert "+00:00" not in opens
