"""Every door, checked for every persona.

The test walks the whole URLconf (pages, API, admin, exports, PDFs, docs,
healthz) and requests each URL as each persona, against the explicit table
below. A URL pattern with no row fails the test: a new door cannot be added
without saying who may open it. Admin rows are generated for every
registered ModelAdmin from ADMIN_ACCESS, written out by hand (not derived
from accounts.roles), so a newly registered model fails until it has a row.

Codes: an int is the exact status; LOGIN is a redirect to a login page (the
site's or the admin's); REDIRECT is a redirect elsewhere; OK is "let in": any
status below 500 that is not 401/403/404 nor a redirect to a login page (an
empty POST let in may answer 200, 302 or 400).
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AccessLog, TrainingPolicy
from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CampaignTarget
from campaigns.services import targets_add
from compliance.models import PurgeRun, RetentionPolicy
from compliance.registry.litigator import litigator_review_flag
from compliance.registry.models import AreaCodeSync, ShrinkHold, SyncRun
from compliance.registry.services import registry_source_ensure
from compliance.rnd.services import rnd_import
from consent.models import InboundMessage
from consent.preferences import preference_token
from consent.services import consent_revoke, suppression_add
from helpdesk.services import ticket_create, ticket_data_access
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    QueueFactory,
    UserFactory,
)
from tests.otp import login_with_otp

LOGIN, REDIRECT, OK = "login", "redirect", "ok"
APP_LIST = "admin/^(?P<app_label>"  # the admin's app index: its route lists the installed apps
ANON, AGENT, OTHER, MANAGER, OFFICER, ROOT = (
    "anonymous",
    "agent",
    "other_agent",
    "manager",
    "compliance_officer",
    "superuser",
)
PERSONAS = (ANON, AGENT, OTHER, MANAGER, OFFICER, ROOT)
STAFF = (MANAGER, OFFICER, ROOT)


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    expect: dict
    method: str = "get"
    kwargs: object = None  # callable(world) -> dict, or None to fill by parameter name
    query: str = ""


def _roles(allowed, *, yes, no, anon):
    """Expectations for a door open to `allowed` personas (superusers hold
    every role); the other agent expects what the agent does unless given."""
    allowed = set(allowed) | {ROOT}
    if AGENT in allowed:
        allowed.add(OTHER)
    return {p: anon if p == ANON else (yes if p in allowed else no) for p in PERSONAS}


def page(*allowed, yes=200, no=403, anon=LOGIN, **override):
    return {**_roles(allowed, yes=yes, no=no, anon=anon), **override}


def api(*allowed, yes=200, no=403, anon=401, **override):
    return {**_roles(allowed, yes=yes, no=no, anon=anon), **override}


def everyone(code):
    return dict.fromkeys(PERSONAS, code)


def _attempt(w):
    return {"pk": w["attempt"].pk}


ROLES_ALL = (AGENT, MANAGER, OFFICER)

ROWS: dict[str, Row] = {
    # Health, home, login and the public pages
    "healthz": Row(everyone(200)),
    "favicon.ico": Row(everyone(REDIRECT)),
    "": Row({**everyone(REDIRECT), ANON: LOGIN}),
    "login/": Row({**everyone(REDIRECT), ANON: 200}),
    "logout/": Row(everyone(LOGIN), method="post"),
    "password-reset/": Row(everyone(200)),
    "password-reset/sent/": Row(everyone(200)),
    "password-reset/<uidb64>/<token>/": Row(everyone(200)),
    "password-reset/done/": Row(everyone(200)),
    "two-factor/setup/": Row({**everyone(200), ANON: LOGIN}),
    "two-factor/verify/": Row({**everyone(REDIRECT), ANON: LOGIN}),
    "preferences/<str:token>/": Row(everyone(200), kwargs=lambda w: {"token": w["preference_token"]}),
    # API schema and docs
    "api/schema/": Row(api(*ROLES_ALL)),
    "api/docs/": Row(page(*ROLES_ALL)),  # the HTML docs: log in first, like every page
    "api/redoc/": Row(page(*ROLES_ALL)),
    # API: customers
    "api/v1/^customers/$": Row(api(MANAGER, OFFICER, **{AGENT: 400, OTHER: 400})),
    "api/v1/^customers/(?P<pk>[^/.]+)/$": Row(
        api(MANAGER, OFFICER), kwargs=lambda w: {"pk": w["customer"].pk}
    ),
    "api/v1/^customers/(?P<pk>[^/.]+)/legal-hold/$": Row(
        api(OFFICER, yes=400), method="post", kwargs=lambda w: {"pk": w["customer"].pk}
    ),
    "api/v1/customers/<int:pk>/erase/": Row(
        api(OFFICER, yes=OK), method="post", kwargs=lambda w: {"pk": w["spare_customer"].pk}
    ),
    # API: consent
    "api/v1/consents/revoke/": Row(api(*ROLES_ALL, yes=400), method="post"),
    # a provider's signature or an API token, never a session: 401 unsigned
    "api/v1/sms/inbound/": Row(everyone(401), method="post"),
    "api/v1/^consents/$": Row(api(MANAGER, OFFICER)),
    "api/v1/^consents/(?P<pk>[^/.]+)/$": Row(api(MANAGER, OFFICER), kwargs=lambda w: {"pk": w["consent"].pk}),
    "api/v1/^dnc/internal/$": Row(api(MANAGER, OFFICER)),
    # API: campaigns, check, dialer
    "api/v1/compliance/check/": Row(api(*ROLES_ALL, yes=400), method="post"),
    "api/v1/campaigns/<int:pk>/targets/": Row(
        api(MANAGER, yes=400), method="post", kwargs=lambda w: {"pk": w["campaign"].pk}
    ),
    "api/v1/dialer/next/": Row(api(AGENT, yes=400), method="post"),
    # The body is checked before any attempt is read (the disposition reads the
    # caller's own attempt in one statement, issue 17): the matrix's empty body
    # is a 400 for any attempt, which says nothing of it; a valid body on someone
    # else's attempt is a 404 (tests/campaigns/test_agent_scope.py).
    "api/v1/dialer/attempts/<int:pk>/disposition/": Row(api(AGENT, yes=400), method="post", kwargs=_attempt),
    "api/v1/^campaigns/$": Row(api(*ROLES_ALL)),
    "api/v1/^campaigns/(?P<pk>[^/.]+)/$": Row(api(*ROLES_ALL), kwargs=lambda w: {"pk": w["campaign"].pk}),
    # API: tickets
    "api/v1/tickets/<int:ticket_id>/comments/": Row(
        api(*ROLES_ALL), kwargs=lambda w: {"ticket_id": w["ticket"].pk}
    ),
    "api/v1/^tickets/$": Row(api(*ROLES_ALL)),
    "api/v1/^tickets/(?P<pk>[^/.]+)/$": Row(api(*ROLES_ALL), kwargs=lambda w: {"pk": w["ticket"].pk}),
    "api/v1/^tickets/(?P<pk>[^/.]+)/assign/$": Row(
        api(*ROLES_ALL, yes=400), method="post", kwargs=lambda w: {"pk": w["ticket"].pk}
    ),
    # Compliance pages, exports and PDFs
    "compliance/": Row(page(OFFICER)),
    "compliance/decisions/<int:pk>/": Row(page(OFFICER), kwargs=lambda w: {"pk": w["attempt"].decision_id}),
    "compliance/syncs/running/": Row(page(OFFICER)),
    "compliance/reports/": Row(page(OFFICER)),
    "compliance/timeline/": Row(page(OFFICER)),
    "compliance/attempts/<int:pk>/proof/": Row(page(OFFICER), kwargs=_attempt),
    "compliance/attempts/<int:pk>/proof.pdf": Row(page(OFFICER), kwargs=_attempt),
    # The agent's dialer page
    "agent/": Row(page(AGENT)),
    "agent/dialer/next/": Row(page(AGENT, yes=400), method="post"),
    "agent/dialer/attempts/<int:attempt_id>/disposition/": Row(
        page(AGENT, **{OTHER: 404, ROOT: 404}),
        method="post",
        kwargs=lambda w: {"attempt_id": w["attempt"].pk},
    ),
    "agent/dialer/attempts/<int:attempt_id>/release/": Row(
        page(AGENT, **{OTHER: 404, ROOT: 404}),
        method="post",
        kwargs=lambda w: {"attempt_id": w["attempt"].pk},
    ),
    # The help desk
    "tickets/": Row(page(*ROLES_ALL)),
    "tickets/new/": Row(page(*ROLES_ALL)),
    "tickets/quick/": Row(page(*ROLES_ALL, yes=OK), method="post"),
    "tickets/queue/<int:queue_id>/": Row(page(*ROLES_ALL), kwargs=lambda w: {"queue_id": w["queue"].pk}),
    "tickets/<int:ticket_id>/": Row(page(*ROLES_ALL)),
    "tickets/<int:ticket_id>/comment/": Row(page(*ROLES_ALL, yes=OK), method="post"),
    "tickets/<int:ticket_id>/assign/": Row(page(*ROLES_ALL, yes=OK), method="post"),
    "tickets/<int:ticket_id>/status/": Row(page(*ROLES_ALL, yes=OK), method="post"),
    "tickets/<int:ticket_id>/opt-out/": Row(page(*ROLES_ALL, yes=OK), method="post"),
    "tickets/<int:ticket_id>/export/": Row(
        page(MANAGER, OFFICER), kwargs=lambda w: {"ticket_id": w["access"].pk}
    ),
    "tickets/<int:ticket_id>/export/produce/": Row(page(MANAGER, OFFICER, yes=OK), method="post"),
    "tickets/<int:ticket_id>/export.json": Row(
        page(MANAGER, OFFICER), kwargs=lambda w: {"ticket_id": w["access"].pk}
    ),
    "tickets/<int:ticket_id>/erase/": Row(
        page(OFFICER, yes=OK), method="post", kwargs=lambda w: {"ticket_id": w["erasure"].pk}
    ),
    "customers/": Row(page(*ROLES_ALL)),
    "customers/<int:customer_id>/": Row(page(*ROLES_ALL)),
    "customers/<int:customer_id>/numbers/<int:phone_id>/reassigned/": Row(
        page(AGENT, OFFICER, yes=OK),
        method="post",
        kwargs=lambda w: {
            "customer_id": w["customer"].pk,
            "phone_id": w["customer"].phone_numbers.order_by("pk").first().pk,
        },
    ),
}

# Extra requests on the same doors: exports by query string, and writes on
# read/write API resources (the walk checks each pattern once, with GET).
EXTRA_REQUESTS: list[tuple[str, Row]] = [
    ("compliance/timeline/", Row(page(OFFICER), query="export=csv&number=%2B12127360042")),
    ("compliance/timeline/", Row(page(OFFICER), query="export=pdf&number=%2B12127360042")),
    ("compliance/reports/", Row(page(OFFICER), query="export=csv")),
    ("api/v1/^customers/$", Row(api(*ROLES_ALL), query="phone=%2B12127360042")),  # agents: by number
    ("customers/", Row(page(*ROLES_ALL), query="q=hughes")),  # agents: by name or number
    ("api/v1/^customers/$", Row(api(MANAGER, yes=400), method="post")),
    (
        "api/v1/^customers/(?P<pk>[^/.]+)/$",
        Row(
            api(MANAGER, **{AGENT: 403, OFFICER: 403}),
            method="patch",
            kwargs=lambda w: {"pk": w["customer"].pk},
        ),
    ),
    (
        "api/v1/^customers/(?P<pk>[^/.]+)/$",
        Row(api(MANAGER, yes=400), method="delete", kwargs=lambda w: {"pk": w["customer"].pk}),
    ),
    ("api/v1/^campaigns/$", Row(api(MANAGER, yes=400), method="post")),
    ("api/v1/^consents/$", Row(api(MANAGER, yes=400), method="post")),
    ("api/v1/^dnc/internal/$", Row(api(*ROLES_ALL, yes=400), method="post")),
    ("api/v1/^tickets/$", Row(api(*ROLES_ALL, yes=400), method="post")),
]


# ------------------------------------------------------------------- admin

# Per registered model, who may open its list and change pages (view), its
# add page, edit a row, and open its delete page. Superusers are listed
# where they may: a few doors are shut to everyone (history and logs).
V, A, C, D = "view", "add", "change", "delete"
M_, O_, S_ = MANAGER, OFFICER, ROOT

ADMIN_ACCESS: dict[str, dict[str, set]] = {
    "accounts.accesslog": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "accounts.trainingacknowledgement": {V: {M_, O_, S_}, A: {M_, S_}, C: set(), D: set()},
    "accounts.trainingpolicy": {V: {M_, S_}, A: set(), C: {M_, S_}, D: set()},
    "axes.accessattempt": {V: {S_}, A: set(), C: {S_}, D: {S_}},
    "axes.accessfailurelog": {V: {S_}, A: set(), C: {S_}, D: {S_}},
    "axes.accesslog": {V: {S_}, A: set(), C: {S_}, D: {S_}},
    "auth.group": {V: {S_}, A: {S_}, C: {S_}, D: {S_}},
    "auth.user": {V: {S_}, A: {S_}, C: {S_}, D: {S_}},
    "authtoken.tokenproxy": {V: {S_}, A: {S_}, C: {S_}, D: {S_}},
    "campaigns.campaign": {V: {M_, O_, S_}, A: {M_, S_}, C: {M_, S_}, D: set()},
    "campaigns.campaigntarget": {V: {M_, O_, S_}, A: set(), C: set(), D: set()},
    "compliance.decisionrecord": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "compliance.jurisdictionrule": {V: {M_, O_, S_}, A: {O_, S_}, C: {O_, S_}, D: set()},
    "compliance.purgerun": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "compliance.retentionpolicy": {V: {O_, S_}, A: set(), C: {O_, S_}, D: set()},
    "compliance.rndpolicy": {V: {O_, S_}, A: set(), C: {O_, S_}, D: set()},
    "compliance.rndquery": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "consent.consentgrant": {V: {M_, O_, S_}, A: {M_, S_}, C: set(), D: set()},
    "consent.dncrequest": {V: {M_, O_, S_}, A: {M_, O_, S_}, C: set(), D: set()},
    "consent.inboundmessage": {V: {M_, O_, S_}, A: set(), C: {M_, S_}, D: set()},
    "consent.suppressionentry": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "customers.customer": {V: {M_, O_, S_}, A: {M_, S_}, C: {M_, S_}, D: set()},
    "customers.phonenumber": {V: {M_, O_, S_}, A: {M_, S_}, C: {M_, S_}, D: set()},
    "django_celery_beat.clockedschedule": {V: {S_}, A: {S_}, C: {S_}, D: {S_}},
    "django_celery_beat.crontabschedule": {V: {O_, S_}, A: {S_}, C: {S_}, D: {S_}},
    "django_celery_beat.intervalschedule": {V: {O_, S_}, A: {S_}, C: {S_}, D: {S_}},
    # Officers see tasks and run them now; only superusers change one (compliance.watch holds them to the schedule).
    "django_celery_beat.periodictask": {V: {O_, S_}, A: {S_}, C: {S_}, D: {S_}},
    "django_celery_beat.solarschedule": {V: {S_}, A: {S_}, C: {S_}, D: {S_}},
    "helpdesk.datarequestlog": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "helpdesk.queue": {V: {M_, O_, S_}, A: {M_, S_}, C: {M_, S_}, D: set()},
    "helpdesk.ticket": {V: {M_, O_, S_}, A: {M_, S_}, C: {M_, O_, S_}, D: set()},
    "otp_totp.totpdevice": {V: {S_}, A: set(), C: {S_}, D: {S_}},
    "registry.areacodesync": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "registry.registrysource": {V: {O_, S_}, A: {O_, S_}, C: {O_, S_}, D: set()},
    "registry.litigatorreview": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "registry.shrinkhold": {V: {O_, S_}, A: set(), C: set(), D: set()},
    "registry.syncrun": {V: {O_, S_}, A: set(), C: set(), D: set()},
}

# Admin pages that are not a model's standard five.
ADMIN_ROWS: dict[str, Row] = {
    "admin/": Row(page(*STAFF, anon=LOGIN, no=LOGIN, **{AGENT: LOGIN, OTHER: LOGIN})),
    "admin/login/": Row({**everyone(200), MANAGER: REDIRECT, OFFICER: REDIRECT, ROOT: REDIRECT}),
    "admin/logout/": Row({**everyone(REDIRECT), MANAGER: LOGIN, OFFICER: LOGIN, ROOT: LOGIN}, method="post"),
    "admin/password_change/": Row(page(*STAFF, no=LOGIN)),
    "admin/password_change/done/": Row(page(*STAFF, no=LOGIN)),
    "admin/autocomplete/": Row(page(*STAFF, yes=403, no=LOGIN)),
    "admin/jsi18n/": Row(page(*STAFF, no=LOGIN)),
    "admin/r/<path:content_type_id>/<path:object_id>/": Row(
        page(*STAFF, yes=404, no=LOGIN), kwargs=lambda w: {"content_type_id": 1, "object_id": 1}
    ),
    APP_LIST: Row(page(*STAFF, no=LOGIN), kwargs=lambda w: {"app_label": "customers"}),
    "admin/(?P<url>.*)$": Row(page(*STAFF, yes=404, no=LOGIN), kwargs=lambda w: {"url": "no/such/page/"}),
    "admin/auth/user/<id>/password/": Row(page(ROOT, no=LOGIN, **{MANAGER: 403, OFFICER: 403})),
    "admin/customers/customer/import/": Row(page(MANAGER, no=LOGIN, **{OFFICER: 403})),
    "admin/customers/customer/<path:object_id>/legal-hold/": Row(
        page(OFFICER, no=LOGIN, **{MANAGER: 403}), kwargs=lambda w: {"object_id": w["customer"].pk}
    ),
    "admin/registry/registrysource/lookup/": Row(page(OFFICER, no=LOGIN, **{MANAGER: 403})),
    "admin/registry/registrysource/<int:source_id>/upload/": Row(
        page(OFFICER, no=LOGIN, **{MANAGER: 403}), kwargs=lambda w: {"source_id": w["registry_source"].pk}
    ),
    "admin/registry/shrinkhold/<int:hold_id>/decide/": Row(
        page(OFFICER, yes=OK, no=LOGIN, **{MANAGER: 403}),
        method="post",
        kwargs=lambda w: {"hold_id": w["admin_objects"]["registry.shrinkhold"].pk},
    ),
    "admin/registry/litigatorreview/<int:review_id>/decide/": Row(
        page(OFFICER, yes=OK, no=LOGIN, **{MANAGER: 403}),
        method="post",
        kwargs=lambda w: {"review_id": w["admin_objects"]["registry.litigatorreview"].pk},
    ),
    "admin/campaigns/campaign/<int:campaign_id>/scrub/": Row(
        page(MANAGER, OFFICER, no=LOGIN), kwargs=lambda w: {"campaign_id": w["campaign"].pk}
    ),
    "admin/campaigns/campaign/<int:campaign_id>/targets/add/": Row(
        page(MANAGER, no=LOGIN, **{OFFICER: 403}), kwargs=lambda w: {"campaign_id": w["campaign"].pk}
    ),
}

# Admin actions offered per model and persona, on the change lists they may open.
ADMIN_ACTIONS: dict[str, dict[str, set]] = {
    "auth.group": {"delete_selected": {S_}},
    "auth.user": {"delete_selected": {S_}},
    "axes.accessattempt": {"cleanup_expired_attempts": {S_}, "delete_selected": {S_}},
    "axes.accessfailurelog": {"delete_selected": {S_}},
    "axes.accesslog": {"delete_selected": {S_}},
    "django_celery_beat.clockedschedule": {"delete_selected": {S_}},
    "django_celery_beat.crontabschedule": {"delete_selected": {S_}},
    "django_celery_beat.intervalschedule": {"delete_selected": {S_}},
    "django_celery_beat.solarschedule": {"delete_selected": {S_}},
    "compliance.retentionpolicy": {"dry_run_now": {O_, S_}, "purge_now": {O_, S_}},
    "consent.consentgrant": {"record_opt_out": {M_, O_, S_}},
    "customers.customer": {"record_opt_out": {M_, O_, S_}},
    "django_celery_beat.periodictask": {
        "enable_tasks": {S_},
        "disable_tasks": {S_},
        "toggle_tasks": {S_},
        "run_tasks": {O_, S_},
        "delete_selected": {S_},
    },
    "registry.registrysource": {"sync_now": {O_, S_}},
}


def _admin_model_rows() -> dict[str, Row]:
    rows = {}
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        access = ADMIN_ACCESS.get(label)
        if access is None:
            continue  # reported by the test: every registered model needs a row
        app, name = label.split(".")
        base = f"admin/{app}/{name}/"
        see = access[V] | access[C]

        def codes(allowed):
            return {
                p: LOGIN if p in (ANON, AGENT, OTHER) else (200 if p in allowed else 403) for p in PERSONAS
            }

        def obj(w, label=label):
            return {"object_id": w["admin_objects"][label].pk}

        rows[base] = Row(codes(see))
        rows[base + "add/"] = Row(codes(access[A]))
        rows[base + "<path:object_id>/change/"] = Row(codes(see), kwargs=obj)
        rows[base + "<path:object_id>/delete/"] = Row(codes(access[D]), kwargs=obj)
        rows[base + "<path:object_id>/history/"] = Row(codes(see), kwargs=obj)
        redirect_codes = {p: LOGIN if p in (ANON, AGENT, OTHER) else REDIRECT for p in PERSONAS}
        rows[base + "<path:object_id>/"] = Row(redirect_codes, kwargs=obj)
        if isinstance(model_admin, SimpleHistoryAdmin):  # one past version, read-only
            rows[base + "^([^/]+)/history/([^/]+)/$"] = Row(
                codes(see),
                kwargs=lambda w, label=label: {
                    "_args": (
                        w["admin_objects"][label].pk,
                        w["admin_objects"][label].history.first().history_id,
                    )
                },
            )
    return rows


# -------------------------------------------------------------- the world


def _walk(patterns, prefix=""):
    """(route, pattern) for every URL pattern; the admin's app index route
    lists the installed apps, so it is keyed as APP_LIST."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (APP_LIST if route.startswith(APP_LIST) else route), pattern


