"""Two-factor sign-in with a TOTP authenticator app (django-otp).

Compliance officers and superusers must pass a TOTP code after their password
when CONSENTDESK_REQUIRE_2FA is on (the default unless DJANGO_DEBUG); anyone
else may enrol and is then asked too. API tokens are separate credentials and
never need a code.
"""

import base64
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import COMPLIANCE_OFFICERS, user_roles

TWO_FACTOR_ENROLLED_SESSION_KEY = "consentdesk_2fa_enrolled"
DEVICE_NAME = "Authenticator app"


def two_factor_role_required(*, user) -> bool:
    """Whether the user's role requires two-factor (superusers and compliance officers)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or COMPLIANCE_OFFICERS in user_roles(user)


def two_factor_needed(*, request) -> bool:
    """Whether this session must still pass a TOTP code before it may see pages."""
    user = request.user
    if not settings.CONSENTDESK_REQUIRE_2FA or not user.is_authenticated:
        return False
    if user.is_verified():
        return False
    return two_factor_role_required(user=user) or bool(request.session.get(TWO_FACTOR_ENROLLED_SESSION_KEY))


def totp_device_confirmed_exists(*, user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_pending_get_or_create(*, user) -> TOTPDevice:
    """The unconfirmed device an enrolment shows until its first code is entered."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice) -> TOTPDevice:
    """The first code matched: the device counts from now on; other pending ones go."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).exclude(pk=device.pk).delete()
    return device


def totp_provisioning_uri(*, device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app scans, labelled with the company name."""
    issuer = settings.CONSENTDESK_COMPANY_NAME + " ConsentDesk"
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{issuer}:{device.user.get_username()}")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={device.digits}&period={device.step}"
    )


def totp_secret_groups(*, device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(*, data: str) -> str:
    """A QR code as inline SVG (no image library, no request to anyone)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")
