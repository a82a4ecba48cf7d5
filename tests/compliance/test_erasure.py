import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessLog
from campaigns.models import CallAttempt, CampaignTarget
from compliance.erasure import customer_erase
from compliance.models import DecisionRecord, RetentionPolicy
from compliance.retention import retention_purge
from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import consent_revoke, number_hash, sms_inbound_receive
from core import erasure as erasure_hooks
from core.erasure import ErasureContext
from customers.models import Customer
from helpdesk.models import Comment, Ticket, TicketEvent
from helpdesk.services import ticket_comment, ticket_create, ticket_erase, ticket_opt_out
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    QueueFactory,
)

pytestmark = pytest.mark.django_db

NAME, EMAIL, NUMBER = "Zebulon", "zebulon.quirk@example.com", "+13055550177"


def _all_text_columns_containing(needle: str) -> list[str]:
    """Every (table.column) in the public schema whose text contains `needle`."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{needle}%"])
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


@pytest.fixture
def customer(manager):
    customer = CustomerFactory(
        first_name=NAME, last_name="Quirk", email=EMAIL, state="FL", postal_code="33101"
    )
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    ConsentGrantFactory(phone_number=phone, evidence={"disclosure_text": "I agree", "ip": "203.0.113.77"})
    customer.first_name = NAME  # a second history row holding the name
    customer.save()
    consent_revoke(number=NUMBER, via="api", by=manager, note="stop")
    sms_inbound_receive(from_number=NUMBER, body="who is this?", by=manager)
    return customer


NATIONAL = "(305) 555-0177"  # the number as people write it


def _call(phone, campaign, agent, notes: str) -> CallAttempt:
    api = APIClient()
    api.force_authenticate(agent)
    api.post(
        "/api/v1/compliance/check/",
        {"phone_number": str(phone.number), "campaign": campaign.pk},
        format="json",
    )
    target = CampaignTarget.objects.create(
        campaign=campaign, phone_number=phone, next_attempt_at=timezone.now()
    )
    return CallAttempt.objects.create(
        target=target,
        campaign=campaign,
        phone_number=phone,
        subject=campaign.subject,
        agent=agent,
        decision=DecisionRecord.objects.latest("id"),
        caller_id=campaign.caller_id,
        handed_at=timezone.now() - dt.timedelta(hours=1),
        notes=notes,
    )


@pytest.fixture
def var_dir(tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        yield tmp_path


@pytest.fixture
def planted(customer, manager, compliance_officer, var_dir):
    """The person's name, email and number where the help desk, the dialer,
    the access log and the scrub's cache put them, and the number and email
    mentioned on another customer's ticket and call."""
    queue = QueueFactory()
    phone = customer.phone_numbers.get()
    ticket = ticket_create(
        queue=queue,
        subject=f"{NAME} Quirk wants out",
        description=f"Write to {EMAIL} or call {NATIONAL}.",
        channel="email",
        by=manager,
        customer=customer,
        type="opt_out",
    )
    ticket_comment(ticket=ticket, body=f"{NAME} called from {NUMBER}, mail {EMAIL}", public=False, by=manager)
    ticket_comment(
        ticket=ticket, body="Second thoughts: keep calling", public=False, by=manager
    )  # history too
    Comment.objects.filter(ticket=ticket).first().save()
    ticket_opt_out(ticket=ticket, by=manager)  # an event naming the number
    other = ticket_create(
        queue=queue,
        subject="Invoice question",
        description=f"Caller said her brother is on {NATIONAL} ({EMAIL}); invoice 4471.",
        channel="phone",
        by=manager,
        customer=CustomerFactory(),
    )
    ticket_comment(ticket=other, body=f"Tried {NUMBER[2:]} twice.", public=False, by=manager)
    campaign = CampaignFactory()
    own_call = _call(phone, campaign, manager, f"{NAME} asked to send details to {EMAIL}")
    other_phone = PhoneNumberFactory(number="+13055550199")
    other_call = _call(other_phone, campaign, manager, f"Said to call her cousin at {NATIONAL} instead")
    viewed = AccessLog.objects.create(
        user=compliance_officer,
        action="viewed timeline",
        target=f"{NAME} Quirk, {NUMBER}, {EMAIL}",
        path="/compliance/timeline/?number=%2B13055550177",
    )
    searched = AccessLog.objects.create(
        user=compliance_officer,
        action="exported report (CSV)",
        target="Consent audit",
        path="/compliance/reports/consent_audit/?q=zebulon.quirk%40example.com&format=csv",
    )
    cache = var_dir / "cache"
    cache.mkdir()
    (cache / "scrub-places-0123456789abcdef.json").write_text(f'{{"1305555": ["{NUMBER}", true]}}')
    return {
        "ticket": ticket,
        "other": other,
        "own_call": own_call,
        "other_call": other_call,
        "viewed": viewed,
        "searched": searched,
    }


