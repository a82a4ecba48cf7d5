from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from simple_history.models import HistoricalRecords

# The RND query ledger lives in its own package; imported here so that Django finds the model.
from compliance.rnd.models import RndQuery  # noqa: F401


class JurisdictionRule(models.Model):
    """One jurisdiction's calling rules for a period: the rule data of
    compliance/rules/rules.toml, editable by compliance officers with history.
    Field names and values are those of the rules file (see compliance.rules)."""

    class AppliesTo(models.TextChoices):
        MARKETING = "marketing", "Marketing calls"
        ALL = "all", "All calls"
        AUTOMATED = "automated", "Autodialed or prerecorded calls"

    class HolidayBan(models.TextChoices):
        NONE = "none", "No holiday ban"
        ALL = "all", "No calls on legal holidays"
        WITHOUT_CONSENT = "without_consent", "No calls on holidays without prior express consent"

    class Certainty(models.TextChoices):
        PRIMARY = "P", "Primary text seen"
        SECONDARY = "S", "Secondary source"
        UNCERTAIN = "?", "Uncertain"

    jurisdiction = models.CharField(max_length=2, help_text='"US" for federal rules, else a state code.')
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = until changed.")
    applies_to = models.CharField(max_length=10, choices=AppliesTo.choices)
    weekday_window = models.CharField(
        max_length=11, help_text='Monday to Friday, "HH:MM-HH:MM" local, end exclusive.'
    )
    saturday_window = models.CharField(max_length=11, help_text='"HH:MM-HH:MM" or "closed".')
    sunday_window = models.CharField(max_length=11, help_text='"HH:MM-HH:MM" or "closed".')
    holiday_ban = models.CharField(max_length=20, choices=HolidayBan.choices, default=HolidayBan.NONE)
    cap_per_24h = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Calls per number per rolling 24 h on the same subject."
    )
    written_consent_for_sales = models.BooleanField(default=False)
    dnc_request_cooldown_days = models.PositiveIntegerField(default=0)
    own_dnc_list = models.BooleanField(default=False, help_text="Keeps a state do-not-call list of its own.")
    dnc_list_max_age_days = models.PositiveIntegerField(
        default=31, help_text="Registry data older than this blocks marketing calls (dnc_data_stale)."
    )
    ebr_purchase_months = models.PositiveSmallIntegerField(default=0)
    ebr_inquiry_months = models.PositiveSmallIntegerField(default=0)
    rnd_fresh_hours = models.PositiveIntegerField(
        default=720,
        validators=[MinValueValidator(1)],
        help_text='How long a Reassigned Numbers Database "no" stays fresh after its query (federal row).',
    )
    citation = models.CharField(max_length=200)
    certainty = models.CharField(max_length=1, choices=Certainty.choices)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["jurisdiction", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "effective_from"], name="rule_unique_start"),
            models.CheckConstraint(
                name="rule_period_ordered",
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                violation_error_message="The end must be after the start.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} from {self.effective_from}"

    RECORD_FIELDS = (
        "jurisdiction",
        "effective_from",
        "effective_to",
        "applies_to",
        "weekday_window",
        "saturday_window",
        "sunday_window",
        "holiday_ban",
        "cap_per_24h",
        "written_consent_for_sales",
        "dnc_request_cooldown_days",
        "own_dnc_list",
        "dnc_list_max_age_days",
        "ebr_purchase_months",
        "ebr_inquiry_months",
        "rnd_fresh_hours",
        "citation",
        "certainty",
        "note",
    )

    def to_record(self) -> dict:
        return {name: getattr(self, name) for name in self.RECORD_FIELDS}


class RuleSetStamp(models.Model):
    """One row whose `version` the database gives a new value in the same
    transaction as every change to the rule table (migration 0010's trigger,
    whoever writes the rule): a decision learns whether the rules changed by
    reading it inside its facts query (compliance.ruleset), so a compliance
    officer's change is seen by the very next decision. The app never writes
    it. A value is never given twice, not even by a transaction rolled back
    (a sequence on PostgreSQL, a random 64-bit value on SQLite): a rule set
    parsed under one value is the rule set of that value."""

    version = models.BigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(name="ruleset_stamp_one_row", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"rule set stamp {self.version}"


class DecisionRecord(models.Model):
    """The decision log: one row per decision made for a hand-off or a check.
    Append-only (a trigger on PostgreSQL). A short sealing step
    (compliance.decision_log.decision_log_seal) chains rows by hash into
    DecisionChainLink, so that concurrent hand-offs never wait on one another
    and sealing never updates a decision."""

    class Kind(models.TextChoices):
        CHECK = "check", "Check"
        HANDOFF = "handoff", "Hand-off"

    decided_at = models.DateTimeField(db_index=True, help_text="The instant decided for (`at`).")
    # Stamped by the database (a default, and a trigger on PostgreSQL that
    # overrides whatever an INSERT sends): the app cannot back-date a row.
    recorded_at = models.DateTimeField(db_default=Now())
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The clear number is outside the hashed content so that erasure can blank
    # it without breaking the chain; the chain covers its keyed hash.
    phone_number = models.CharField(
        max_length=40, db_index=True, help_text="E.164 (or the raw input); erasable."
    )
    number_hash = models.CharField(max_length=64)
    # The suppression key the hash was made with (consent.services.suppression_key_id):
    # a key rotation never rewrites the log, and verify checks each number with its
    # own key. Empty on rows logged before it was kept.
    number_key_id = models.CharField(max_length=12, blank=True, default="")
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    campaign_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list)
    evidence = models.JSONField(default=dict)
    facts = models.JSONField(default=dict)
    ruleset_version = models.CharField(max_length=64)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The audit overview's "last 24 hours".
            models.Index(fields=["recorded_at"], name="decision_recorded_idx"),
        ]

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "blocked: " + ", ".join(self.reasons)
        return f"#{self.pk} {self.phone_number} {verdict}"

    @property
    def chain(self) -> "DecisionChainLink | None":
        """The row's place in the hash chain; None until sealed."""
        try:
            return self.chain_link
        except DecisionChainLink.DoesNotExist:
            return None


