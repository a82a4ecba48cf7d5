from django.conf import settings
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from customers.models import PhoneNumber


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    INFORMATIONAL = "informational", "Informational"


class Channel(models.TextChoices):
    VOICE = "voice", "Voice calls"
    SMS = "sms", "Text messages"


class OptOutVia(models.TextChoices):
    """Every channel an opt-out may come in on (the contract's `via`)."""

    API = "api", "API"
    AGENT = "agent", "Agent (during a call)"
    TICKET = "ticket", "Help-desk ticket"
    SMS = "sms", "SMS keyword"
    WEB = "web", "Preference page"
    ADMIN = "admin", "Admin"


class ConsentGrant(models.Model):
    """What the person told us: permission to call or text, with its evidence."""

    class Source(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        SIGNED_FORM = "signed_form", "Signed form"
        VERBAL = "verbal", "Verbal"
        IVR = "ivr", "IVR"
        IMPORT = "import", "Import"
        SMS_KEYWORD = "sms_keyword", "SMS keyword"
        AGENT = "agent", "Agent"

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    written = models.BooleanField(help_text="Prior express written consent (signed, E-SIGN accepted).")
    source = models.CharField(max_length=20, choices=Source.choices)
    evidence = models.JSONField(
        help_text="At least the disclosure text shown; IP, user agent, form or recording reference where given."
    )
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_via = models.CharField(max_length=10, choices=OptOutVia.choices, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_note = models.TextField(blank=True)
    expiry_recorded_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the consent-expiry task wrote the expiry into the record (its history shows it).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [
            # The consent-expiry task: live consents past their expiry, not yet recorded.
            models.Index(
                fields=["expires_at"],
                condition=Q(
                    expires_at__isnull=False, expiry_recorded_at__isnull=True, revoked_at__isnull=True
                ),
                name="consent_expiry_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="consent_expiry_after_grant",
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("granted_at")),
                violation_error_message="The expiry must be after the grant.",
            ),
            models.CheckConstraint(
                name="consent_revocation_complete",
                condition=Q(revoked_at__isnull=True, revoked_via="")
                | Q(revoked_at__isnull=False) & ~Q(revoked_via=""),
                violation_error_message="A revocation needs its time and channel.",
            ),
        ]

    def __str__(self) -> str:
        kind = "written" if self.written else "express"
        return f"{kind} {self.purpose} {self.channel} consent for {self.phone_number}"

    @property
    def disclosure_text(self) -> str:
        return (self.evidence or {}).get("disclosure_text", "")


class DncRequest(models.Model):
    """A request not to be called: the company-specific do-not-call list.

    Kept at least 5 years (47 CFR 64.1200(d)); the number is stored as given
    (E.164) because the person need not be a customer."""

    number = PhoneNumberField(db_index=True)
    source = models.CharField(max_length=10, choices=OptOutVia.choices)
    reason = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    requested_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "do-not-call request"

    def __str__(self) -> str:
        return f"DNC {self.number} via {self.source}"


class SuppressionEntry(models.Model):
    """An erased person's number, kept only as a keyed hash so that it stays
    suppressed (GDPR 17(3)(b), ICO guidance): date, source and reason, nothing else."""

    number_hash = models.CharField(max_length=64, unique=True)
    # consent.services.suppression_key_id of the key that made the hash; empty:
    # made before key ids were stored (the key in use then).
    key_id = models.CharField(max_length=12, blank=True, default="", db_default="", db_index=True)
    source = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "suppression entries"

    def __str__(self) -> str:
        return f"suppressed {self.number_hash[:12]}…"


class InboundMessage(models.Model):
    """An inbound text. Opt-out keywords are acted on at once; anything else waits for a human."""

    class Status(models.TextChoices):
        OPTED_OUT = "opted_out", "Opt-out applied"
        NEEDS_REVIEW = "needs_review", "Needs a human"
        REVIEWED = "reviewed", "Reviewed"

    from_number = PhoneNumberField(db_index=True)
    body = models.TextField()
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    dnc_request = models.ForeignKey(
        DncRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_idx"),
        ]

    def __str__(self) -> str:
        return f"SMS from {self.from_number}: {self.body[:40]}"
