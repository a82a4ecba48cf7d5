from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from compliance.rnd.answers import ANSWERS, DATE_KINDS
from consent.models import ConsentGrant


class RndQuery(models.Model):
    """The RND query ledger: one row per answer the Reassigned Numbers
    Database gave (or the error that stood in for one), however it came.
    Append-only: on PostgreSQL a trigger refuses every UPDATE and DELETE
    (migration 0011) but the erasure of the clear number, which goes through
    the owner's door `compliance_rnd_erase`. Each row carries the hash of the
    row before it and its own (`compliance.rnd.chain`); the chain covers the
    number's keyed hash, not the number, so an erasure keeps it whole."""

    class Answer(models.TextChoices):
        YES = "yes", "Yes: disconnected on or after the date"
        NO = "no", "No: not disconnected since the date"
        NO_DATA = "no_data", "No data"
        ERROR = "error", "Error: no answer"

    class DateKind(models.TextChoices):
        CONSENT = "consent", "The consent's date"
        CONTACT = "contact", "A later contact with the person"
        MANUAL = "manual", "Entered by hand or imported"

    # Erasable (a customer's erasure replaces it by "(erased)"); the chain covers the hash.
    phone_number = models.CharField(max_length=40, help_text="E.164; erasable.")
    number_hash = models.CharField(max_length=64, help_text="HMAC-SHA256 of the E.164 number.")
    number_key_id = models.CharField(
        max_length=12, help_text="The suppression key the hash was made with (consent.services)."
    )
    date_sent = models.DateField(help_text="The date sent with the query.")
    date_kind = models.CharField(max_length=10, choices=DateKind.choices)
    answer = models.CharField(max_length=10, choices=Answer.choices)
    provider = models.CharField(max_length=40, help_text='The adapter that asked ("dnc_com", "import", ...).')
    provider_request_id = models.CharField(max_length=120, blank=True)
    queried_at = models.DateTimeField(help_text="When the RND answered.")
    rnd_update = models.CharField(
        max_length=40, blank=True, help_text="The RND update the answer came from, where the provider says."
    )
    response_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the raw response (or line).")
    # No database constraint: consents past their retention may be purged, and
    # the ledger, append-only, keeps the id it was asked for.
    consent = models.ForeignKey(
        ConsentGrant,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Stamped by the database (a default, and a trigger on PostgreSQL that
    # overrides whatever an INSERT sends).
    recorded_at = models.DateTimeField(db_default=Now())
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "RND query"
        verbose_name_plural = "RND queries"
        indexes = [models.Index(fields=["phone_number", "date_sent"], name="rnd_number_date_idx")]
        constraints = [
            models.CheckConstraint(name="rnd_answer_known", condition=Q(answer__in=ANSWERS)),
            models.CheckConstraint(name="rnd_date_kind_known", condition=Q(date_kind__in=DATE_KINDS)),
        ]

    def __str__(self) -> str:
        return f"RND #{self.pk} {self.phone_number} {self.date_sent}: {self.answer}"
