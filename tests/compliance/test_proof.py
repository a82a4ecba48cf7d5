"""Proof of a call: from an attempt, one page (and the same as a PDF) that
shows why it was allowed at that instant."""

import datetime as dt
import io
import os
import re
from pathlib import Path

import pypdfium2
import pytest

from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt
from campaigns.services import targets_add
from compliance.decision_log import decision_log_seal, decision_log_verify
from compliance.evidence import EVIDENCE_VERSION
from compliance.models import DecisionRecord
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.rnd.services import rnd_import
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def allowed_call(agent, tmp_path, time_machine):
    return _handed(agent, tmp_path, time_machine)


def _handed(agent, tmp_path, time_machine, *, rnd_answer: str | None = None):
    """A marketing call by autodialer to a consenting New Yorker, handed to `agent`,
    with the RND's answer for the consent's date recorded an hour before (or none)."""
    time_machine.move_to(TUESDAY_MORNING)
    registry = tmp_path / "national.txt"
    registry.write_text("2127360000\n2127360999\n")
    sync = registry_file_import(source=registry_source_ensure(key="national"), paths=[registry])
    customer = CustomerFactory(first_name="Ines", last_name="Ito", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number="+12127360701")
    consent = ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        evidence={"disclosure_text": "I agree to marketing calls by autodialer.", "ip": "203.0.113.9"},
        granted_at=TUESDAY_MORNING - dt.timedelta(days=40),
    )
    campaign = CampaignFactory(
        name="Winter sale", purpose="marketing", dialing_mode="autodialed", caller_id="+12125550199"
    )
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    if rnd_answer:
        granted_on = consent.granted_at.astimezone(dt.UTC).date()
        asked = (TUESDAY_MORNING - dt.timedelta(hours=1)).isoformat()
        rnd_import(
            data=f"phone_number,date,answer,queried_at\n+12127360701,{granted_on},{rnd_answer},{asked}\n".encode()
        )
    targets_add(campaign=campaign, numbers=["+12127360701"], by=None)
    handoff = dialer.dialer_next(
        campaign=campaign, agent=agent, now=TUESDAY_MORNING + dt.timedelta(minutes=1)
    )
    assert handoff is not None, "the call should be allowed"
    decision_log_seal()
    return handoff.attempt, consent, sync


