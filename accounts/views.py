from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp import match_token

from accounts.audit import login_event_record
from accounts.forms import TotpCodeForm
from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS, has_role
from accounts.twofactor import (
    TWO_FACTOR_ENROLLED_SESSION_KEY,
    qr_svg,
    totp_device_confirm,
    totp_device_confirmed_exists,
    totp_device_pending_get_or_create,
    totp_provisioning_uri,
    totp_secret_groups,
    two_factor_role_required,
)


@login_required
def home(request):
    """Each role lands on its own page."""
    user = request.user
    if user.is_superuser:
        return redirect("admin:index")
    if has_role(user, AGENTS):
        return redirect("agent-home")
    if has_role(user, COMPLIANCE_OFFICERS):
        return redirect("compliance-dashboard")
    if has_role(user, MANAGERS):
        return redirect("admin:campaigns_campaign_changelist")
    return render(request, "accounts/no_role.html", status=403)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _verified(request, device) -> None:
    request.session.cycle_key()
    otp_login(request, device)
    request.session[TWO_FACTOR_ENROLLED_SESSION_KEY] = True


@never_cache
@login_required
def two_factor_setup(request):
    """Enrol an authenticator app: scan the QR code (or type the key), then
    confirm with a first code. A user who already has a device must pass it
    first, so a stolen password alone can never enrol a new one."""
    user = request.user
    if totp_device_confirmed_exists(user=user) and not user.is_verified():
        return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': _next_url(request)})}")
    device = totp_device_pending_get_or_create(user=user)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            totp_device_confirm(device=device)
            _verified(request, device)
            login_event_record(request, user=user, action="enrolled two-factor", username=user.get_username())
            messages.success(
                request, "Two-factor sign-in is on: from now on you enter a code after your password."
            )
            return redirect(_next_url(request))
        form.add_error(
            "code",
            "That code did not match. Check the time on your phone, wait a few seconds and try the current code.",
        )
    uri = totp_provisioning_uri(device=device)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr_svg(data=uri),
            "secret_groups": totp_secret_groups(device=device),
            "otpauth_uri": uri,
            "required": two_factor_role_required(user=user),
            "already_enrolled": totp_device_confirmed_exists(user=user),
            "next": _next_url(request),
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
def two_factor_verify(request):
    """The second step after the password: the current code from the app."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not totp_device_confirmed_exists(user=user):
        return redirect(f"{reverse('two-factor-setup')}?{urlencode({'next': _next_url(request)})}")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            _verified(request, device)
            login_event_record(request, user=user, action="passed two-factor", username=user.get_username())
            return redirect(_next_url(request))
        login_event_record(request, user=user, action="two-factor code refused", username=user.get_username())
        form.add_error(
            "code", "That code did not match (or too many tries: wait a little and use the next code)."
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}, status=status
    )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset-by-email link; the new password is logged as an event (never its value)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_event_record(
            self.request, user=form.user, action="password reset by email", username=form.user.get_username()
        )
        return response
