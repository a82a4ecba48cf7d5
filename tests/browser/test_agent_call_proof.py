"""The proof of an agent's call as a compliance officer sees it in a browser: the hash
chain's hashes and the registry file's checksum stay inside their cards at a
laptop's width and a narrow window's, and the PDF carries each one whole."""

import datetime as dt
import io

import pypdfium2
import pytest
from django.test import Client

from accounts.services import training_record
from campaigns import dialer
from campaigns.services import targets_add
from compliance.decision_log import decision_log_seal
from compliance.registry.services import registry_file_import, registry_source_ensure
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def sealed_call(agent, tmp_path, time_machine):
    """A marketing call, allowed on written consent, with registry data, sealed into the chain."""
    time_machine.move_to(TUESDAY_MORNING)
    registry = tmp_path / "national.txt"
    registry.write_text("2127360000\n")
    sync = registry_file_import(source=registry_source_ensure(key="national"), paths=[registry])
    phone = PhoneNumberFactory(
        customer=CustomerFactory(first_name="Ines", last_name="Ito", state="NY", postal_code="10001"),
        number="+12127360711",
    )
    ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        evidence={
            "disclosure_text": "I agree to marketing calls.",
            "form_url": "https://example.com/" + "x" * 120,
        },
        granted_at=TUESDAY_MORNING - dt.timedelta(days=40),
    )
    campaign = CampaignFactory(name="Winter sale", purpose="marketing", dialing_mode="autodialed")
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=["+12127360711"], by=None)
    handoff = dialer.dialer_next(
        campaign=campaign, agent=agent, now=TUESDAY_MORNING + dt.timedelta(minutes=1)
    )
    assert handoff is not None
    decision_log_seal()
    return handoff.attempt, sync


def _log_in(page, live_server, user) -> None:
    """The officer's session (password and authenticator code passed) in the browser."""
    client = Client()
    login_with_otp(client, user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


# Each card's content wider than the card (it would spill over), and each code
# element reaching past its card's right edge.
OVERFLOW = """() => [...document.querySelectorAll('.card')].map(card => {
  const right = card.getBoundingClientRect().right;
  return {
    spills: card.scrollWidth - card.clientWidth,
    codes_past_edge: [...card.querySelectorAll('code')].filter(c => c.getBoundingClientRect().right > right + 0.5).length,
  };
})"""


@pytest.mark.parametrize("width", [1280, 760])
def test_the_hashes_and_the_checksum_stay_inside_their_cards(
    live_server, page, artifacts, compliance_officer, sealed_call, width
):
    attempt, sync = sealed_call
    link = attempt.decision.chain
    _log_in(page, live_server, compliance_officer)
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"{live_server.url}/compliance/attempts/{attempt.pk}/proof/")
    page.screenshot(path=artifacts / f"proof_of_call_{width}.png", full_page=True)

    text = page.locator("main").inner_text()
    assert link.row_hash in text and link.prev_hash in text and sync.checksum in text
    for card in page.evaluate(OVERFLOW):
        assert card == {"spills": 0, "codes_past_edge": 0}
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_the_pdf_carries_each_hash_whole_on_its_pages(client, compliance_officer, sealed_call, artifacts):
    attempt, sync = sealed_call
    link = attempt.decision.chain
    login_with_otp(client, compliance_officer)

    pdf = pypdfium2.PdfDocument(
        io.BytesIO(client.get(f"/compliance/attempts/{attempt.pk}/proof.pdf").content)
    )

    text = "".join("".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf)))
    assert link.row_hash in text and link.prev_hash in text and sync.checksum in text
    for i in range(len(pdf)):  # nothing printed past the page's right margin
        pdf[i].render(scale=1.5).to_pil().save(artifacts / f"proof_of_call_pdf_page{i + 1}.png")
        page_width = pdf[i].get_width()
        textpage = pdf[i].get_textpage()
        rights = [textpage.get_charbox(c)[2] for c in range(textpage.count_chars())]
        assert max(rights, default=0) < page_width - 20