def _url_for(route: str, pattern: URLPattern, kwargs: dict) -> str:
    """The path of `route` with `kwargs` put in place of its parameters
    (`_args` for unnamed regex groups, in order)."""
    if route == APP_LIST:
        return reverse("admin:app_list", kwargs=kwargs)
    path = "/" + route
    for value in kwargs.pop("_args", ()):
        path = path.replace("([^/]+)", str(value), 1)
    for key, value in kwargs.items():
        path = path.replace(f"(?P<{key}>[^/.]+)", str(value)).replace(f"(?P<{key}>.*)", str(value))
        for form in (f"<path:{key}>", f"<int:{key}>", f"<str:{key}>", f"<{key}>"):
            path = path.replace(form, str(value))
    path = path.replace("^", "").replace("$", "")
    resolve(path)  # the path must reach this pattern's view
    return path


def _admin_objects(w) -> dict:
    """One row of every model that has an admin, for its change, delete and
    history pages."""
    now = timezone.now()
    Token.objects.get_or_create(user=w["users"][MANAGER])
    TOTPDevice.objects.get_or_create(user=w["users"][OFFICER], name="matrix", defaults={"confirmed": True})
    AccessLog.objects.create(user=w["users"][OFFICER], action="viewed", target="matrix")
    TrainingPolicy.objects.get_or_create(pk=1)
    InboundMessage.objects.create(from_number="+12127360099", body="hello?", received_at=now)
    suppression_add(e164="+12127369999", source="api", reason="matrix")
    policy = RetentionPolicy.objects.first()
    _required(PurgeRun, category=policy.category, action=policy.action, period_days=policy.period_days)
    source = w["registry_source"]
    run = _required(SyncRun, source=source)
    AreaCodeSync.objects.create(
        source=source, area_code=212, synced_at=now, number_count=1, checksum="0" * 64, sync_run=run
    )
    if not ShrinkHold.objects.exists():
        _required(ShrinkHold, source=source, held_run=run)
    registry_source_ensure(key="litigator")
    litigator_review_flag(number="+12127360088", synced_at=None, decision_id=1, at=now)
    rnd_import(
        data=f"phone_number,date,answer,queried_at\n+12127360088,2026-01-05,no,{now.isoformat()}\n".encode()
    )
    for axes_model in (AccessAttempt, AccessFailureLog, AxesAccessLog):
        _required(axes_model, username="matrix.agent", ip_address="10.0.0.1")
    ClockedSchedule.objects.create(clocked_time=now)
    SolarSchedule.objects.create(event="sunrise", latitude=40.7, longitude=-74.0)
    IntervalSchedule.objects.get_or_create(every=1, period="days")
    CrontabSchedule.objects.get_or_create(minute="0", hour="3")
    if not PeriodicTask.objects.exists():
        PeriodicTask.objects.create(name="matrix", task="x", interval=IntervalSchedule.objects.first())
    spare_phone = PhoneNumberFactory(customer=w["spare_customer"], number="+12127360077")
    consent_revoke(number=str(spare_phone.number), via="api", by=None)
    objects = {m._meta.label_lower: m._default_manager.order_by("pk").first() for m in admin.site._registry}
    missing = sorted(label for label, obj in objects.items() if obj is None)
    assert not missing, f"Create a row of these models in the matrix's world: {missing}"
    for obj in objects.values():
        if hasattr(obj, "history") and not obj.history.exists():
            obj.save()  # rows made by migrations have no past version yet
    return objects