def _files_containing(folder: Path, needle: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle.lower() in p.read_text().lower()]


def test_erasure_leaves_the_number_only_as_a_suppression_hash(compliance_officer, customer, planted, var_dir):
    needles = (NAME, EMAIL, NUMBER, NUMBER[2:], NATIONAL, "203.0.113.77")
    assert all(_all_text_columns_containing(n) for n in (NAME, EMAIL, NUMBER, NATIONAL))  # found before
    assert _files_containing(var_dir, NUMBER)
    viewed_target = planted["viewed"].target
    api = APIClient()
    api.force_authenticate(compliance_officer)
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", {"reason": "GDPR request"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["numbers_suppressed"] == 1
    for needle in needles:
        assert _all_text_columns_containing(needle) == [], needle
        assert _files_containing(var_dir, needle) == [], needle
    entry = SuppressionEntry.objects.get()
    assert entry.number_hash == number_hash(NUMBER)
    assert entry.source == "api" and "GDPR request" in entry.reason
    assert Customer.objects.get(pk=customer.pk).is_erased
    assert ConsentGrant.objects.filter(phone_number__customer=customer).exists(), (
        "the consent record survives"
    )
    assert not DncRequest.objects.exists()
    _planted_copies_are_gone(planted, viewed_target, compliance_officer, var_dir)


def _planted_copies_are_gone(planted, viewed_target, compliance_officer, var_dir):
    # What the record needs stays: the ticket's type, status and dates; the
    # other ticket's and call's own words; who saw what, as a keyed hash.
    ticket = Ticket.objects.get(pk=planted["ticket"].pk)
    assert (ticket.type, ticket.subject, ticket.description) == (
        "opt_out",
        f"Opt-out request #{ticket.pk} (erased)",
        "(erased)",
    )
    assert ticket.status == "resolved" and ticket.created_at == planted["ticket"].created_at
    assert set(ticket.comments.values_list("body", flat=True)) == {"(erased)"}
    other = Ticket.objects.get(pk=planted["other"].pk)
    assert (
        other.description == "Caller said her brother is on (erased number) ((erased email)); invoice 4471."
    )
    assert other.comments.get().body == "Tried (erased number) twice."
    assert CallAttempt.objects.get(pk=planted["own_call"].pk).notes == "(erased)"
    assert CallAttempt.objects.get(pk=planted["other_call"].pk).notes == (
        "Said to call her cousin at (erased number) instead"
    )
    viewed = AccessLog.objects.get(pk=planted["viewed"].pk)
    assert viewed.target == "hmac:" + number_hash(viewed_target)
    assert viewed.user == compliance_officer and viewed.action == "viewed timeline"
    searched = AccessLog.objects.get(pk=planted["searched"].pk)
    assert searched.target == "Consent audit"  # names nobody: kept as it was
    assert searched.path == "/compliance/reports/consent_audit/?q=(erased email)&format=csv"
    assert TicketEvent.objects.filter(
        ticket=ticket, text__startswith="Opt-out applied to (erased number)"
    ).exists()
    for needle in (NUMBER, NUMBER[2:], EMAIL):
        assert _files_containing(var_dir, needle) == [], needle
    texts = [f"{t.subject} {t.description}" for t in Ticket.history.all()]
    texts += [c.body for c in Comment.history.all()] + [e.text for e in TicketEvent.objects.all()]
    texts += [a.notes for a in CallAttempt.objects.all()] + [
        f"{a.target} {a.path}" for a in AccessLog.objects.all()
    ]
    for needle in (NAME, EMAIL, NUMBER, NUMBER[2:], NATIONAL):
        assert not [t for t in texts if needle.lower() in t.lower()], needle


