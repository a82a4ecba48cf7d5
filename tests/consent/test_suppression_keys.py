"""Erased numbers stay suppressed whatever key changes: the suppression key is
its own setting (never the secret key), and old suppression keys keep working
across a rotation until no entry made with them is left."""

import datetime as dt
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from rest_framework.test import APIClient

from campaigns import scrub
from campaigns.services import targets_add
from consent.models import DncRequest, SuppressionEntry
from consent.selectors import number_is_suppressed, suppression_key_usage
from consent.services import (
    consent_revoke,
    number_hash,
    suppression_add,
    suppression_hashes,
    suppression_key_id,
)
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]
NUMBER = "+12127360001"
KEY_A = "suppression-key-a-0123456789abcdef0123456789abcdef"
KEY_B = "suppression-key-b-fedcba9876543210fedcba9876543210"
WEEKDAY_MORNING_NY = "2026-11-17T15:00:00+00:00"


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def erase(compliance_officer, number: str = NUMBER):
    phone = PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=number)
    officer = APIClient()
    officer.force_authenticate(compliance_officer)
    response = officer.post(f"/api/v1/customers/{phone.customer_id}/erase/", {}, format="json")
    assert response.status_code == 200, response.content


def reasons(api, number: str = NUMBER) -> list[str]:
    campaign = CampaignFactory()
    response = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": number, "campaign": campaign.pk, "at": WEEKDAY_MORNING_NY},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()["reasons"]


def test_a_new_secret_key_leaves_erased_numbers_blocked(api, compliance_officer):
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        erase(compliance_officer)
        with override_settings(SECRET_KEY="a-rotated-secret-key-0123456789abcdef0123456789abcdef"):
            assert "customer_erased" in reasons(api)


def test_a_rotated_suppression_key_with_the_old_one_kept_leaves_erased_numbers_blocked(
    api, compliance_officer
):
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        erase(compliance_officer)
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A]):
        assert "customer_erased" in reasons(api)
        assert number_is_suppressed(e164=NUMBER)
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[]):
        # What the old key is kept for: without it the erased number is callable again.
        assert "customer_erased" not in reasons(api)


def test_the_scrub_finds_numbers_suppressed_under_an_old_key():
    phone = PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=NUMBER)
    campaign = CampaignFactory(status="draft")
    targets_add(campaign=campaign, numbers=[NUMBER], by=None)
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        suppression_add(e164=str(phone.number), source="api", reason="erased before")
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A]):
        summary = scrub.scrub_compute(
            campaign=campaign, at=dt.datetime(2026, 11, 17, 15, tzinfo=dt.UTC)
        ).as_json()
    assert summary["reasons"].get("customer_erased") == 1


def test_every_lookup_hashes_with_the_current_key_first_then_the_old_ones():
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A, KEY_B]):
        hashes = suppression_hashes(NUMBER)
        assert hashes[0] == number_hash(NUMBER)
        assert len(hashes) == 2, "a key listed twice is tried once"
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        assert hashes[1] == number_hash(NUMBER)
    assert suppression_key_id(KEY_A) != suppression_key_id(KEY_B)
    assert KEY_A not in suppression_key_id(KEY_A)


def run_rehash(*args) -> str:
    out = StringIO()
    call_command("suppression_rehash", *args, stdout=out)
    return out.getvalue()


def test_the_rehash_command_rekeys_what_it_can_and_says_which_key_must_stay():
    kept, gone = "+13055550101", "+13055550102"
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        suppression_add(e164=kept, source="api", reason="erased")
        suppression_add(e164=gone, source="api", reason="erased")
        consent_revoke(number=kept, via="api", by=None)  # the number is still held in clear here
    a_id, b_id = suppression_key_id(KEY_A), suppression_key_id(KEY_B)
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A]):
        output = run_rehash()
        assert "re-keyed 1 entry" in output
        usage = {row.key_id: (row.entries, row.role) for row in suppression_key_usage()}
        assert usage == {b_id: (1, "current"), a_id: (1, "old")}
        assert SuppressionEntry.objects.get(key_id=b_id).number_hash == number_hash(kept)
        assert number_is_suppressed(e164=kept) and number_is_suppressed(e164=gone)
        with pytest.raises(CommandError, match="keep it in CONSENTDESK_SUPPRESSION_KEYS_OLD"):
            run_rehash("--report-only", "--can-drop", a_id)
        DncRequest.objects.all().delete()
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[]):
        with pytest.raises(CommandError, match="not configured") as raised:
            run_rehash("--report-only")
        assert raised.value.returncode == 2


def test_the_rehash_command_lets_an_old_key_go_once_nothing_uses_it():
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        suppression_add(e164=NUMBER, source="api", reason="erased")
        consent_revoke(number=NUMBER, via="api", by=None)
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A]):
        assert "would re-key 1 entry" in run_rehash("--dry-run")
        assert SuppressionEntry.objects.get().key_id == suppression_key_id(KEY_A)
        run_rehash()
        assert "can be removed" in run_rehash("--report-only", "--can-drop", suppression_key_id(KEY_A))
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[]):
        assert number_is_suppressed(e164=NUMBER)


def test_suppressing_again_under_a_new_key_rekeys_the_old_entry():
    with override_settings(SUPPRESSION_HASH_KEY=KEY_A, SUPPRESSION_HASH_KEYS_OLD=[]):
        suppression_add(e164=NUMBER, source="api", reason="erased")
    with override_settings(SUPPRESSION_HASH_KEY=KEY_B, SUPPRESSION_HASH_KEYS_OLD=[KEY_A]):
        suppression_add(e164=NUMBER, source="api", reason="erased again")
        entry = SuppressionEntry.objects.get()
        assert (entry.number_hash, entry.key_id) == (number_hash(NUMBER), suppression_key_id(KEY_B))


def _load_settings(**changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSENTDESK_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="test-only-secret-key-for-the-suite-0123456789abcdefghijklmnop",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:///unused.sqlite3"),
        **changes,
    )
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_load_without_a_suppression_key_unless_debug():
    refused = _load_settings(DJANGO_DEBUG="0")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "CONSENTDESK_SUPPRESSION_KEY" in refused.stderr
    assert _load_settings(DJANGO_DEBUG="0", CONSENTDESK_SUPPRESSION_KEY=KEY_A).returncode == 0
    assert _load_settings(DJANGO_DEBUG="1").returncode == 0, "the demo gets a demo-only key"


def test_the_demo_key_is_never_the_secret_key():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SUPPRESSION_HASH_KEY != s.SECRET_KEY and 'demo-only' in s.SUPPRESSION_HASH_KEY)",
        ],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("CONSENTDESK_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "True", result.stderr


def _hash_in_a_fresh_process(**env_changes) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSENTDESK_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_changes)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from consent.services import number_hash; print(number_hash('{NUMBER}'))",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    "env",
    [{"DJANGO_DEBUG": "1"}, {"DJANGO_DEBUG": "0", "CONSENTDESK_SUPPRESSION_KEY": KEY_A}],
    ids=["demo", "production"],
)
def test_the_suppression_hash_does_not_depend_on_the_secret_key(env):
    """The finding: with the suppression key unset, the hash was keyed by the
    secret key, so a new secret key made every erased number callable again."""
    before = _hash_in_a_fresh_process(
        DJANGO_SECRET_KEY="secret-key-one-0123456789abcdef0123456789abcdef", **env
    )
    after = _hash_in_a_fresh_process(
        DJANGO_SECRET_KEY="secret-key-two-0123456789abcdef0123456789abcdef", **env
    )
    assert before == after
