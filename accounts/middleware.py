"""Two-factor gate (a session that must pass TOTP sees only the 2FA pages until it has) and idle expiry."""

import time
import zoneinfo
from urllib.parse import unquote, urlencode

from django.contrib.auth import SESSION_KEY
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts.twofactor import totp_device_confirmed_exists, two_factor_needed

LAST_SEEN_SESSION_KEY = "consentdesk_last_seen"

# Pages an unverified session may still open (by view name).
OPEN_VIEWS = frozenset(
    {
        "login",
        "logout",
        "two-factor-setup",
        "two-factor-verify",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "healthz",
        "admin:logout",
    }
)
API_PAGES = frozenset({"api-docs", "api-redoc"})  # HTML pages under /api/: redirected like any page


class TwoFactorMiddleware:
    """Sends a compliance officer or superuser whose session has not passed
    TOTP to enrolment (no device yet) or to the code page (device), from every
    page including the admin. Session-authenticated API calls from such a
    session get 403; calls with an API token are never affected (the token is
    its own credential and DRF checks it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in OPEN_VIEWS:
            return None
        if request.path.startswith("/api/") and match.view_name not in API_PAGES:
            if request.META.get("HTTP_AUTHORIZATION"):
                return None  # a token (or a bad one: DRF answers 401)
            if two_factor_needed(request=request):
                return JsonResponse(
                    {
                        "detail": "Two-factor verification required: enter your authenticator code "
                        "on the web page, or call the API with your API token."
                    },
                    status=403,
                )
            return None
        if not two_factor_needed(request=request):
            return None
        name = "two-factor-verify" if totp_device_confirmed_exists(user=request.user) else "two-factor-setup"
        url = f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)


class SessionIdleMiddleware:
    """A logged-in session ends after CONSENTDESK_SESSION_IDLE_MINUTES without
    a request (SESSION_COOKIE_AGE). Each request moves the deadline on; the
    session is written at most once a minute for that, not on every request."""

    TOUCH_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(time.time())
            if now - session.get(LAST_SEEN_SESSION_KEY, 0) >= self.TOUCH_SECONDS:
                session[LAST_SEEN_SESSION_KEY] = now  # saved at the end: a fresh expiry
        return self.get_response(request)


TZ_COOKIE = "tz"  # the browser's IANA zone, set by static/js/tz.js


class ViewerTimezoneMiddleware:
    """Pages show times in the viewer's zone: the one their browser reports
    (a cookie), when it names a real IANA zone; UTC otherwise. The API and
    exports keep ISO 8601 with an offset."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = viewer_zone(unquote(request.COOKIES.get(TZ_COOKIE, "")))  # tz.js encodes the "/"
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


ZONE_NAMES = frozenset(zoneinfo.available_timezones())  # read once: listing them takes ~5 ms


def viewer_zone(name: str) -> zoneinfo.ZoneInfo | None:
    if not name or len(name) > 64 or name not in ZONE_NAMES:
        return None
    return zoneinfo.ZoneInfo(name)
