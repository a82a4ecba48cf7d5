"""The retention policies and purge runs in the admin speak plainly (issue 16,
item 9): a category by its label ("Call attempts (call detail records)"),
not its key (`call_attempts`); a dry run says what it would do in words and
the site's date format; a run's length in seconds, not "0:00:00.332908"."""

import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from compliance.models import PurgeRun, RetentionPolicy
from compliance.retention import retention_purge
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

LABEL = "Call attempts (call detail records)"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def officer_client(client, compliance_officer):
    login_with_otp(client, compliance_officer)
    return client


def test_the_policy_list_names_each_category_by_its_label(officer_client):
    page = _text(officer_client.get("/admin/compliance/retentionpolicy/").content.decode())

    assert LABEL in page
    assert "call_attempts" not in page and "consents_revoked" not in page
    assert "1826 days (5 years)" in page


def test_a_dry_run_says_what_it_would_do_in_words(officer_client):
    policy = RetentionPolicy.objects.get(category="call_attempts")

    response = officer_client.post(
        "/admin/compliance/retentionpolicy/",
        {"action": "dry_run_now", ACTION_CHECKBOX_NAME: [policy.pk]},
        follow=True,
    )

    text = _text(response.content.decode())
    assert re.search(
        LABEL.replace("(", r"\(").replace(")", r"\)")
        + r": would delete 0 row\(s\) dated before [A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d UTC\.",
        text,
    ), text
    assert "Call_attempts" not in text and "call_attempts:" not in text


def test_purge_runs_show_the_label_and_how_long_they_took(officer_client, compliance_officer):
    (run,) = retention_purge(category="call_attempts", dry_run=True, by=compliance_officer, trigger="admin")

    listing = _text(officer_client.get("/admin/compliance/purgerun/").content.decode())
    detail = _text(officer_client.get(f"/admin/compliance/purgerun/{run.pk}/change/").content.decode())

    for page in (listing, detail):
        assert LABEL in page
        assert compliance_officer.get_full_name() in page
        assert not re.search(r"\d:\d\d:\d\d\.\d", page)  # no raw timedelta
        assert re.search(r"(under 1 ms|\d+ ms|\d+\.\d s)", page)
    assert "call_attempts" not in listing.replace("category=call_attempts", "")
    assert "1826 days (5 years)" in detail


def test_the_purge_run_filter_lists_categories_by_label(officer_client):
    retention_purge(category="call_attempts", dry_run=True)

    page = officer_client.get("/admin/compliance/purgerun/").content.decode()
    filters = _text(page[page.index('id="changelist-filter"') :])

    assert LABEL in filters
    assert PurgeRun.objects.filter(category="call_attempts").exists()
    assert officer_client.get("/admin/compliance/purgerun/?category=call_attempts").status_code == 200
