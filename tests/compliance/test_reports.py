"""The compliance officer's reports: opt-out latency, blocked decisions by
reason, calls per state and hour against the windows, abandonment, registry
freshness and purge runs; charts on the page, CSV exports logged, only for
compliance officers."""

import csv
import datetime as dt
import io

import pytest

from accounts.models import AccessLog
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.scrub import scrub_context
from campaigns.services import targets_add
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.reports import ReportPeriod, reports_build
from compliance.retention import retention_purge
from compliance.services import decision_make
from consent.services import consent_revoke, sms_inbound_receive
from helpdesk.models import Queue
from helpdesk.services import ticket_create, ticket_opt_out
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.compliance import chart_svg
from tests.factories import CampaignFactory, ConsentGrantFactory, UserFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained_agent(agent):
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=30))
    return agent


@pytest.fixture
def informational_campaign(db):
    return CampaignFactory(name="Order updates", purpose="informational", dialing_mode="manual")


def report(key: str, *, until=None, days: int = 30):
    (built,) = reports_build(period=ReportPeriod(until=until or TUESDAY_MORNING, days=days), keys=[key])
    return built


def rows_by_first_column(built) -> dict:
    return {row[0]: row for row in built.rows}


def _stacked_day_totals(svg: str) -> list[float]:
    """Per day (x label), the sum of its stacked bars' values."""
    totals: dict[int, float] = {}
    for bar in chart_svg.bars(svg):
        totals[bar.index] = totals.get(bar.index, 0) + float(bar.value or 0)
    return [totals[i] for i in sorted(totals)]


def test_opt_out_latency_runs_from_the_request_to_its_effect_per_channel(agent, time_machine):
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=5))
    phone = ny_phone(1)
    queue = Queue.objects.create(name="Care")
    ticket = ticket_create(
        queue=queue,
        subject="Stop calling me",
        channel="email",
        by=agent,
        customer=phone.customer,
        type="opt_out",
    )
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=2))  # an agent acts on it 3 hours later
    ticket_opt_out(ticket=ticket, by=agent)
    sms_inbound_receive(from_number=str(ny_phone(2).number), body="STOP", by=None)

    built = report("opt_out_latency")

    by_channel = rows_by_first_column(built)
    assert by_channel["Help-desk ticket"][1] == 1
    assert by_channel["Help-desk ticket"][2] == "3.0 h"
    assert by_channel["SMS keyword"][5] < 1  # seconds: applied as it arrived
    assert "the slowest took 3.0 h, via Help-desk ticket" in built.summary
    assert "wait for a person: Help-desk ticket" in built.summary
    assert not built.flagged  # within the 10 business days the law allows
    assert "<svg" in built.chart


def test_an_opt_out_entered_weeks_after_the_request_is_flagged(time_machine):
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=1))
    asked = TUESDAY_MORNING - dt.timedelta(days=20)
    consent_revoke(number=str(ny_phone(3).number), via="admin", by=None, note="letter", requested_at=asked)

    built = report("opt_out_latency")

    assert built.flagged
    assert rows_by_first_column(built)["Admin"][4] == "20.0 days"
    assert "longer than the 10 business days" in built.summary


def _check(number: str, campaign, at):
    return decision_make(number=number, context=scrub_context(campaign), at=at, kind="check", actor=None)


def test_blocked_decisions_are_counted_per_reason_and_day(time_machine, decisions_follow_the_clock):
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    phone = ny_phone(4)
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(days=1))
    _check(str(phone.number), campaign, TUESDAY_MORNING - dt.timedelta(days=1))  # no consent, no registry
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=1))
    _check("+18005550199", campaign, TUESDAY_MORNING - dt.timedelta(hours=1))  # toll-free: no zone

    built = report("blocked_by_reason")

    counts = {row[0]: row[2] for row in built.rows}
    assert counts["consent_missing"] == 2
    assert counts["timezone_unknown"] == 1  # the toll-free number only
    assert "2 calls blocked and 0 allowed" in built.summary
    assert "<svg" in built.chart and "consent_missing" in built.chart