class DecisionChainLink(models.Model):
    """A decision's place in the hash chain: `row_hash = sha256(prev_hash +
    the decision's content)`, position by position. Insert-only (a trigger on
    PostgreSQL refuses UPDATE and DELETE): sealing adds links and never
    changes a decision or an earlier link. The reference to the decision has
    no foreign key constraint: a retention purge removes old decisions and
    keeps their links (hashes only, no personal data), so later rows still
    chain back to the start."""

    position = models.BigIntegerField(unique=True)
    decision = models.OneToOneField(
        DecisionRecord,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="chain_link",
    )
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"position {self.position}: decision #{self.decision_id}"


class DecisionCheckpoint(models.Model):
    """The database's copy of a signed checkpoint (compliance.ledger). The
    original is the file in the checkpoint store, outside the database; this
    copy feeds the audit page and restores a file that failed to write. A
    changed copy fails its signature. Insert-only, like the chain."""

    seq = models.PositiveBigIntegerField(unique=True)
    position = models.BigIntegerField(help_text="The chain's last position it covers.")
    last_id = models.BigIntegerField(help_text="Every decision id up to this one is in the chain.")
    head_hash = models.CharField(max_length=64)
    made_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    document = models.TextField(help_text="The signed checkpoint, byte for byte as in the store.")

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} at position {self.position}"