def _required(model, **given):
    """A row of `model` with `given` values and a plain value in every other
    required field (for admin pages that only need a row to show)."""
    fields = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in given or f.null or f.has_default():
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        kind = f.get_internal_type()
        if f.choices:
            fields[f.name] = f.choices[0][0]
        elif kind == "JSONField":
            fields[f.name] = {}
        elif kind.endswith("IntegerField") or kind in ("FloatField", "DecimalField"):
            fields[f.name] = 1
        elif kind == "DateTimeField":
            fields[f.name] = timezone.now()
        elif kind == "BooleanField":
            fields[f.name] = False
        else:
            fields[f.name] = "matrix"
    return model.objects.create(**fields, **given)


def _build_world() -> dict:
    at = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)  # a Tuesday, inside every window

    def persona(username, role=None, **flags):
        user = UserFactory(username=f"matrix.{username}", **flags)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    users = {
        AGENT: persona("agent", AGENTS),
        OTHER: persona("other_agent", AGENTS),
        MANAGER: persona("manager", MANAGERS, is_staff=True),
        OFFICER: persona("officer", COMPLIANCE_OFFICERS, is_staff=True),
        ROOT: persona("root", is_staff=True, is_superuser=True),
    }
    for user in (users[AGENT], users[OTHER]):
        training_record(agent=user, by=None, at=at - dt.timedelta(days=1))
    customer = CustomerFactory(first_name="Grace", last_name="Hughes", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number="+12127360042")
    consent = ConsentGrantFactory(phone_number=phone)
    spare = CustomerFactory(first_name="Spare")
    queue = QueueFactory(name="Matrix queue")
    officer = users[OFFICER]
    ticket = ticket_create(queue=queue, customer=customer, subject="Where?", channel="email", by=officer)
    access = ticket_create(
        queue=queue,
        customer=customer,
        subject="My data",
        channel="email",
        by=officer,
        type="data_access",
        legal_basis="gdpr",
    )
    ticket_data_access(ticket=access, by=officer)
    erasure = ticket_create(
        queue=queue,
        customer=spare,
        subject="Erase me",
        channel="email",
        by=officer,
        type="erasure",
        legal_basis="gdpr",
    )
    campaign = CampaignFactory(name="Matrix campaign", purpose="informational", dialing_mode="manual")
    targets_add(campaign=campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=at - dt.timedelta(hours=1))
    handoff = dialer.dialer_next(campaign=campaign, agent=users[AGENT], now=at)
    assert handoff is not None, "the matrix needs one call handed to the agent"
    world = {
        "users": users,
        "customer": customer,
        "spare_customer": spare,
        "consent": consent,
        "queue": queue,
        "ticket": ticket,
        "access": access,
        "erasure": erasure,
        "campaign": campaign,
        "attempt": handoff.attempt,
        "preference_token": preference_token(customer=customer),
        "registry_source": registry_source_ensure(key="national"),
    }
    world["admin_objects"] = _admin_objects(world)
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for every persona, in a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _default_kwargs(w, pattern: URLPattern) -> dict:
    by_name = {
        "ticket_id": w["ticket"].pk,
        "customer_id": w["customer"].pk,
        "queue_id": w["queue"].pk,
        "uidb64": "MQ",
        "token": "bad-token",
        "id": w["users"][AGENT].pk,
    }
    return {key: by_name[key] for key in pattern.pattern.converters} | {
        key: by_name[key] for key in getattr(pattern.pattern.regex, "groupindex", {}) if key in by_name
    }