@pytest.mark.sqlite
def test_every_planted_copy_is_blanked_or_redacted_on_either_database(
    compliance_officer, customer, planted, var_dir
):
    viewed_target = planted["viewed"].target
    customer_erase(customer=customer, by=compliance_officer, via="api", reason="GDPR request")
    _planted_copies_are_gone(planted, viewed_target, compliance_officer, var_dir)


def test_erasure_is_refused_under_legal_hold(compliance_officer):
    customer = CustomerFactory(legal_hold=True, legal_hold_reason="litigation 2026-17")
    PhoneNumberFactory(customer=customer)
    api = APIClient()
    api.force_authenticate(compliance_officer)
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", {}, format="json")
    assert response.status_code == 409
    assert "legal hold" in response.json()["detail"] and "litigation 2026-17" in response.json()["detail"]
    assert not Customer.objects.get(pk=customer.pk).is_erased
    assert not SuppressionEntry.objects.exists()


def test_only_compliance_officers_erase(agent, manager, customer):
    for user in (agent, manager):
        api = APIClient()
        api.force_authenticate(user)
        assert api.post(f"/api/v1/customers/{customer.pk}/erase/", {}, format="json").status_code == 403


def _erase_by_retention(customer, officer):
    policy = RetentionPolicy.objects.get(category="inactive_customers")
    policy.active, policy.period_days = True, 3 * 365
    policy.save()
    Customer.objects.filter(pk=customer.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=4 * 365), last_purchase_at=None, last_inquiry_at=None
    )
    ConsentGrant.objects.filter(phone_number__customer=customer).update(
        granted_at=timezone.now() - dt.timedelta(days=4 * 365)
    )
    runs = {run.category: run for run in retention_purge(category="inactive_customers")}
    assert runs["inactive_customers"].anonymised == 1


def _erase_by_ticket(customer, officer):
    ticket = ticket_create(
        queue=QueueFactory(),
        subject="Erase me",
        channel="letter",
        by=officer,
        customer=customer,
        type="erasure",
        legal_basis="gdpr",
    )
    assert ticket_erase(ticket=ticket, by=officer) is True


def _erase_by_api(customer, officer):
    api = APIClient()
    api.force_authenticate(officer)
    assert api.post(f"/api/v1/customers/{customer.pk}/erase/", {}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("erase", "via", "revoked_via"),
    [
        (_erase_by_api, "api", "api"),
        (_erase_by_ticket, "ticket", "ticket"),
        (_erase_by_retention, "retention", "admin"),
    ],
)
def test_an_erasure_records_how_it_came(compliance_officer, erase, via, revoked_via):
    customer = CustomerFactory(first_name=NAME, email=EMAIL)
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    grant = ConsentGrantFactory(phone_number=phone)

    erase(customer, compliance_officer)

    grant.refresh_from_db()
    assert Customer.objects.get(pk=customer.pk).is_erased
    assert grant.revoked_via == revoked_via  # the contract's channels; retention has none of its own
    assert grant.history.first().history_change_reason == f"erasure ({via})"
    assert Customer.history.filter(id=customer.pk).first().history_change_reason == f"erasure ({via})"
    assert SuppressionEntry.objects.get(number_hash=number_hash(NUMBER)).source == via


