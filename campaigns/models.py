from django.conf import settings
from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from compliance.policy import campaign_active


class Campaign(models.Model):
    class Purpose(models.TextChoices):
        MARKETING = "marketing", "Marketing (telephone solicitation)"
        INFORMATIONAL = "informational", "Informational"

    class DialingMode(models.TextChoices):
        MANUAL = "manual", "Manual (agent dials)"
        AUTODIALED = "autodialed", "Autodialed"
        PRERECORDED = "prerecorded", "Prerecorded / artificial voice"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"

    class LitigatorPolicy(models.TextChoices):
        BLOCK = "block", "Block the call"
        FLAG = "flag", "Allow, and flag for a compliance officer's review"
        IGNORE = "ignore", "Ignore"

    name = models.CharField(max_length=200, unique=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    dialing_mode = models.CharField(max_length=20, choices=DialingMode.choices)
    subject = models.CharField(
        max_length=100,
        help_text="What the calls are about. State caps (FL, OK, MD) count calls on the same subject "
        "across campaigns.",
    )
    caller_id = PhoneNumberField(help_text="Transmitted caller ID; must accept do-not-call requests.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    window_start = models.TimeField(
        null=True, blank=True, help_text="Campaign's own calling window, local to the callee (HH:MM)."
    )
    window_end = models.TimeField(null=True, blank=True, help_text="End of the window, exclusive.")
    max_attempts_per_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Attempts per number per rolling 24 hours in this campaign."
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    script = models.TextField(blank=True, help_text="What the agent says.")
    disclosure = models.TextField(
        blank=True, help_text="What the agent must read: who is calling and why, and how to opt out."
    )
    litigator_policy = models.CharField(
        max_length=10,
        choices=LitigatorPolicy.choices,
        blank=True,
        help_text="What a number on a litigator list means for this campaign's calls. Set when the campaign "
        "is created (block for marketing, flag for informational) unless chosen; missing or old litigator "
        "data never blocks a call.",
    )
    paused_reason = models.TextField(blank=True, help_text="Why the campaign was paused automatically.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                name="campaign_window_complete_and_ordered",
                condition=Q(window_start__isnull=True, window_end__isnull=True)
                | Q(
                    window_start__isnull=False,
                    window_end__isnull=False,
                    window_start__lt=models.F("window_end"),
                ),
            ),
            models.CheckConstraint(
                name="campaign_dates_ordered",
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
            ),
            models.CheckConstraint(
                name="campaign_litigator_policy_known",
                condition=Q(litigator_policy__in=["block", "flag", "ignore"]),
                violation_error_message="A litigator policy is block, flag or ignore.",
            ),
            models.CheckConstraint(
                name="campaign_max_attempts_positive",
                condition=Q(max_attempts_per_day__isnull=True) | Q(max_attempts_per_day__gte=1),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self._litigator_policy_default()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self._litigator_policy_default()

    def _litigator_policy_default(self) -> None:
        """Stored when the campaign is created (DESIGN.md "Campaigns"): block
        for marketing, flag for informational. A later change of purpose
        leaves it as it is."""
        if not self.litigator_policy:
            self.litigator_policy = (
                self.LitigatorPolicy.BLOCK
                if self.purpose == self.Purpose.MARKETING
                else self.LitigatorPolicy.FLAG
            )

    def active_at(self, at) -> bool:
        """The campaign may call at `at` (`compliance.policy.campaign_active`)."""
        return campaign_active(status=self.status, starts_at=self.starts_at, ends_at=self.ends_at, at=at)


class CampaignTarget(models.Model):
    """A number to call in a campaign: the dialer queue."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        LEASED = "leased", "With an agent"
        DONE = "done", "Done"
        SUPPRESSED = "suppressed", "Suppressed (may never be called)"

    # No index of its own: target_unique_number_per_campaign leads with it (one index less to
    # write on each of the hand-off's two updates of the row).
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="targets", db_index=False)
    phone_number = models.ForeignKey(
        "customers.PhoneNumber", on_delete=models.PROTECT, related_name="targets"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    priority = models.SmallIntegerField(default=0, help_text="Higher first.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="Not handed out before this instant.")
    lease_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    blocked_reasons = models.JSONField(
        default=list, blank=True, help_text="Why it was last moved on or suppressed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Two history rows a hand-off (handed, disposition): indexed by target and by time only,
    # the ways history is read (a target's, the purge's); no index on the copied keys.
    history = HistoricalRecords(no_db_index=["campaign", "phone_number", "lease_agent"])

    class Meta:
        ordering = ["-priority", "next_attempt_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "phone_number"], name="target_unique_number_per_campaign"
            ),
            models.CheckConstraint(
                name="target_lease_complete",
                condition=Q(status="leased", lease_agent__isnull=False, lease_until__isnull=False)
                | ~Q(status="leased"),
            ),
        ]
        indexes = [
            # The hand-off's claim: only rows that can be handed out are indexed,
            # so the index stays small however many targets are done.
            models.Index(
                fields=["campaign", "-priority", "next_attempt_at", "id"],
                condition=Q(status="queued"),
                name="target_queue_idx",
            ),
            models.Index(
                fields=["campaign", "lease_until"], condition=Q(status="leased"), name="target_lease_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone_number} in {self.campaign}"


class CallAttempt(models.Model):
    """One hand-off of a number to an agent, and how the call went."""

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", "No answer"
        BUSY = "busy", "Busy"
        VOICEMAIL = "voicemail", "Voicemail"
        CONNECTED = "connected", "Connected"
        CALLBACK = "callback", "Callback requested"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        DO_NOT_CALL = "do_not_call", "Do not call"
        ABANDONED = "abandoned", "Abandoned (answered, no agent within 2 s)"

    target = models.ForeignKey(CampaignTarget, on_delete=models.PROTECT, related_name="attempts_made")
    # Campaign and number: no index of their own, the (campaign, handed_at) and (number,
    # handed_at) indexes lead with them (two indexes less to write on each hand-off).
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="attempts", db_index=False)
    phone_number = models.ForeignKey(
        "customers.PhoneNumber", on_delete=models.PROTECT, related_name="attempts", db_index=False
    )
    subject = models.CharField(max_length=100, help_text="The campaign's subject when called (state caps).")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_attempts"
    )
    decision = models.ForeignKey("compliance.DecisionRecord", on_delete=models.PROTECT, related_name="+")
    caller_id = PhoneNumberField()
    handed_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-handed_at"]
        indexes = [
            models.Index(fields=["phone_number", "handed_at"], name="attempt_number_time_idx"),
            models.Index(fields=["campaign", "handed_at"], name="attempt_campaign_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_number} by {self.agent} at {self.handed_at:%Y-%m-%d %H:%M}"


class CampaignScrub(models.Model):
    """One pre-launch scrub of a campaign: how many of its targets may be
    called now, later today, later, or never, and why. Kept as a record of
    what a manager saw before activating; progress is written as it runs so
    that the page can show a progress bar."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="scrubs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    at = models.DateTimeField(help_text="The instant the targets were decided at.")
    today_ends_at = models.DateTimeField(
        help_text="End of the call centre's day: 'later today' is before it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "-created_at"], name="scrub_campaign_latest_idx")]

    def __str__(self) -> str:
        return f"Scrub of {self.campaign} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def progress_percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
