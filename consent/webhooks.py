"""Signatures of the inbound SMS webhook: who may tell us that a person texted.

Two providers' schemes, both checked in constant time:

- ConsentDesk's own: `X-ConsentDesk-Signature: sha256=<hex>`, the HMAC-SHA256
  of the raw request body bytes keyed by CONSENTDESK_SMS_WEBHOOK_SECRET
  (computed on the bytes as received, before any parsing).
- Twilio's: `X-Twilio-Signature`, base64 of the HMAC-SHA1, keyed by the
  account's auth token (CONSENTDESK_TWILIO_AUTH_TOKEN), of the full URL
  Twilio requested followed by every POST parameter's name and value, sorted
  by name (and by value for a repeated name), with nothing between them.
  As Twilio's own validators do, the URL is tried with and without its
  scheme's default port.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

SIGNATURE_PREFIX = "sha256="


def sms_webhook_signature(*, body: bytes, secret: str) -> str:
    """The X-ConsentDesk-Signature header value for `body`."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sms_webhook_signature_valid(*, body: bytes, header: str, secret: str) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(
        header.strip().encode(), sms_webhook_signature(body=body, secret=secret).encode()
    )


def twilio_signature(*, url: str, params: Iterable[tuple[str, str]], token: str) -> str:
    """Twilio's X-Twilio-Signature of a form-encoded POST to `url`."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its scheme's default port, and with it."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if default is None or parts.hostname is None:
        return [url]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    bare = urlunsplit(parts._replace(netloc=prefix + host))
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{parts.port or default}"))
    return list(dict.fromkeys([url, bare, with_port]))


def twilio_signature_valid(*, url: str, params: Iterable[tuple[str, str]], header: str, token: str) -> bool:
    if not token or not header:
        return False
    params = list(params)
    return any(
        hmac.compare_digest(
            header.strip().encode(), twilio_signature(url=variant, params=params, token=token).encode()
        )
        for variant in _url_variants(url)
    )
