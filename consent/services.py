"""Consent and opt-outs. Every opt-out, whatever its channel, goes through
`consent_revoke`: one transaction that revokes every consent of the number,
files a company DNC request, and leaves history naming who, via what and why.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from consent.models import ConsentGrant, DncRequest, InboundMessage, OptOutVia, SuppressionEntry
from core.history import history_save, history_user
from core.phones import phone_normalize
from customers.models import PhoneNumber

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
        recorded_by=history_user(by),
    )
    if granted_at and granted_at > timezone.now() + timedelta(minutes=5):
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
    user = history_user(by)
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


_WORDS = re.compile(r"[^\W\d_]+")  # runs of letters: punctuation, digits and spaces split words


def sms_keyword_is_opt_out(body: str) -> bool:
    """Whether a text asks to stop: one of the stop words (47 CFR 64.1200(a)(10))
    among its words, in any case, whatever the punctuation around it: "Stop
    calling me", "STOP ALL", "please unsubscribe!", "opt-out", "optout". When
    in doubt the law favours the person: a stop word anywhere counts."""
    words = _WORDS.findall((body or "").upper())
    singles = {keyword for keyword in OPT_OUT_KEYWORDS if " " not in keyword}
    if singles.intersection(words) or "OPTOUT" in words:
        return True
    return ("OPT", "OUT") in set(pairwise(words))


@dataclass
class InboundResult:
    message: InboundMessage
    opt_out: OptOut | None
    reply: str | None


@transaction.atomic
def sms_inbound_receive(
    *, from_number: str, body: str, by, to_number: str = "", authenticated_by: str = ""
) -> InboundResult:
    """An inbound text: a stop word revokes at once (via sms); any other text
    is kept for a human. The reply is the one confirmation text the FCC
    allows. `authenticated_by` says how the sender proved it was the SMS
    provider (a signature scheme, or a user's API token): kept as evidence."""
    e164 = phone_normalize(from_number)
    now = timezone.now()
    opt_out = None
    if sms_keyword_is_opt_out(body):
        evidence = {"sms_from": e164, "sms_body": body, "received_at": now.isoformat()}
        if to_number:
            evidence["sms_to"] = to_number
        if authenticated_by:
            evidence["authenticated_by"] = authenticated_by
        opt_out = consent_revoke(
            number=e164,
            via=OptOutVia.SMS,
            by=by,
            note=f"SMS keyword '{body.strip()}'",
            evidence=evidence,
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


# --- suppression hashes ---------------------------------------------------------
# An erased person's number survives only as HMAC-SHA256(key, e164). The key is
# CONSENTDESK_SUPPRESSION_KEY, never the secret key; old keys stay in
# CONSENTDESK_SUPPRESSION_KEYS_OLD while entries made with them exist. Every
# lookup goes through `suppression_hashes` (or, in SQL, `suppression_hmac_pads`),
# so every configured key is tried everywhere.


def suppression_key_id(key: str) -> str:
    """A short fingerprint naming a key without revealing it (12 hex digits of
    an HMAC of a fixed label): stored with each entry, shown by the rehash command."""
    return hmac.new(key.encode(), b"consentdesk suppression key id", hashlib.sha256).hexdigest()[:12]


def suppression_keys() -> list[tuple[str, str]]:
    """(key id, key) of every configured suppression key, the current one first."""
    keys = [settings.SUPPRESSION_HASH_KEY, *getattr(settings, "SUPPRESSION_HASH_KEYS_OLD", [])]
    seen: dict[str, str] = {}
    for key in keys:
        if key:
            seen.setdefault(suppression_key_id(key), key)
    return list(seen.items())


def _hmac_hex(key: str, e164: str) -> str:
    return hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()


def suppression_hashes(e164: str) -> list[str]:
    """The number's hash under every configured key, the current key's first:
    what every suppression lookup must match against."""
    return [_hmac_hex(key, e164) for _key_id, key in suppression_keys()]


def suppression_hashes_many(e164s: Iterable[str]) -> list[list[str]]:
    """`suppression_hashes` of each number, in order, with the keys read once
    and OpenSSL's one-shot HMAC (bulk fact gathering: 1M numbers)."""
    keys = [key.encode() for _key_id, key in suppression_keys()]
    digest = hmac.digest
    return [[digest(key, e164.encode(), "sha256").hex() for key in keys] for e164 in e164s]


def number_hash(e164: str) -> str:
    """The number's keyed hash under the current key (new entries, the decision log)."""
    return _hmac_hex(settings.SUPPRESSION_HASH_KEY, e164)


def suppression_hmac_pads() -> list[tuple[bytes, bytes]]:
    """(inner, outer) HMAC-SHA256 pads of every configured key, current first,
    so that SQL can compute the same hashes with `sha256()`:
    HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m))."""
    pads = []
    for _key_id, key in suppression_keys():
        raw = key.encode()
        if len(raw) > 64:
            raw = hashlib.sha256(raw).digest()
        raw = raw.ljust(64, b"\0")
        pads.append((bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)))
    return pads


@transaction.atomic
def suppression_add(*, e164: str, source: str, reason: str) -> SuppressionEntry:
    """Keep `e164` suppressed, under the current key. An entry made with an old
    key is re-keyed here (the clear number is at hand)."""
    hashes = suppression_hashes(e164)
    current_id = suppression_key_id(settings.SUPPRESSION_HASH_KEY)
    entries = {
        entry.number_hash: entry
        for entry in SuppressionEntry.objects.select_for_update().filter(number_hash__in=hashes)
    }
    if hashes[0] in entries:
        entry = entries[hashes[0]]
        if entry.key_id != current_id:
            entry.key_id = current_id
            entry.save(update_fields=["key_id"])
        return entry
    for old_hash in hashes[1:]:
        if old_hash in entries:
            entry = entries[old_hash]
            entry.number_hash, entry.key_id = hashes[0], current_id
            entry.save(update_fields=["number_hash", "key_id"])
            return entry
    return SuppressionEntry.objects.create(
        number_hash=hashes[0], key_id=current_id, source=source, reason=reason[:200]
    )


@dataclass(frozen=True)
class SuppressionRehash:
    rekeyed: int  # entries moved from an old (or unknown) key to the current one
    identified: int  # entries of unknown key now known to be the current key's


def suppression_rehash(*, numbers, dry_run: bool = False, batch_size: int = 2000) -> SuppressionRehash:
    """Re-key to the current key every suppression entry whose clear number
    is among `numbers` (the clear numbers the database still holds: an HMAC
    cannot be re-keyed without its input). Entries of unknown key (made before
    key ids were stored) that match the current key get its id."""
    keys = suppression_keys()
    current_id, current_key = keys[0]
    rekeyed = identified = 0
    batch: list[str] = []

    def flush() -> None:
        nonlocal rekeyed, identified
        by_hash: dict[str, tuple[str, str]] = {}  # any key's hash -> (key id, current hash)
        for e164 in batch:
            current = _hmac_hex(current_key, e164)
            for key_id, key in keys:
                by_hash[_hmac_hex(key, e164)] = (key_id, current)
        with transaction.atomic():
            entries = SuppressionEntry.objects.select_for_update().filter(number_hash__in=list(by_hash))
            for entry in entries:
                key_id, current = by_hash[entry.number_hash]
                if key_id == current_id:
                    if entry.key_id != current_id:
                        identified += 1
                        if not dry_run:
                            entry.key_id = current_id
                            entry.save(update_fields=["key_id"])
                    continue
                rekeyed += 1
                if dry_run:
                    continue
                if SuppressionEntry.objects.filter(number_hash=current).exclude(pk=entry.pk).exists():
                    entry.delete()  # the current key's entry already keeps the number suppressed
                else:
                    entry.number_hash, entry.key_id = current, current_id
                    entry.save(update_fields=["number_hash", "key_id"])
        batch.clear()

    for number in numbers:
        if number:
            batch.append(str(number))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return SuppressionRehash(rekeyed=rekeyed, identified=identified)


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
