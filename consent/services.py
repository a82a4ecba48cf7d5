"""Consent and opt-outs. Every opt-out, whatever its channel, goes through
`consent_revoke`: one transaction that revokes every consent of the number,
files a company DNC request, and leaves history naming who, via what and why.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from config.history import history_save
from consent.models import ConsentGrant, DncRequest, InboundMessage, OptOutVia, SuppressionEntry
from customers.models import PhoneNumber
from customers.phones import phone_normalize

# 47 CFR 64.1200(a)(10): these replies to a text revoke consent.
OPT_OUT_KEYWORDS = frozenset({"STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"})
OPT_OUT_CONFIRMATION = (
    "You will receive no more calls or texts from us. This is the only message we will send about it."
)

EVIDENCE_KEYS = ("disclosure_text", "ip", "user_agent", "form_url", "form_reference", "recording_reference")


def evidence_validate(evidence) -> dict:
    if not isinstance(evidence, dict):
        raise ValidationError({"evidence": ["Evidence must be an object with at least disclosure_text."]})
    text = evidence.get("disclosure_text")
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(
            {"evidence": ["Evidence needs the disclosure_text the person was shown or told."]}
        )
    return evidence


@transaction.atomic
def consent_grant(
    *,
    phone: PhoneNumber,
    purpose: str,
    channel: str,
    written: bool,
    source: str,
    evidence: dict,
    granted_at: datetime,
    expires_at: datetime | None = None,
    by,
    reason: str = "consent recorded",
) -> ConsentGrant:
    if phone.customer.is_erased:
        raise ValidationError({"phone_number": ["This number belongs to an erased customer."]})
    grant = ConsentGrant(
        phone_number=phone,
        purpose=purpose,
        channel=channel,
        written=written,
        source=source,
        evidence=evidence_validate(evidence),
        granted_at=granted_at,
        expires_at=expires_at,
        recorded_by=by if getattr(by, "is_authenticated", False) else None,
    )
    if granted_at and granted_at > timezone.now() + timezone.timedelta(minutes=5):
        raise ValidationError({"granted_at": ["Consent cannot be granted in the future."]})
    grant.full_clean()
    return history_save(grant, by=by, reason=reason)


@dataclass
class OptOut:
    number: str
    dnc_request: DncRequest
    revoked: list[ConsentGrant] = field(default_factory=list)


@transaction.atomic
def consent_revoke(
    *,
    number: str,
    via: str,
    by,
    note: str = "",
    evidence: dict | None = None,
    at: datetime | None = None,
    requested_at: datetime | None = None,
) -> OptOut:
    """The opt-out. Revokes every consent of `number` and files a company DNC
    request, in one transaction. The number's row is locked first: the
    dialer's hand-off takes the same lock, so once this commits no hand-off
    can return the number. `at` is the revocation's time (now); `requested_at`
    when the person asked, if earlier (a ticket opened before staff acted on
    it): the opt-out latency report measures from it."""
    if via not in OptOutVia.values:
        raise ValidationError({"via": [f"Unknown channel '{via}'."]})
    e164 = phone_normalize(number)
    at = at or timezone.now()
    user = by if getattr(by, "is_authenticated", False) else None
    reason = f"opt-out via {via}" + (f": {note}" if note else "")
    phone = PhoneNumber.objects.select_for_update().filter(number=e164).first()
    revoked = []
    if phone is not None:
        for grant in ConsentGrant.objects.select_for_update().filter(
            phone_number=phone, revoked_at__isnull=True
        ):
            grant.revoked_at, grant.revoked_via, grant.revoked_by, grant.revocation_note = at, via, user, note
            revoked.append(history_save(grant, by=by, reason=reason))
    request = DncRequest(
        number=e164,
        source=via,
        reason=note,
        evidence=evidence or {},
        requested_at=min(requested_at, at) if requested_at else at,
        recorded_by=user,
    )
    request.full_clean()
    history_save(request, by=by, reason=reason)
    return OptOut(number=e164, dnc_request=request, revoked=revoked)


def sms_keyword_is_opt_out(body: str) -> bool:
    return re.sub(r"\s+", " ", (body or "").strip()).upper() in OPT_OUT_KEYWORDS


@dataclass
class InboundResult:
    message: InboundMessage
    opt_out: OptOut | None
    reply: str | None


@transaction.atomic
def sms_inbound_receive(*, from_number: str, body: str, by) -> InboundResult:
    """An inbound text: an opt-out keyword revokes at once (via sms); any
    other text is kept for a human. The reply is the one confirmation text
    the FCC allows."""
    e164 = phone_normalize(from_number)
    now = timezone.now()
    opt_out = None
    if sms_keyword_is_opt_out(body):
        opt_out = consent_revoke(
            number=e164,
            via=OptOutVia.SMS,
            by=by,
            note=f"SMS keyword '{body.strip()}'",
            evidence={"sms_from": e164, "sms_body": body, "received_at": now.isoformat()},
            at=now,
        )
    message = InboundMessage.objects.create(
        from_number=e164,
        body=body,
        received_at=now,
        status=InboundMessage.Status.OPTED_OUT if opt_out else InboundMessage.Status.NEEDS_REVIEW,
        dnc_request=opt_out.dnc_request if opt_out else None,
    )
    return InboundResult(message=message, opt_out=opt_out, reply=OPT_OUT_CONFIRMATION if opt_out else None)


def number_hash(e164: str) -> str:
    """The keyed hash that stands for an erased person's number."""
    return hmac.new(settings.SUPPRESSION_HASH_KEY.encode(), e164.encode(), hashlib.sha256).hexdigest()


def suppression_add(*, e164: str, source: str, reason: str) -> SuppressionEntry:
    entry, _ = SuppressionEntry.objects.get_or_create(
        number_hash=number_hash(e164), defaults={"source": source, "reason": reason[:200]}
    )
    return entry


EXPIRY_BATCH = 1000


def consents_expire(*, now: datetime | None = None, batch_size: int = EXPIRY_BATCH) -> int:
    """Write each live consent's expiry into its record once it has passed:
    a history row "consent expired" per consent, so that the contact record
    shows when it stopped counting. (The engine already refuses an expired
    consent at its expiry instant, with `consent_expired`; this is the
    record.) Short batches with SKIP LOCKED: an opt-out of the same consent
    is never kept waiting, and a second worker takes other rows."""
    now = now or timezone.now()
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                ConsentGrant.objects.select_for_update(skip_locked=True)
                .filter(expires_at__lte=now, expiry_recorded_at__isnull=True, revoked_at__isnull=True)
                .order_by("expires_at", "pk")[:batch_size]
            )
            if not batch:
                return done
            for grant in batch:
                grant.expiry_recorded_at = now
            bulk_update_with_history(
                batch,
                ConsentGrant,
                ["expiry_recorded_at"],
                batch_size=batch_size,
                default_change_reason="consent expired: its expiry date passed",
                default_date=now,
            )
        done += len(batch)
