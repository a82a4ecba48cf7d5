from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from customers.states import STATE_CHOICES

postal_code_validator = RegexValidator(r"^\d{5}(-\d{4})?$", "Enter a US ZIP code: 12345 or 12345-6789.")


class Customer(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    state = models.CharField(max_length=2, blank=True, choices=STATE_CHOICES)
    postal_code = models.CharField(max_length=10, blank=True, validators=[postal_code_validator])
    last_purchase_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last purchase, delivery or payment: an EBR lasts 18 months after it.",
    )
    last_inquiry_at = models.DateTimeField(
        null=True, blank=True, help_text="Last inquiry or application: an EBR lasts 3 months after it."
    )
    # Changed only through customers.services.customer_legal_hold_set (compliance officers).
    legal_hold = models.BooleanField(
        default=False, help_text="Under legal hold: never purged, anonymised or erased while set."
    )
    legal_hold_reason = models.TextField(
        blank=True, help_text="Why the hold was set, or lifted (the history keeps every change)."
    )
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Erased (GDPR art. 17 / CCPA): personal data removed.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customer_name_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["state"], name="customer_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="customer_legal_hold_has_reason",
                condition=Q(legal_hold=False) | ~Q(legal_hold_reason=""),
                violation_error_message="A legal hold needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return f"Erased customer #{self.pk}"
        return f"{self.first_name} {self.last_name}".strip() or f"Customer #{self.pk}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class PhoneNumber(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        LANDLINE = "landline", "Landline"
        VOIP = "voip", "VoIP"
        UNKNOWN = "unknown", "Unknown"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="phone_numbers")
    # E.164. Null only once the customer is erased: the number then survives
    # only as a suppression hash (consent.SuppressionEntry).
    number = PhoneNumberField(unique=True, null=True, blank=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.UNKNOWN)
    reassigned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Reported reassigned to someone else (consent given before it is void).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.number) if self.number else f"(erased number #{self.pk})"
