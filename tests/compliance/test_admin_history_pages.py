"""History pages of the admin read as a record, never as a form (issue 16,
items 9 and 10): a past version of a rule shows its values without inputs,
and the list of changes names values as the pages do (a person by name, a
time in the site's format, a choice by its label, a dash for nothing)."""

import re

import pytest
from django.utils import timezone

from compliance.models import JurisdictionRule
from consent.models import ConsentGrant
from consent.services import consent_revoke
from helpdesk.services import ticket_assign, ticket_create
from tests.factories import ConsentGrantFactory, PhoneNumberFactory, QueueFactory, UserFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

INPUTS = re.compile(r"<(input|select|textarea)\b[^>]*name=\"(?!csrfmiddlewaretoken)[^\"]+\"")


def _version_url(obj, label: str) -> str:
    version = obj.history.order_by("history_date").first()
    return f"/admin/{label}/{obj.pk}/history/{version.history_id}/"


def _form(page: str) -> str:
    return page[page.index('id="content-main"') :]


def test_a_past_version_of_a_rule_shows_its_values_and_no_inputs(client, compliance_officer):
    rule = JurisdictionRule.objects.filter(jurisdiction="AL").order_by("effective_from").first()
    assert rule is not None
    rule.citation = "Ala. Admin. Code 770-X-5-.17 (amended)"
    rule._change_reason = "test"
    rule.save()
    login_with_otp(client, compliance_officer)

    page = client.get(_version_url(rule, "compliance/jurisdictionrule")).content.decode()

    form = _form(page)
    assert not INPUTS.search(form), INPUTS.search(form).group(0)
    assert '<div class="readonly">' in form
    assert "Ala. Admin. Code 770-X-5-.17" in form and "(amended)" not in form  # the past value
    assert "Close" in page and "Revert" not in page


@pytest.mark.parametrize("persona", ["manager", "superuser"])
def test_a_past_version_of_a_customer_or_ticket_has_no_inputs_either(client, request, persona, agent):
    user = request.getfixturevalue(persona)
    phone = PhoneNumberFactory(number="+12127360042")
    phone.customer.first_name = "Changed"
    phone.customer.save()
    ticket = ticket_create(queue=QueueFactory(), subject="Refund", channel="email", by=agent)
    ticket_assign(ticket=ticket, assignee=agent, by=agent)
    login_with_otp(client, user)

    for obj, label in ((phone.customer, "customers/customer"), (ticket, "helpdesk/ticket")):
        response = client.get(_version_url(obj, label))
        assert response.status_code == 200, label
        form = _form(response.content.decode())
        assert not INPUTS.search(form), (label, INPUTS.search(form).group(0))
        assert "Change reason" not in form  # a form-only field has no past value


def test_the_changes_of_a_revoked_consent_read_in_plain_words(client, compliance_officer):
    officer_name = compliance_officer.get_full_name()
    grant = ConsentGrantFactory(phone_number=PhoneNumberFactory(number="+12127360042"))
    consent_revoke(number="+12127360042", via="sms", by=compliance_officer, note="Replied STOP")
    login_with_otp(client, compliance_officer)

    page = client.get(f"/admin/consent/consentgrant/{grant.pk}/history/").content.decode()

    changes = " ".join(page[page.index('id="change-history"') :].split())
    revoked_at = ConsentGrant.objects.get(pk=grant.pk).revoked_at
    shown_at = timezone.localtime(revoked_at).strftime("%b %-d, %Y %H:%M UTC")
    assert "Deleted user" not in changes and "pk=None" not in changes
    assert f"<strong>Revoked by:</strong> — &nbsp;&rarr;&nbsp;&nbsp;{officer_name}" in changes
    assert f"<strong>Revoked at:</strong> — &nbsp;&rarr;&nbsp;&nbsp;{shown_at}" in changes
    assert "<strong>Revoked via:</strong> — &nbsp;&rarr;&nbsp;&nbsp;SMS keyword" in changes
    assert "+00:00" not in changes


def test_an_assignment_in_a_tickets_history_names_the_person(client, manager, agent):
    sam = UserFactory(username="agent2", first_name="Sam", last_name="Second-Agent")
    ticket = ticket_create(queue=QueueFactory(), subject="Refund", channel="email", by=agent)
    ticket_assign(ticket=ticket, assignee=sam, by=manager)
    login_with_otp(client, manager)

    page = client.get(f"/admin/helpdesk/ticket/{ticket.pk}/history/").content.decode()

    changes = " ".join(page[page.index('id="change-history"') :].split())
    assert "<strong>Assignee:</strong> — &nbsp;&rarr;&nbsp;&nbsp;Sam Second-Agent" in changes
    assert "pk=None" not in changes