class DecisionLogPurge(models.Model):
    """One run of the owner's purge function (migration 0009): the decision
    rows it removed, all past the legal minimum the function holds. Written
    only by that function; the app's role may read these rows, never write
    them. verify counts a decision missing from the log as purged only while
    these runs account for it."""

    purged_at = models.DateTimeField(db_default=Now())
    bound = models.DateTimeField(
        help_text="Rows recorded before this instant could go (5 years before the run)."
    )
    deleted = models.PositiveBigIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    by_role = models.CharField(max_length=63, help_text="The database role that called the function.")

    class Meta:
        ordering = ["-purged_at", "-id"]

    def __str__(self) -> str:
        return f"purge of {self.deleted} decision(s) #{self.first_id}-#{self.last_id}"


class RetentionPolicy(models.Model):
    """How long one category of data is kept, and what happens then. One
    row per registered category (compliance.retention); the admin refuses a
    period under the category's legal minimum."""

    class Action(models.TextChoices):
        DELETE = "delete", "Delete"
        ANONYMISE = "anonymise", "Anonymise"

    category = models.CharField(max_length=50, unique=True)
    period_days = models.PositiveIntegerField(
        help_text="Kept this many days, counted from the category's date."
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    active = models.BooleanField(default=False, help_text="Applied by the scheduled purge.")
    note = models.TextField(blank=True, help_text="Why this period (counsel's advice, contract, ...).")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["category"]
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"{self.category}: {self.action} after {self.period_days} days"


class PurgeRun(models.Model):
    """One application of a retention policy: what it examined and removed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    category = models.CharField(max_length=50, db_index=True)
    action = models.CharField(max_length=10, choices=RetentionPolicy.Action.choices)
    period_days = models.PositiveIntegerField()
    cutoff = models.DateTimeField(help_text="Rows dated before this instant were expired.")
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    examined = models.PositiveBigIntegerField(
        default=0, help_text="Expired rows found (a dry run: would go)."
    )
    deleted = models.PositiveBigIntegerField(default=0)
    anonymised = models.PositiveBigIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    max_batch_ms = models.FloatField(null=True, blank=True, help_text="Longest batch transaction.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    error = models.TextField(blank=True)
    trigger = models.CharField(max_length=10, default="task")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.category} {'dry run' if self.dry_run else self.action} at {self.started_at:%Y-%m-%d %H:%M}"


class ChainVerification(models.Model):
    """A run of the decision log's verification (nightly, or by command):
    the audit page raises an alert while the latest one found the chain broken."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField()
    unsealed = models.PositiveBigIntegerField(default=0)
    broken_id = models.BigIntegerField(null=True, blank=True, help_text="The first row that does not verify.")
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{'intact' if self.ok else 'BROKEN'} at {self.at:%Y-%m-%d %H:%M}"


class TaskHeartbeat(models.Model):
    """When a periodic task last finished, one row per task (the seal runs
    every minute and keeps no run record of its own): the schedule watch
    shows it and tells a stopped task from a quiet one."""

    task = models.CharField(max_length=200, unique=True)
    ran_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} at {self.ran_at:%Y-%m-%d %H:%M}"


class RndPolicy(models.Model):
    """The company's RND policy (issue 18): what an autodialed or prerecorded
    call relying on consent does without a fresh RND "no" (no query, "no
    data", or stale): `flag` allows it, without the safe harbor, and the
    evidence says so; `block` blocks it (`rnd_unverified`). One row (id 1),
    made by migration 0013; no row reads as `block` (fail closed). Maine's
    rule needs a fresh "no" whatever this says."""

    class Policy(models.TextChoices):
        FLAG = "flag", "Flag: allow, without the safe harbor"
        BLOCK = "block", "Block: no call without a fresh RND “no”"

    policy = models.CharField(max_length=5, choices=Policy.choices, default=Policy.FLAG)
    note = models.TextField(help_text="Why this policy (counsel's advice, ...); kept in the history.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "RND policy"
        verbose_name_plural = "RND policy"
        constraints = [
            models.CheckConstraint(name="rnd_policy_one_row", condition=Q(id=1)),
            models.CheckConstraint(name="rnd_policy_known", condition=Q(policy__in=["flag", "block"])),
        ]

    def __str__(self) -> str:
        return f"RND policy: {self.policy}"
