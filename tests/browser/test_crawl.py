"""The demo, walked as each persona: agent, manager, compliance officer and
admin log in and follow every link reachable from their landing page and
the admin index (tests/browser/crawl.py: breadth first, every kind of page
then MAX_VARIANTS other addresses of kinds already opened, within MAX_PAGES
pages each; never a form submitted). The test fails on any page, download
or request answering 4xx/5xx (a 403 behind a link the persona was shown is a
dead end: the link should not have been shown), a link that loses the
session, any console or script error, any request to a host other than the
server, and a kind of page the bound left unopened. Each finding names the
page whose link led there.

The data is the demo's own: `seed_demo` on this database, so the SQLite run
(`-m sqlite` in `.ci/run`) walks what `make run` shows, and the PostgreSQL
run in the suite walks the same data through the app's database role.

The server runs with the suite's settings, which are production's (DEBUG
off, two-factor on), not the demo's DEBUG=1: a 500 then shows the page a
user gets, and the walk passes the real login and two-factor forms (the
officer's and admin's codes come from a device, as tests/otp.py makes them),
which the demo skips. Everything else the demo shows is the same.

Links only: what opens behind a button or a form (the agent's call card, a
search) is for the pages' own tests.

Screenshots of each persona's main pages (landing page, admin index, main
menu) and a list of every page visited, with its status and time, go to
test-artifacts/crawl/ for review.

Committed failing, on purpose, with four dead ends in the admin (on both
databases): read-only user fields link to the user's change page, which
only a superuser may open (a campaign's and a DNC request's page for the
manager, a registry sync run's for the compliance officer: 403), and a
customer's page shows the manager "Legal hold…", which only compliance
officers may open (403). The test passes once those links are not shown.
"""

import io
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import Page

from accounts.demo import DEMO_LOGINS
from accounts.roles import COMPLIANCE_OFFICERS
from tests.browser.crawl import LINKS_JS, Crawler, CrawlResult, Visit
from tests.otp import totp_code, totp_device_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.sqlite,
    pytest.mark.django_db(transaction=True),
    # Seeding and four crawls (~440 pages): 2 minutes on two cores, 3 to 4
    # when others share them; the suite's 300 s would fail it there, hang or not.
    pytest.mark.timeout(600),
]

PERSONAS = ("agent", "manager", "compliance", "admin")
PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
# Every kind of page a persona reaches (the admin, who reaches the most,
# ~150), then 30 more addresses of kinds already opened. The test fails,
# naming the count, when the bound leaves a kind unopened.
MAX_PAGES = 200
MAX_VARIANTS = 30


@pytest.fixture
def demo_data(transactional_db):
    """The demo's schedule and data, as `make run` (scripts/run_demo.sh)
    sets them up. The registry's numbers table is unmanaged, so the flush
    after the test leaves it: it is emptied here."""
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    call_command("seed_demo", allow_production=True, stdout=io.StringIO())
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_number")


def log_in(crawler: Crawler, username: str) -> None:
    """Through the login form, and the two-factor form where the role needs
    it, with the code the persona's authenticator app would show."""
    user = get_user_model().objects.get(username=username)
    needs_code = user.is_superuser or user.groups.filter(name=COMPLIANCE_OFFICERS).exists()
    device = totp_device_for(user) if needs_code else None
    page = crawler.open("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORDS[username])
    page.click("main button[type=submit]")
    if device is not None:
        page.wait_for_url("**/two-factor/verify/**")
        page.fill("#id_code", totp_code(device))
        page.click("main button[type=submit]")
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith(("/login/", "/two-factor/")))


def walk(chromium, origin: str, persona: str, folder: Path) -> tuple[CrawlResult, str]:
    """One persona's crawl in a browser context of its own, with its main
    pages' screenshots (taken as the crawl opens them, or after it for a
    menu read too late); the list of pages visited goes beside them."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    start = [f"{origin}/"]
    if get_user_model().objects.get(username=persona).is_staff:
        start.append(f"{origin}/admin/")
    main = dict.fromkeys(start)
    covered: set[str] = set()  # main pages photographed, by the address linked
    shot: set[str] = set()  # by the address landed on

    def photograph(page: Page, url: str) -> None:
        covered.add(url)
        if page.url not in shot:
            shot.add(page.url)
            name = urlsplit(page.url).path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=folder / f"{persona}-{name}.png", full_page=True)

    def on_page(page: Page, visit: Visit) -> None:
        if len(main) == len(start):  # the site's main menu, from the first page showing it
            main.update(dict.fromkeys(page.eval_on_selector_all("header.topbar nav a", LINKS_JS)))
        if visit.url in main:
            photograph(page, visit.url)

    try:
        crawler = Crawler(
            context, origin=origin, max_pages=MAX_PAGES, max_variants=MAX_VARIANTS, on_page=on_page
        )
        log_in(crawler, persona)
        began = time.monotonic()
        result = crawler.crawl(start)
        seconds = time.monotonic() - began
        for url in main.keys() - covered:
            photograph(crawler.open(url), url)
    finally:
        context.close()
    summary = (
        f"{persona}: {len(result.visits)} pages ({result.variants} of them variants) in {seconds:.1f} s;"
        f" {result.left} links left, {result.left_kinds} of them to kinds of page not opened;"
        f" {len(result.findings)} finding(s)"
    )
    visits = [
        f"  {visit.status} {visit.seconds:5.2f} s depth {visit.depth} {visit.url}"
        + (" (download)" if visit.download else "")
        for visit in result.visits
    ]
    findings = [f"  finding: {finding}" for finding in result.findings]
    (folder / f"{persona}.txt").write_text("\n".join([summary, *visits, *findings]) + "\n")
    return result, summary


def test_each_persona_walks_the_demo_without_a_dead_end_an_error_or_a_foreign_request(
    live_server, chromium, plain_static, artifacts, demo_data, subtests
):
    folder = artifacts / "crawl"
    folder.mkdir(exist_ok=True)
    for persona in PERSONAS:
        with subtests.test(persona=persona):
            result, summary = walk(chromium, live_server.url, persona, folder)
            problems = [str(finding) for finding in result.findings]
            if result.left_kinds:
                problems.append(f"{result.left_kinds} kind(s) of page never opened: raise MAX_PAGES")
            assert not problems, "\n  ".join([summary, *problems])
