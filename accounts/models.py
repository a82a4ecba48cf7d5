from datetime import timedelta

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class TrainingPolicy(models.Model):
    """How long a compliance training acknowledgement stays valid (one row)."""

    validity_days = models.PositiveIntegerField(default=365)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "training policy"

    def __str__(self) -> str:
        return f"Training valid for {self.validity_days} days"

    @property
    def validity(self) -> timedelta:
        return timedelta(days=self.validity_days)


class TrainingAcknowledgement(models.Model):
    """An agent's acknowledgement of the calling-rules training: no numbers without a current one."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainings")
    acknowledged_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-acknowledged_at"]
        indexes = [models.Index(fields=["agent", "-acknowledged_at"], name="training_agent_idx")]

    def __str__(self) -> str:
        return f"{self.agent} trained {self.acknowledged_at:%Y-%m-%d}"


class AccessLog(models.Model):
    """Who saw what: staff reads of consent evidence and personal-data
    exports, for compliance officers (GDPR 5(2) accountability), and every
    login, failed login, logout and two-factor step. Append-only.

    A failed login for a username that does not exist has no user: its
    target is the attempted username (truncated), never the password."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(
        max_length=40, help_text='e.g. "viewed consent evidence", "exported timeline (PDF)".'
    )
    target = models.CharField(max_length=200, help_text="What was seen: a number, a customer, a record id.")
    path = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="access_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.target} at {self.at:%Y-%m-%d %H:%M}"
