"""The contact record of a number: everything that happened to it, in order,
with who and via what; exported as CSV and PDF; every read logged."""

import datetime as dt
import io
import re

import pypdfium2
import pytest
from django.utils.formats import date_format

from accounts.models import AccessLog
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.scrub import scrub_context
from campaigns.services import targets_add
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.services import decision_make
from helpdesk.models import Queue
from helpdesk.services import ticket_create, ticket_opt_out
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
)
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 16, 15, 0, tzinfo=dt.UTC)  # Monday 10:00 in New York
NUMBER = "+12127360801"


@pytest.fixture
def story(agent, time_machine, decisions_follow_the_clock):
    """Consented, called, opted out through a ticket, then refused."""
    time_machine.move_to(T0)
    customer = CustomerFactory(first_name="Farid", last_name="Khan", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    ConsentGrantFactory(
        phone_number=phone, purpose="informational", written=False, source="verbal", granted_at=T0
    )
    campaign = CampaignFactory(name="Delivery updates", dialing_mode="autodialed", purpose="informational")
    training_record(agent=agent, by=None, at=T0)
    targets_add(campaign=campaign, numbers=[NUMBER], by=None)

    time_machine.move_to(T0 + dt.timedelta(hours=1))
    handoff = dialer.dialer_next(campaign=campaign, agent=agent)
    assert handoff is not None
    dialer.attempt_dispose(
        attempt=handoff.attempt, agent=agent, outcome="connected", notes="asked to stop calls"
    )

    time_machine.move_to(T0 + dt.timedelta(hours=2))
    queue = Queue.objects.create(name="Customer care")
    ticket = ticket_create(
        queue=queue,
        subject="Please stop calling",
        channel="email",
        by=agent,
        customer=customer,
        type="opt_out",
    )
    ticket_opt_out(ticket=ticket, by=agent)

    time_machine.move_to(T0 + dt.timedelta(days=1))
    targets_add(campaign=CampaignFactory(name="Second try", dialing_mode="manual"), numbers=[NUMBER], by=None)
    second = CampaignFactory._meta.model.objects.get(name="Second try")
    assert dialer.dialer_next(campaign=second, agent=agent) is None  # refused: dnc_internal
    return customer, handoff, ticket


def test_the_timeline_shows_consent_call_ticket_opt_out_and_refusal_in_order(
    client, compliance_officer, agent, story
):
    _customer, handoff, ticket = story
    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/timeline/", {"number": "(212) 736-0801"})
    assert page.status_code == 200
    html = page.content.decode()
    milestones = [
        "Consent #",  # created
        f"Decision #{handoff.record.pk} (hand-off): allowed",
        "Call to +12127360801 in Delivery updates: Connected",
        f"Ticket #{ticket.pk} (opt-out request): created",
        "revoked via Help-desk ticket",
        "DNC request #",
        "Opt-out applied to +12127360801",
        "blocked: dnc_internal",
    ]
    positions = [html.find(text) for text in milestones]
    assert -1 not in positions, dict(zip(milestones, positions, strict=True))
    assert positions == sorted(positions), dict(zip(milestones, positions, strict=True))
    assert "asked to stop calls" in html and agent.get_full_name() in html  # the notes, and who
    assert AccessLog.objects.filter(user=compliance_officer, action="viewed timeline", target=NUMBER).exists()


def test_the_timeline_filters_by_kind_and_date(client, compliance_officer, story):
    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/timeline/", {"number": NUMBER, "kind": ["call"]}).content.decode()
    assert "Call to +12127360801" in html and "Decision #" not in html
    html = client.get(
        "/compliance/timeline/", {"number": NUMBER, "since": "2026-11-17", "until": "2026-11-17"}
    ).content.decode()
    assert "blocked: dnc_internal" in html and "Call to" not in html


def test_csv_and_pdf_exports_hold_the_record_and_are_logged(client, compliance_officer, story):
    login_with_otp(client, compliance_officer)
    answer = client.get("/compliance/timeline/", {"number": NUMBER, "export": "csv"})
    assert answer["Content-Type"].startswith("text/csv")
    rows = answer.content.decode().splitlines()
    assert rows[0] == "at (UTC),kind,what,detail,who,via,refers to,logged at (UTC)"
    assert any("dnc_internal" in row for row in rows)
    calls = [row for row in rows if ",call," in row]
    assert calls and all("decision #" in row for row in calls)  # a call still names the decision behind it
    answer = client.get("/compliance/timeline/", {"number": NUMBER, "export": "pdf"})
    assert answer["Content-Type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(io.BytesIO(answer.content))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "+12127360801" in text and "dnc_internal" in text
    actions = set(AccessLog.objects.filter(user=compliance_officer).values_list("action", flat=True))
    assert {"viewed timeline (csv)", "viewed timeline (pdf)"} <= actions


def test_a_bad_number_is_a_clear_error_and_others_cannot_look(client, compliance_officer, agent, manager):
    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/timeline/", {"number": "call me"})
    assert page.status_code == 400 and page.context["timeline"] is None
    for user in (agent, manager):
        client.force_login(user)
        assert client.get("/compliance/timeline/", {"number": NUMBER}).status_code == 403


@pytest.mark.sqlite
def test_the_registry_syncs_of_the_numbers_area_code_show_on_every_database(
    client, compliance_officer, tmp_path
):
    # The demo (SQLite) has no JSON `contains`: the page gave a 500 there.
    PhoneNumberFactory(customer=CustomerFactory(state="NY"), number=NUMBER)
    national = registry_source_ensure(key="national")
    listed = tmp_path / "national.txt"
    listed.write_text("2127360999\n3055550100\n")
    registry_file_import(source=national, paths=[listed])
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/timeline/", {"number": "(212) 736-0801"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "synced area code 212" in html
    assert "synced area code 212, 305" not in html  # only the number's own area code is named


def test_a_past_call_logged_today_is_placed_at_its_instant_and_says_when_it_was_logged(
    client, compliance_officer, agent
):
    """A call made ten days ago and entered today (the demo's seeded calls,
    an import): its decision and the call sit at the call's instant, before
    today's record changes; the decision says when it was logged."""
    customer = CustomerFactory(first_name="Lena", last_name="Ortiz", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    campaign = CampaignFactory(name="Order updates")
    called_at = dt.datetime.combine(dt.date.today() - dt.timedelta(days=10), dt.time(15, 0), tzinfo=dt.UTC)
    decided = decision_make(
        number=NUMBER, context=scrub_context(campaign), at=called_at, kind="handoff", actor=agent
    )
    assert decided.decision.allowed, decided.decision.reasons
    CallAttempt.objects.create(
        target=CampaignTarget.objects.create(
            campaign=campaign, phone_number=phone, next_attempt_at=called_at
        ),
        campaign=campaign,
        phone_number=phone,
        subject=campaign.subject,
        agent=agent,
        decision=decided.record,
        caller_id=campaign.caller_id,
        handed_at=called_at,
        outcome="connected",
    )
    ConsentGrantFactory(phone_number=phone)  # a record change today
    login_with_otp(client, compliance_officer)

    html = client.get("/compliance/timeline/", {"number": NUMBER}).content.decode()

    decision = html.find(f"Decision #{decided.record.pk} (hand-off): allowed")
    call = html.find("Call to +12127360801 in Order updates: Connected")
    consent = html.find("Consent #")
    assert -1 < decision < call < consent  # the call's instant, not when its rows were written
    when = date_format(called_at, "DATETIME_FORMAT")  # the viewer's zone: UTC without a tz cookie
    assert html.count(f'<time datetime="{called_at.isoformat()}">{when}</time>') == 2
    logged = date_format(decided.record.recorded_at, "DATETIME_FORMAT")
    assert f"logged {logged}" in html[decision - 600 : call]


def test_every_id_on_the_record_links_to_its_page(client, compliance_officer, story, tmp_path):
    customer, handoff, ticket = story
    national = registry_source_ensure(key="national")
    listed = tmp_path / "national.txt"
    listed.write_text("2127360999\n")
    registry_file_import(source=national, paths=[listed])
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/timeline/", {"customer": customer.pk})

    links = dict(
        (text.strip(), href)
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', page.content.decode())
    )
    assert links[f"Customer #{customer.pk}: Farid Khan"] == f"/customers/{customer.pk}/"
    assert links[NUMBER] == "/compliance/timeline/?number=%2B12127360801"
    assert (
        links[f"Decision #{handoff.record.pk} (hand-off): allowed"]
        == f"/compliance/decisions/{handoff.record.pk}/"
    )
    assert links[f"decision #{handoff.record.pk}"] == f"/compliance/decisions/{handoff.record.pk}/"
    assert (
        links["campaign Delivery updates"]
        == f"/admin/campaigns/campaign/{handoff.attempt.campaign_id}/change/"
    )
    assert links[f"Ticket #{ticket.pk} (opt-out request): created"] == f"/tickets/{ticket.pk}/"
    sync = f"sync run #{national.sync_runs.get().pk}"
    assert links[sync] == f"/admin/registry/syncrun/{national.sync_runs.get().pk}/change/"
    consent = next(text for text in links if text.startswith("Consent #"))
    for text in (
        f"Customer #{customer.pk}: Farid Khan",
        NUMBER,
        f"decision #{handoff.record.pk}",
        "campaign Delivery updates",
        sync,
        consent,
    ):
        assert client.get(links[text].replace("&amp;", "&")).status_code == 200, text


def test_the_record_says_each_value_in_words(client, compliance_officer, story):
    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/timeline/", {"number": NUMBER}).content.decode()
    assert "source: Verbal" in html and "source verbal" not in html
    assert "revoked via Help-desk ticket" in html and "revoked via ticket" not in html
    assert "+12127360801 via Help-desk ticket" in html  # the DNC request's channel
    assert re.search(r"\+12127360801 \((Mobile|Landline|VoIP|Unknown)\)", html)  # the kind's label
    assert "When (UTC)" not in html and not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", html)


@pytest.mark.sqlite
def test_rnd_answers_and_litigator_flags_are_on_the_record(client, compliance_officer):
    """Issue 18: the timeline shows the number's RND queries and its litigator
    review, flagged and decided, with who."""
    from compliance.registry.litigator import litigator_review_decide, litigator_review_flag
    from compliance.rnd.services import rnd_import

    PhoneNumberFactory(customer=CustomerFactory(state="NY"), number=NUMBER)
    rnd_import(
        data=f"phone_number,date,answer,queried_at\n{NUMBER},2026-09-01,no,2026-11-16T12:00:00+00:00\n".encode()
    )
    registry_source_ensure(key="litigator")
    review = litigator_review_flag(
        number=NUMBER, synced_at=None, decision_id=1, at=dt.datetime(2026, 11, 16, 13, 0, tzinfo=dt.UTC)
    )
    litigator_review_decide(review=review, by=compliance_officer, suppress=False, reason="another person")
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/timeline/", {"number": NUMBER})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reassigned Numbers Database: no: not disconnected since the date" in html
    assert "date sent Sep 1, 2026" in html
    assert "On Litigator list: flagged for a compliance officer" in html
    assert "Litigator review: Signed off: calls may go on" in html
    only = client.get("/compliance/timeline/", {"number": NUMBER, "kind": "decision"}).content.decode()
    assert "Reassigned Numbers Database" not in only