def test_a_past_call_logged_today_is_counted_on_the_day_of_the_call():
    """The database stamps `recorded_at` when the row is written (today, on
    the real clock); the report places each decision at the instant it
    decided for, as the seeded and imported past calls need."""
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    until = dt.datetime.combine(dt.date.today() - dt.timedelta(days=20), dt.time.min, tzinfo=dt.UTC)
    for i, days_before in enumerate((3, 3, 9)):
        decided = _check(str(ny_phone(40 + i).number), campaign, until - dt.timedelta(days=days_before))
        assert decided.record.recorded_at > until  # logged today, weeks after the call

    built = report("blocked_by_reason", until=until)

    assert "3 calls blocked" in built.summary
    assert {row[0]: row[2] for row in built.rows}["consent_missing"] == 3
    days = ReportPeriod(until=until, days=30).dates()
    per_day = dict(zip(days, _stacked_day_totals(built.chart), strict=True))
    three, nine = (until - dt.timedelta(days=3)).date(), (until - dt.timedelta(days=9)).date()
    assert {day for day, n in per_day.items() if n} == {three, nine}  # none today, when they were logged
    assert per_day[three] == 2 * per_day[nine]  # two decisions, then one (each with all its reasons)


def test_calls_are_shown_per_state_and_local_hour_against_their_windows(
    trained_agent, informational_campaign, time_machine
):
    time_machine.move_to(TUESDAY_MORNING)  # 11:00 in New York
    phone = ny_phone(5)
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False)
    targets_add(campaign=informational_campaign, numbers=[str(phone.number)], by=None)
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent)
    assert handoff is not None

    built = report("calls_by_state_hour", until=TUESDAY_MORNING + dt.timedelta(hours=1))

    rows = {(label, window): cells for label, window, cells in built.heatmap.rows}
    federal = rows[("federal (every call)", "08:00-21:00")]
    assert federal[11].count == 1 and not federal[11].outside
    assert federal[7].outside and federal[21].outside
    assert rows[("NY (federal window)", "08:00-21:00")][11].count == 1
    assert not built.flagged
    assert "none fell outside" in built.summary


def test_a_call_outside_the_window_that_applied_is_flagged(trained_agent, informational_campaign):
    """A call logged with Florida's 08:00-20:00 at 20:15 local: the report
    finds it, whatever let it through."""
    at = dt.datetime(2026, 11, 18, 1, 15, tzinfo=dt.UTC)  # 20:15 in Miami
    phone = ny_phone(6)
    record = _check(str(phone.number), informational_campaign, at).record
    record.evidence = {
        "zones": [{"zone": "America/New_York", "local_time": "2026-11-17T20:15:00-05:00"}],
        "states": ["FL"],
        "windows": [
            {"jurisdiction": "US", "zone": "America/New_York", "window": "08:00-21:00", "blocks": None},
            {"jurisdiction": "FL", "zone": "America/New_York", "window": "08:00-20:00", "blocks": None},
        ],
    }
    # The log is append-only in the database: a forged row goes in as a new one.
    record.pk = None
    record.save()
    target = CampaignTarget.objects.create(
        campaign=informational_campaign, phone_number=phone, next_attempt_at=at
    )
    CallAttempt.objects.create(
        target=target,
        campaign=informational_campaign,
        phone_number=phone,
        subject="orders",
        agent=trained_agent,
        decision=record,
        caller_id=informational_campaign.caller_id,
        handed_at=at,
    )

    built = report("calls_by_state_hour", until=at + dt.timedelta(hours=1))

    rows = {(label, window): cells for label, window, cells in built.heatmap.rows}
    assert rows[("FL (state rule)", "08:00-20:00")][20].count == 1
    assert rows[("FL (state rule)", "08:00-20:00")][20].outside
    assert built.flagged
    assert "1 fell outside a window that applied" in built.summary


