"""The demo's past calls (seed_demo) are where a person expects them: each
decision and call at the instant of the call, over the two weeks before the
seed, while the database keeps its own stamp of when each row was written;
the reports and the contact record show them on their days."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Min
from django.utils import timezone

from campaigns.models import CallAttempt
from compliance.models import DecisionRecord
from compliance.reports import ReportPeriod, reports_build
from tests.compliance import chart_svg

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    started = timezone.now()
    call_command("seed_demo", stdout=io.StringIO())
    return started


def test_the_demo_seeds_past_calls_at_their_instants_and_the_reports_place_them_there(seeded):
    started = seeded
    attempts = list(CallAttempt.objects.select_related("decision"))
    assert attempts
    for attempt in attempts:
        # The call's instant, in the two weeks before the seed; its decision was made for it.
        assert started - dt.timedelta(days=15) <= attempt.handed_at < started - dt.timedelta(hours=1)
        assert attempt.decision.decided_at == attempt.handed_at
        assert attempt.decision.recorded_at >= started  # the database's stamp: when it was logged
    call_days = {attempt.handed_at.date() for attempt in attempts}
    assert len(call_days) == 14
    past = DecisionRecord.objects.filter(decided_at__lt=started - dt.timedelta(hours=1))
    assert past.aggregate(first=Min("recorded_at"))["first"] >= started

    (blocked,) = reports_build(period=ReportPeriod(until=timezone.now(), days=30), keys=["blocked_by_reason"])
    days_with_bars = {bar.index for bar in chart_svg.drawn(blocked.chart)}
    refused_days = {d.date() for d in past.filter(allowed=False).values_list("decided_at", flat=True)}
    assert (
        len(days_with_bars) >= len(refused_days) >= 10
    )  # a bar on each day of the past calls, not one today


def test_the_demo_routes_privacy_requests_and_complaints_to_their_queues(seeded):
    """A data request opened from a call lands with the privacy team, as in a real setup."""
    from helpdesk.models import Queue

    routes = {queue.name: queue.routed_types for queue in Queue.objects.all()}
    assert routes["Privacy requests"] == {"opt_out", "data_access", "erasure"}
    assert routes["Complaints"] == {"complaint"}
    assert routes["Customer care"] == set()
