"""A compliance officer in a real browser reads a number's contact record and
downloads it as a PDF; the PDF holds the number and the opt-out."""

import base64
import io
from pathlib import Path

import pypdfium2
import pytest
from django.contrib.auth.models import Group
from django_otp.oath import totp

from accounts.roles import COMPLIANCE_OFFICERS
from consent.services import consent_revoke
from helpdesk.models import Queue
from helpdesk.services import ticket_create, ticket_opt_out
from tests.factories import ConsentGrantFactory, CustomerFactory, PhoneNumberFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


def test_a_compliance_officer_reads_the_timeline_and_exports_it_as_pdf(live_server, page, artifacts):
    officer = UserFactory(username="carla.compliance", password=PASSWORD, is_staff=True, first_name="Carla")
    officer.groups.add(Group.objects.get(name=COMPLIANCE_OFFICERS))
    customer = CustomerFactory(first_name="Maya", last_name="Brooks", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number="+12127360901")
    ConsentGrantFactory(phone_number=phone)
    ticket = ticket_create(
        queue=Queue.objects.create(name="Customer care"),
        subject="No more calls please",
        channel="email",
        by=officer,
        customer=customer,
        type="opt_out",
    )
    ticket_opt_out(ticket=ticket, by=officer)
    consent_revoke(number="+12127360901", via="sms", by=None, note="STOP")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "carla.compliance")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    # Two-factor: first login, so the enrolment page; the code is the one an app would show.
    page.wait_for_url(f"{live_server.url}/two-factor/setup/**")
    assert page.locator(".qr svg").is_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    page.screenshot(path=artifacts / "two_factor_setup.png", full_page=True)
    page.fill("#id_code", f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8))):06d}")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/compliance/")

    page.goto(f"{live_server.url}/compliance/timeline/")
    page.fill("#id_number", "(212) 736-0901")
    page.click("#timeline-filter button[type=submit]")
    table = page.locator("#timeline table.timeline")
    table.wait_for()
    text = table.inner_text()
    assert "revoked via Help-desk ticket" in text and "Opt-out applied to +12127360901" in text
    assert "via sms" in text
    page.screenshot(path=artifacts / "compliance_timeline.png", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").click()
    pdf = pypdfium2.PdfDocument(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    pdf_text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "+12127360901" in pdf_text and "Opt-out applied" in pdf_text

    # The reports: the same two opt-outs in the latency report, with a chart.
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(f"{live_server.url}/compliance/reports/")
    latency = page.locator("#report-opt_out_latency")
    assert "2 opt-outs" in latency.inner_text()
    assert latency.locator("svg").count() == 1
    page.screenshot(path=artifacts / "compliance_reports.png", full_page=True)