def test_an_unknown_via_is_refused_before_anything_changes(customer):
    with pytest.raises(ValueError, match="via"):
        customer_erase(customer=customer, by=None, via="email", reason="x")
    assert not Customer.objects.get(pk=customer.pk).is_erased


def test_every_app_registers_its_erasure_hook_and_they_run_in_name_order():
    assert [name for name, _hook in erasure_hooks.erasure_hooks()] == [
        "accounts.access_log",
        "campaigns.call_notes",
        "campaigns.scrub_cache",
        "campaigns.targets",
        "helpdesk.tickets",
        "registry.litigator_reviews",
    ]


def test_hooks_get_the_person_as_they_were_and_a_failing_hook_undoes_the_erasure(customer, monkeypatch):
    seen: list[ErasureContext] = []

    def failing(context: ErasureContext) -> None:
        seen.append(context)
        raise RuntimeError("disk full")

    monkeypatch.setitem(erasure_hooks._HOOKS, "zz.failing", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        customer_erase(customer=customer, by=None, via="command", reason="test")

    (context,) = seen
    assert (context.customer_id, context.numbers, context.emails) == (customer.pk, (NUMBER,), (EMAIL,))
    assert (context.first_name, context.via) == (NAME, "command")
    assert context.keyed_hash(NUMBER) == number_hash(NUMBER)
    customer.refresh_from_db()
    assert not customer.is_erased and customer.first_name == NAME
    assert customer.phone_numbers.get().number == NUMBER
    assert not SuppressionEntry.objects.exists()


def test_queued_campaign_targets_of_the_person_are_suppressed_and_keep_their_record(customer, var_dir):
    phone = customer.phone_numbers.get()
    target = CampaignTarget.objects.create(
        campaign=CampaignFactory(), phone_number=phone, next_attempt_at=timezone.now(), attempts=2
    )
    customer_erase(customer=customer, by=None, via="admin", reason="test")
    target.refresh_from_db()
    assert (target.status, target.blocked_reasons, target.attempts) == ("suppressed", ["customer_erased"], 2)


def test_an_erasure_empties_the_scrub_cache_which_holds_sample_numbers(customer, var_dir):
    # campaigns.scrub keeps, per number prefix, a sample E.164 number and its
    # facts in VAR_DIR/cache/scrub-places-<digest>.json (safe to delete).
    (var_dir / "cache").mkdir()
    (var_dir / "cache" / "scrub-places-0123456789abcdef.json").write_text(
        f'{{"1305555": ["{NUMBER}", true, ["America/New_York"], "FL", 305]}}'
    )
    customer_erase(customer=customer, by=None, via="admin", reason="test")
    assert list((var_dir / "cache").iterdir()) == []


@pytest.mark.sqlite
def test_the_context_redacts_numbers_as_people_write_them_and_names_only_when_asked():
    context = ErasureContext(
        customer_id=1,
        numbers=(NUMBER, "+442079460018"),
        first_name=NAME,
        last_name="Quirk",
        emails=(EMAIL,),
        by=None,
        via="api",
        at=timezone.now(),
        keyed_hash=number_hash,
    )
    written = "+1 305 555 0177, (305) 555-0177, 1-305-555-0177, 305.555.0177, 3055550177, 020 7946 0018"
    assert context.redact(written) == ", ".join(["(erased number)"] * 6)
    assert not context.mentions("order 13055550177999 and 555-0177")  # other digits, a part only
    assert context.redact(f"{NAME} Quirk <{EMAIL.upper()}>") == f"{NAME} Quirk <(erased email)>"
    assert context.redact(f"{NAME} Quirk called; Zebulonia too", names=True) == (
        "(erased name) called; Zebulonia too"
    )
    assert set(context.search_terms()) == {"0177", "0018", EMAIL}
