"""Two-factor helpers for tests: log a compliance officer or superuser in as if they had passed TOTP."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import COMPLIANCE_OFFICERS


def totp_device_for(user) -> TOTPDevice:
    """The user's confirmed TOTP device, created if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    return device


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app would show for this device right now."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def login_with_otp(client: Client, user) -> TOTPDevice | None:
    """force_login the user and, if their role needs two-factor (compliance
    officers, superusers) or they enrolled, mark the session OTP-verified as
    django_otp.login does. Other users are simply logged in (no device)."""
    needs_device = (
        user.is_superuser
        or user.groups.filter(name=COMPLIANCE_OFFICERS).exists()
        or TOTPDevice.objects.filter(user=user).exists()
    )
    device = totp_device_for(user) if needs_device else None
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return device
