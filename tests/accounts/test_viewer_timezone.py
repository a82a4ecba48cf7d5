"""Pages show times in the viewer's zone (accounts.middleware.
ViewerTimezoneMiddleware): the IANA zone the `tz` cookie names (static/js/tz.js
sets it from the browser), with its abbreviation; UTC, said so, without the
cookie or with one that names no zone. The zone lasts one request, and the
API keeps ISO 8601 with an offset."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.middleware import TZ_COOKIE, viewer_zone
from helpdesk.services import ticket_create
from tests.factories import QueueFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

OPENED = dt.datetime(2026, 12, 2, 19, 18, tzinfo=dt.UTC)
MIDSUMMER = dt.datetime(2026, 7, 1, 19, 18, tzinfo=dt.UTC)


@pytest.fixture
def ticket_at(agent, time_machine):
    def opened(at: dt.datetime):
        time_machine.move_to(at, tick=False)
        return ticket_create(queue=QueueFactory(), subject="Where is my parcel?", channel="email", by=agent)

    return opened


def _opened_line(client, ticket) -> str:
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    start = page.index("<dt>Opened</dt>")
    return page[start : page.index("</div>", start)]


@pytest.mark.parametrize(
    ("zone", "at", "shown"),
    [
        ("America/New_York", OPENED, "Dec 2, 2026 14:18 EST"),
        ("America/New_York", MIDSUMMER, "Jul 1, 2026 15:18 EDT"),
        ("America/Los_Angeles", OPENED, "Dec 2, 2026 11:18 PST"),
        ("America/Phoenix", MIDSUMMER, "Jul 1, 2026 12:18 MST"),
        ("Europe/Berlin", OPENED, "Dec 2, 2026 20:18 CET"),
        ("UTC", OPENED, "Dec 2, 2026 19:18 UTC"),
    ],
)
def test_a_page_shows_a_time_in_the_zone_the_cookie_names_with_its_abbreviation(
    client, agent, ticket_at, zone, at, shown
):
    ticket = ticket_at(at)
    client.force_login(agent)
    client.cookies[TZ_COOKIE] = zone

    assert shown in _opened_line(client, ticket)


def test_the_cookie_as_the_browser_writes_it_is_read(client, agent, ticket_at):
    """static/js/tz.js writes the zone with encodeURIComponent: "/" is "%2F"."""
    ticket = ticket_at(OPENED)
    client.force_login(agent)
    client.cookies[TZ_COOKIE] = "America%2FNew_York"

    assert "Dec 2, 2026 14:18 EST" in _opened_line(client, ticket)


@pytest.mark.parametrize(
    "cookie",
    [None, "", "Mars/Olympus_Mons", "america/new_york", "../../etc/passwd", "EST5EDT" * 20, "New_York"],
)
def test_without_a_cookie_or_with_one_naming_no_zone_the_page_shows_utc(client, agent, ticket_at, cookie):
    ticket = ticket_at(OPENED)
    client.force_login(agent)
    if cookie is not None:
        client.cookies[TZ_COOKIE] = cookie

    response = client.get(f"/tickets/{ticket.pk}/")

    assert response.status_code == 200
    assert "Dec 2, 2026 19:18 UTC" in _opened_line(client, ticket)


def test_the_zone_lasts_one_request(client, agent, ticket_at):
    ticket = ticket_at(OPENED)
    client.force_login(agent)
    client.cookies[TZ_COOKIE] = "America/Los_Angeles"
    assert "PST" in _opened_line(client, ticket)
    assert timezone.get_current_timezone_name() == "UTC"  # deactivated after the response

    del client.cookies[TZ_COOKIE]

    assert "Dec 2, 2026 19:18 UTC" in _opened_line(client, ticket)


def test_the_admin_shows_times_in_the_viewers_zone_too(client, manager, ticket_at):
    ticket = ticket_at(OPENED)
    login_with_otp(client, manager)
    client.cookies[TZ_COOKIE] = "America/Chicago"

    page = client.get(f"/admin/helpdesk/ticket/{ticket.pk}/change/").content.decode()

    assert "Dec 2, 2026 13:18 CST" in page


def test_the_api_keeps_iso_8601_with_an_offset_whatever_the_cookie(client, agent, ticket_at):
    ticket = ticket_at(OPENED)
    client.force_login(agent)
    client.cookies[TZ_COOKIE] = "America/New_York"

    created = client.get(f"/api/v1/tickets/{ticket.pk}/").json()["created_at"]

    assert dt.datetime.fromisoformat(created) == OPENED
    assert created[-6:] in ("+00:00", "-05:00")


def test_only_real_iana_zones_are_taken():
    assert viewer_zone("America/New_York").key == "America/New_York"
    assert viewer_zone("Asia/Kolkata").key == "Asia/Kolkata"
    for bogus in ("", "Mars/Olympus_Mons", "x" * 65, "/etc/localtime"):
        assert viewer_zone(bogus) is None