def _all_rows() -> dict[str, Row]:
    return {**ROWS, **ADMIN_ROWS, **_admin_model_rows()}


# ------------------------------------------------------------------- tests


def test_every_url_pattern_has_a_row_and_every_row_a_url():
    routes = {route for route, _ in _walk(get_resolver().url_patterns)}
    rows = _all_rows()
    missing = sorted(routes - set(rows))
    stale = sorted(set(rows) - routes)
    unlisted_admins = sorted(
        m._meta.label_lower for m in admin.site._registry if m._meta.label_lower not in ADMIN_ACCESS
    )
    assert not missing, f"URL patterns with no row in the permission matrix: {missing}"
    assert not unlisted_admins, f"Registered admins with no row in ADMIN_ACCESS: {unlisted_admins}"
    assert not stale, f"Rows for URL patterns that no longer exist: {stale}"
    assert not {r for r, _ in EXTRA_REQUESTS} - routes


def _login_urls() -> tuple[str, ...]:
    return resolve_url(settings.LOGIN_URL), reverse("admin:login")


def _verdict(response, expected) -> bool:
    status = response.status_code
    location = urlsplit(response.get("Location", "")).path if status in (301, 302, 303) else ""
    to_login = bool(location) and location in _login_urls()
    if expected == LOGIN:
        return to_login
    if expected == REDIRECT:
        return bool(location) and not to_login
    if expected == OK:
        return status < 500 and status not in (401, 403, 404) and not to_login
    return status == expected


