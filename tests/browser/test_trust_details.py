"""Small things that tell a user the product is finished: every page has an
icon, the API docs load nothing from another host (they work offline), and a
page a role may not open says so on a styled page with a way back."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AGENTS, MANAGERS
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_the_api_docs_load_nothing_from_another_host_and_every_page_has_an_icon(live_server, page, artifacts):
    manager = UserFactory(username="mona.manager", password=PASSWORD, is_staff=True)
    manager.groups.add(Group.objects.get(name=MANAGERS))
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    failed = []
    # A request the browser aborted because the page moved on (the login's
    # redirect, now fast enough to cancel the icon's request) is no failure of
    # ours; the icon itself is fetched and checked below.
    page.on(
        "requestfailed",
        lambda request: None if "ERR_ABORTED" in (request.failure or "") else failed.append(request.url),
    )
    log_in(page, live_server, "mona.manager")

    page.goto(f"{live_server.url}/api/redoc/")
    page.wait_for_selector("text=ConsentDesk API", timeout=20_000)
    page.screenshot(path=str(artifacts / "redoc.png"))

    assert hosts == {live_server.url.split("/")[2]}, hosts
    assert not failed, failed
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.ok and icon.headers["content-type"].startswith("image/svg")
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("link[rel=icon]").count() == 1


def test_a_forbidden_page_is_styled_and_offers_a_way_back(live_server, page, artifacts):
    agent = UserFactory(username="andy.agent", password=PASSWORD)
    agent.groups.add(Group.objects.get(name=AGENTS))
    log_in(page, live_server, "andy.agent")

    response = page.goto(f"{live_server.url}/compliance/")

    assert response.status == 403
    page.screenshot(path=str(artifacts / "forbidden-agent.png"))
    assert page.locator("header.topbar").count() == 1
    assert page.get_by_role("heading", name="You cannot open this page").is_visible()
    assert page.get_by_role("link", name="Back to your start page").is_visible()