def test_the_proof_page_names_the_consent_the_registry_data_and_the_chain(
    client, compliance_officer, allowed_call
):
    attempt, consent, sync = allowed_call
    login_with_otp(client, compliance_officer)
    page = client.get(f"/compliance/attempts/{attempt.pk}/proof/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Consent #{consent.pk}" in html and "I agree to marketing calls by autodialer." in html
    assert f"sync run #{sync.pk}" in html and "not listed" in html
    assert "Tue, Nov 17, 2026 11:01 EST (America/New_York)" in html
    assert "+12125550199" in html  # the caller ID
    assert attempt.decision.ruleset_version in html
    assert "position 1" in html and "row hash verified" in html


def test_the_proof_pdf_is_the_same_record(client, compliance_officer, allowed_call):
    attempt, consent, sync = allowed_call
    login_with_otp(client, compliance_officer)
    answer = client.get(f"/compliance/attempts/{attempt.pk}/proof.pdf")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(io.BytesIO(answer.content))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Proof of call" in text and "+12127360701" in text
    assert f"Consent #{consent.pk}" in text and f"sync run #{sync.pk}" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(ARTIFACTS / "proof_of_call_page1.png")


def test_only_compliance_officers_see_proofs(client, agent, manager, allowed_call):
    attempt, _, _ = allowed_call
    for user in (agent, manager):
        client.force_login(user)
        assert client.get(f"/compliance/attempts/{attempt.pk}/proof/").status_code == 403
        assert client.get(f"/compliance/attempts/{attempt.pk}/proof.pdf").status_code == 403


def test_the_proof_page_reads_a_decision_logged_before_evidence_had_a_version(
    client, compliance_officer, allowed_call
):
    attempt, consent, sync = allowed_call
    new = attempt.decision
    assert new.evidence["evidence_version"] == EVIDENCE_VERSION
    old = DecisionRecord.objects.create(
        decided_at=new.decided_at,
        kind=new.kind,
        phone_number=new.phone_number,
        number_hash=new.number_hash,
        customer_id=new.customer_id,
        campaign_id=new.campaign_id,
        actor=new.actor,
        allowed=new.allowed,
        reasons=new.reasons,
        evidence={key: value for key, value in new.evidence.items() if key != "evidence_version"},
        facts=new.facts,
        ruleset_version=new.ruleset_version,
    )
    CallAttempt.objects.filter(pk=attempt.pk).update(decision=old)
    decision_log_seal()
    assert decision_log_verify().ok  # rows of either shape chain alike

    login_with_otp(client, compliance_officer)
    html = client.get(f"/compliance/attempts/{attempt.pk}/proof/").content.decode()
    assert f"Consent #{consent.pk}" in html and f"sync run #{sync.pk}" in html
    assert "America/New_York" in html and "row hash verified" in html
    assert "Consent needed: prior express written consent to marketing calls" in html


def test_the_proof_page_links_what_it_names_and_every_link_opens(client, compliance_officer, allowed_call):
    attempt, consent, sync = allowed_call
    login_with_otp(client, compliance_officer)
    html = client.get(f"/compliance/attempts/{attempt.pk}/proof/").content.decode()
    main = html[html.index("<main") :]
    hrefs = re.findall(r'href="([^"]+)"', main)

    customer = attempt.phone_number.customer
    assert f"/customers/{customer.pk}/" in hrefs and ">Ines Ito</a>" in main
    assert f"/admin/campaigns/campaign/{attempt.campaign_id}/change/" in hrefs and ">Winter sale</a>" in main
    assert f"/compliance/decisions/{attempt.decision_id}/" in hrefs
    assert "/compliance/timeline/?number=%2B12127360701" in hrefs
    assert f"/admin/consent/consentgrant/{consent.pk}/change/" in hrefs
    assert f"/admin/registry/syncrun/{sync.pk}/change/" in hrefs
    for href in hrefs:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_the_proof_page_shows_times_in_one_format_and_no_raw_values(
    client, compliance_officer, agent, allowed_call
):
    attempt, _, _ = allowed_call
    dialer.attempt_release(attempt=attempt, agent=agent)
    login_with_otp(client, compliance_officer)
    client.cookies["tz"] = "America/Chicago"
    html = client.get(f"/compliance/attempts/{attempt.pk}/proof/").content.decode()
    main = html[html.index("<main") :]

    assert "Nov 17, 2026 10:01 CST" in main  # handed to the agent, in the viewer's zone
    assert "Tue, Nov 17, 2026 11:01 EST (America/New_York) for the callee" in main
    assert "none: closed without an outcome" in main and "not recorded at" not in main
    assert "Released by the agent without an outcome." in main
    assert not re.search(r"\d{4}-\d\d-\d\d", main), "an ISO date shows through"
    assert "(max 31 days)" in main and " d)" not in main


def _proof_texts(client, attempt) -> tuple[str, str]:
    """The proof page's text and its PDF's."""
    page = client.get(f"/compliance/attempts/{attempt.pk}/proof/")
    assert page.status_code == 200
    answer = client.get(f"/compliance/attempts/{attempt.pk}/proof.pdf")
    pdf = pypdfium2.PdfDocument(io.BytesIO(answer.content))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    return re.sub(r"\s+", " ", page.content.decode()), re.sub(r"\s+", " ", text)


def test_the_proof_says_when_the_rnd_was_never_asked(client, compliance_officer, allowed_call):
    attempt, _consent, _sync = allowed_call
    login_with_otp(client, compliance_officer)
    for text in _proof_texts(client, attempt):
        assert "Reassigned Numbers Database" in text
        assert "the RND was never asked about" in text and "no safe harbor" in text
        assert "allowed by the company" in text and "RND policy “flag”" in text


def test_the_proof_shows_the_rnd_query_the_call_relied_on(
    agent, client, compliance_officer, tmp_path, time_machine
):
    attempt, consent, _sync = _handed(agent, tmp_path, time_machine, rnd_answer="no")
    query = attempt.decision.evidence["rnd"]
    assert query["answer"] == "no" and query["safe_harbor"] is True
    login_with_otp(client, compliance_officer)
    for text in _proof_texts(client, attempt):
        assert f"query #{query['query_id']} for" in text and "(consent date)" in text
        assert "answered “no” on" in text and f"via {query['provider']}, fresh (fresh for 720 hours)" in text
        assert "the safe harbor holds" in text and f"Consent #{consent.pk}" in text
