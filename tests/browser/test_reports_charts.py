"""The reports' charts as a compliance officer sees them in a browser: every
channel with opt-outs has its bars and the others say "no opt-outs", the
log axis' labels do not overlap, blocked decisions stand on the days of
their calls (not the day they were logged), and the abandonment chart draws
the 3% limit as a red line and no rate for a manual campaign."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.roles import COMPLIANCE_OFFICERS
from campaigns.scrub import scrub_context
from compliance.models import DecisionRecord
from compliance.services import decision_make
from consent.services import consent_revoke
from tests.campaigns.conftest import ny_phone
from tests.campaigns.test_abandonment import calls
from tests.factories import CampaignFactory, UserFactory
from tests.otp import login_with_otp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The bounding boxes of the texts of the axis that carries the limit line.
AXIS_LABEL_BOXES = """svg => {
  const axis = [...svg.querySelectorAll("g.axis")].find(g => g.querySelector("path.major"));
  return [...axis.querySelectorAll("text")].map(t => {
    const box = t.getBoundingClientRect();
    return {text: t.textContent, left: box.left, right: box.right, top: box.top, bottom: box.bottom};
  });
}"""
# Drawn bars (at least a pixel long): their label, value and where they stand.
BARS = """svg => [...svg.querySelectorAll("g.plot g.bar")].map(bar => {
  const rect = bar.querySelector("rect").getBoundingClientRect();
  const label = bar.querySelector("desc.x_label");
  return {label: label ? label.textContent : "", value: bar.querySelector("desc.value").textContent,
          x: Math.round(rect.left), width: rect.width, height: rect.height};
}).filter(bar => Math.min(bar.width, bar.height) >= 1)"""
TEXTS = """svg => [...svg.querySelectorAll("text")].map(t => t.textContent)"""
LIMIT_LINE = """svg => {
  const line = svg.querySelector("g.axis path.major");
  const label = line.parentNode.querySelector("text");
  return {stroke: getComputedStyle(line).stroke, dash: getComputedStyle(line).strokeDasharray,
          label: label.textContent};
}"""


def _overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]


@pytest.fixture
def officer_page(live_server, page):
    """The page, logged in as a compliance officer who passed two-factor."""
    officer = UserFactory(username="carla.compliance", is_staff=True, first_name="Carla")
    officer.groups.add(Group.objects.get(name=COMPLIANCE_OFFICERS))
    client = Client()
    login_with_otp(client, officer)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def test_the_charts_show_every_channel_the_days_of_the_calls_and_the_3_percent_limit(
    live_server, officer_page, artifacts
):
    page = officer_page
    now = timezone.now()
    # Opt-outs by SMS (applied as it arrived), through the preference page a
    # minute after the request and by a letter entered in the admin two days on.
    consent_revoke(number=str(ny_phone(901).number), via="sms", by=None, note="STOP")
    consent_revoke(
        number=str(ny_phone(902).number), via="web", by=None, requested_at=now - dt.timedelta(minutes=1)
    )
    consent_revoke(
        number=str(ny_phone(903).number), via="admin", by=None, requested_at=now - dt.timedelta(days=2)
    )
    # Calls of an autodialed and of a manual campaign, a week ago at 11:00 in New York.
    morning = (now - dt.timedelta(days=1)).replace(hour=16, minute=0)
    calls(
        CampaignFactory(name="Robo reminders", dialing_mode="autodialed"),
        {"connected": 98, "abandoned": 2},
        now=morning,
        days_ago=6,
    )
    calls(
        CampaignFactory(name="Manual follow-up", dialing_mode="manual"),
        {"connected": 40},
        now=morning,
        days_ago=6,
    )
    # Past calls logged today (as the demo seeds them): refused on their own days.
    sale = CampaignFactory(name="Winter sale", purpose="marketing", dialing_mode="prerecorded")
    for i, days_ago in enumerate((2, 5, 9, 9)):
        decision_make(
            number=str(ny_phone(910 + i).number),
            context=scrub_context(sale),
            at=now - dt.timedelta(days=days_ago, hours=1),
            kind="handoff",
            actor=None,
        )
    blocked_days = {d.decided_at.date() for d in DecisionRecord.objects.filter(allowed=False)}
    assert len(blocked_days) >= 4 and all(
        d.recorded_at.date() == now.date() for d in DecisionRecord.objects.all()
    )

    page.goto(f"{live_server.url}/compliance/reports/")

    latency = page.locator("#report-opt_out_latency svg")
    bars = latency.evaluate(BARS)
    # Median and p95 of each of the three channels with opt-outs, each drawn.
    assert sorted(bar["label"] for bar in bars) == sorted(2 * ["SMS keyword", "Preference page", "Admin"])
    labels = latency.evaluate(TEXTS)
    for channel in ("API", "Agent (during a call)", "Help-desk ticket"):
        assert f"{channel}: no opt-outs" in labels
    boxes = latency.evaluate(AXIS_LABEL_BOXES)
    assert [box["text"] for box in boxes][:2] == ["0.1 ms", "1 ms"] and "14 days: the law" in boxes[-1][
        "text"
    ]
    assert _overlapping(boxes) == []
    assert "2.0 days" in latency.inner_html()  # the admin's letter, printed beside its bar

    blocked = page.locator("#report-blocked_by_reason svg")
    columns = {bar["x"] for bar in blocked.evaluate(BARS)}
    assert len(columns) == len(blocked_days)  # one column per day with a refusal, none for today's logging

    abandonment = page.locator("#report-abandonment")
    limit = abandonment.locator("svg").evaluate(LIMIT_LINE)
    assert limit["label"] == "3% limit" and limit["stroke"] == "rgb(214, 69, 69)"  # red
    assert limit["dash"] in ("none", "0px")  # solid, unlike the dashed scale lines
    bars = abandonment.locator("svg").evaluate(BARS)
    assert [(bar["label"], bar["value"]) for bar in bars] == [("Robo reminders", "2.00%")]
    assert "Manual follow-up: n/a (manual dialing)" in abandonment.locator("svg").evaluate(TEXTS)
    abandonment.locator("summary").click()
    assert "n/a (manual dialing)" in abandonment.locator("table").inner_text()

    page.screenshot(path=artifacts / "compliance_reports_charts.png", full_page=True)