def test_abandonment_per_campaign_names_the_campaign_over_three_percent():
    from tests.campaigns.test_abandonment import calls

    now = TUESDAY_MORNING
    over = CampaignFactory(name="Robo sale", dialing_mode="autodialed")
    fine = CampaignFactory(name="Manual follow-up", dialing_mode="manual")
    calls(over, {"connected": 95, "abandoned": 5}, now=now)
    calls(fine, {"connected": 50, "no_answer": 10}, now=now)

    built = report("abandonment", until=now)

    by_campaign = rows_by_first_column(built)
    assert by_campaign["Robo sale"][2:] == ["Active", 100, 100, 5, "5.00%"]
    # The limit binds predictive dialing only: a manual campaign has no rate, not 0%.
    assert by_campaign["Manual follow-up"][6] == "n/a (manual dialing)"
    assert built.flagged
    assert "over the 3% limit: Robo sale" in built.summary
    assert "Manual follow-up: n/a (manual dialing)" in built.chart
    assert "3% limit" in built.chart


def test_registry_freshness_flags_area_codes_older_than_31_days(tmp_path, time_machine):
    national = registry_source_ensure(key="national")
    file = tmp_path / "national.txt"
    file.write_text("2127360001\n3055550001\n")
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(days=40))
    registry_file_import(source=national, paths=[file])

    built = report("registry_freshness")

    row = rows_by_first_column(built)[str(national)]
    assert row[1:3] == [2, 2]  # area codes, numbers
    assert row[-1] == 2  # both stale
    assert built.flagged
    assert "212" in built.note and "dnc_data_stale" in built.note


def test_purge_runs_report_what_each_category_removed(time_machine):
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=1))
    retention_purge(category="purge_runs", dry_run=False)
    retention_purge(category="purge_runs", dry_run=True)

    built = report("purge_runs")

    (row,) = built.rows
    assert row[:2] == [
        "Purge run records",
        1,
    ]  # the category's label, not its key; the dry run is not counted
    # An instant (the page writes it in the viewer's format), not text in a format of its own.
    assert abs(row[6] - (TUESDAY_MORNING - dt.timedelta(hours=1))) < dt.timedelta(seconds=1)
    assert not built.flagged


def test_the_reports_page_shows_every_report_with_charts(client, compliance_officer):
    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    for key in (
        "opt_out_latency",
        "blocked_by_reason",
        "calls_by_state_hour",
        "abandonment",
        "registry_freshness",
        "purge_runs",
    ):
        assert f'id="report-{key}"' in html
    assert "http://" not in html.split("<svg", 1)[-1].split("</svg>")[0].replace("http://www.w3.org", "")


def test_a_report_exports_as_csv_and_the_export_is_logged(client, compliance_officer, time_machine):
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(hours=1))
    consent_revoke(number=str(ny_phone(7).number), via="api", by=None)
    login_with_otp(client, compliance_officer)

    response = client.get(
        "/compliance/reports/",
        {"report": "opt_out_latency", "export": "csv", "until": "2026-11-17", "days": "7"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["channel", "opt-outs", "median"]
    assert rows[1][:2] == ["API", "1"]
    log = AccessLog.objects.exclude(action="logged in").get()
    assert log.user == compliance_officer and log.action == "exported report (CSV)"


def test_a_bad_period_is_a_clear_400(client, compliance_officer):
    login_with_otp(client, compliance_officer)
    response = client.get("/compliance/reports/", {"days": "12", "until": "yesterday"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("persona", ["agent", "manager", "outsider"])
def test_only_compliance_officers_see_the_reports(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/compliance/reports/").status_code == 403
    assert client.get("/compliance/reports/", {"report": "abandonment", "export": "csv"}).status_code == 403


def test_the_reports_take_a_fixed_number_of_queries(
    client, compliance_officer, django_assert_max_num_queries
):
    from tests.campaigns.test_abandonment import calls

    for i in range(3):
        calls(
            CampaignFactory(name=f"Campaign {i}", dialing_mode="autodialed"),
            {"connected": 5},
            now=TUESDAY_MORNING,
        )
    for i in range(5):
        consent_revoke(number=str(ny_phone(100 + i).number), via="web", by=UserFactory())
    login_with_otp(client, compliance_officer)
    with django_assert_max_num_queries(20):
        assert client.get("/compliance/reports/").status_code == 200