def _client_for(persona, w) -> Client:
    client = Client(raise_request_exception=False)
    if persona == ANON:
        return client
    user = w["users"][persona]
    if persona in (OFFICER, ROOT):
        login_with_otp(client, user)
    else:
        client.force_login(user)
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_expected_status_at_every_door(db, world, persona):
    rows = _all_rows()
    requests = [
        (route, pattern, rows[route])
        for route, pattern in _walk(get_resolver().url_patterns)
        if route in rows
    ]
    patterns = {route: pattern for route, pattern, _ in requests}
    requests += [(route, patterns[route], row) for route, row in EXTRA_REQUESTS]
    wrong = []
    signed_in = _client_for(persona, world)
    for route, pattern, row in requests:
        # Logging out ends the session: those doors get a session of their own.
        client = _client_for(persona, world) if "logout" in route else signed_in
        kwargs = row.kwargs(world) if row.kwargs else _default_kwargs(world, pattern)
        url = _url_for(route, pattern, kwargs) + (f"?{row.query}" if row.query else "")
        body = {}
        if row.method != "get" and route.startswith("api/v1/"):
            body = {"data": "{}", "content_type": "application/json"}  # an empty JSON object
        response = getattr(client, row.method)(url, **body)
        expected = row.expect[persona]
        if not _verdict(response, expected):
            wrong.append(
                f"{row.method.upper()} {url}: expected {expected}, got {response.status_code}"
                f" {response.get('Location', '')}"
            )
    assert not wrong, f"{persona}: {len(wrong)} doors differ from the matrix:\n" + "\n".join(wrong)


@pytest.mark.parametrize("persona", [MANAGER, OFFICER, ROOT])
def test_admin_actions_are_offered_to_the_expected_personas(db, world, persona):
    factory = RequestFactory()
    wrong = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        request = factory.get("/admin/")
        request.user = world["users"][persona]
        # An action is reachable only from a change list the persona may open.
        reachable = model_admin.has_view_or_change_permission(request)
        offered = set(model_admin.get_actions(request)) if reachable else set()
        expected = {name for name, allowed in ADMIN_ACTIONS.get(label, {}).items() if persona in allowed}
        if offered != expected:
            wrong.append(f"{label}: offered {sorted(offered)}, expected {sorted(expected)}")
    assert not wrong, "\n".join(wrong)
