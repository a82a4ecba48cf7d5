"""Nobody edits or deletes history: every history row, decision, access log,
sync run, purge run and request-log row that exists before an attack is
still there, unchanged, after a superuser has tried every admin page and
every API endpoint on it (revert, change, delete, bulk delete, PUT, PATCH,
DELETE). New rows may appear (a change through a service writes history);
old ones never change."""

import datetime as dt

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import training_record
from campaigns import dialer
from campaigns.services import targets_add
from compliance.models import DecisionRecord, JurisdictionRule, RetentionPolicy
from compliance.retention import retention_purge
from consent.services import consent_revoke
from core.history import history_save
from helpdesk.models import Queue
from helpdesk.services import ticket_comment, ticket_create
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.factories import CampaignFactory, ConsentGrantFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

# Records written by services only, besides the history tables themselves.
RECORD_MODELS = (
    "compliance.DecisionRecord",
    "compliance.PurgeRun",
    "compliance.ChainVerification",
    "accounts.AccessLog",
    "registry.SyncRun",
    "registry.AreaCodeSync",
    "consent.SuppressionEntry",
    "helpdesk.DataRequestLog",
    "helpdesk.TicketEvent",
)


def record_models():
    history = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    return history + [apps.get_model(label) for label in RECORD_MODELS]


def snapshot() -> dict[str, dict]:
    snap = {}
    for model in record_models():
        pk = model._meta.pk.attname
        snap[model._meta.label] = {row[pk]: row for row in model.objects.values()}
    return snap


def assert_nothing_lost_or_changed(before: dict[str, dict]) -> None:
    after = snapshot()
    for label, rows in before.items():
        for pk, row in rows.items():
            assert pk in after[label], f"{label} #{pk} was deleted"
            assert after[label][pk] == row, f"{label} #{pk} was changed"


@pytest.fixture
def world(agent, superuser, time_machine):
    """One of everything that has history or is a record."""
    time_machine.move_to(TUESDAY_MORNING)
    phone = ny_phone(1)
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False)
    campaign = CampaignFactory(name="Order updates", purpose="informational", dialing_mode="manual")
    training_record(agent=agent, by=superuser, at=TUESDAY_MORNING - dt.timedelta(days=1))
    targets_add(campaign=campaign, numbers=[str(phone.number), str(ny_phone(2).number)], by=superuser)
    handoff = dialer.dialer_next(campaign=campaign, agent=agent)
    dialer.attempt_dispose(attempt=handoff.attempt, agent=agent, outcome="connected")
    consent_revoke(number=str(ny_phone(3).number), via="admin", by=superuser, note="letter")
    queue = Queue.objects.create(name="Care")
    ticket = ticket_create(
        queue=queue, subject="Question", channel="email", by=agent, customer=phone.customer
    )
    ticket_comment(ticket=ticket, body="We will call back.", public=True, by=agent)
    rule = JurisdictionRule.objects.filter(jurisdiction="FL").first()
    rule.note = "reviewed by counsel"
    history_save(rule, by=superuser, reason="review")
    policy = RetentionPolicy.objects.first()
    policy.note = "counsel's advice"
    history_save(policy, by=superuser, reason="note")
    retention_purge(category="purge_runs", dry_run=True)
    assert DecisionRecord.objects.exists()
    return {"phone": phone, "campaign": campaign, "ticket": ticket}


def test_no_history_table_has_an_admin_page(client, superuser):
    login_with_otp(client, superuser)
    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            assert model not in admin.site._registry
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 404, url


def test_every_admin_path_leaves_history_and_records_as_they_were(client, superuser, world):
    login_with_otp(client, superuser)
    before = snapshot()
    tried = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        base = f"admin:{opts.app_label}_{opts.model_name}"
        history_model = getattr(model, "history", None)
        if history_model is not None and hasattr(model_admin, "history_form_view"):
            assert client.get(reverse(f"{base}_history", args=[obj.pk])).status_code == 200
            for version in obj.history.all():
                url = reverse(f"{base}_simple_history", args=[obj.pk, version.history_id])
                assert client.post(url, {}).status_code == 403, f"revert of {opts.label} allowed"
                tried += 1
        if opts.label in RECORD_MODELS:
            change = client.post(reverse(f"{base}_change", args=[obj.pk]), {})
            assert change.status_code == 403, f"{opts.label} editable in the admin"
            delete = client.post(reverse(f"{base}_delete", args=[obj.pk]), {"post": "yes"})
            assert delete.status_code == 403, f"{opts.label} deletable in the admin"
            tried += 2
        # Bulk delete of everything listed: refused or not offered for records;
        # for other models it may delete rows, never their history.
        client.post(
            reverse(f"{base}_changelist"),
            {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
        )
        tried += 1
    assert tried > 30
    assert_nothing_lost_or_changed(before)


def _api_patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _api_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _concrete(route: str, value: int) -> str | None:
    """A URL of the route with every parameter set to `value`; None for
    format-suffix variants."""
    import re

    if "format" in route:
        return None
    path = route.lstrip("^").rstrip("$")
    path = re.sub(r"\(\?P<[a-z_]+>[^)]*\)", str(value), path)
    path = re.sub(r"<(?:int:)?[a-z_]+>", str(value), path)
    return "/" + path.replace("\\", "")


def test_every_api_endpoint_leaves_history_and_records_as_they_were(superuser, world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=superuser).key}")
    before = snapshot()
    ids = sorted(
        {world["phone"].pk, world["phone"].customer_id, world["campaign"].pk, world["ticket"].pk}
        | set(DecisionRecord.objects.values_list("pk", flat=True))
    )
    urls = set()
    for route, _entry in _api_patterns(get_resolver()):
        if not route.startswith("api/v1/"):
            continue
        for value in ids:
            url = _concrete(route, value)
            if url:
                urls.add(url)
    assert any("history" not in url for url in urls) and len(urls) > 20
    statuses = set()
    for url in sorted(urls):
        for method in ("put", "patch", "delete"):
            for payload in ({}, {"history_type": "-", "reasons": [], "allowed": True, "revoked_at": None}):
                response = getattr(api, method)(url, payload, format="json")
                assert response.status_code < 500, f"{method.upper()} {url}: {response.status_code}"
                statuses.add(response.status_code)
    assert statuses & {400, 403, 404, 405}
    assert_nothing_lost_or_changed(before)
