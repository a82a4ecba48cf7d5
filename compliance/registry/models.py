"""Do-Not-Call registry data: the sources, the numbers they list, and the
record of every sync (TSR 16 CFR 310.4(b)(3)(iv): a copy at most 31 days old).

Freshness is kept per (source, area code) in `AreaCodeSync`, because the FTC
sells and delivers the national registry per area code and a call needs fresh
data for its own area code only.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from compliance.registry.sources import source_key_of

# A source's inbox: one folder name below REGISTRY_INBOX_ROOT (no "/", no "..", not absolute).
INBOX_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\Z"


class RegistrySource(models.Model):
    """A registry we sync: the National DNC Registry, one state's list, or a
    litigator list (bought from a screening provider: numbers of people who
    file TCPA suits; no legal duty, and never read as a do-not-call listing).

    `active` says whether the source is still subscribed (synced); the numbers
    and sync records of an inactive source keep counting in decisions, since
    what a registry listed stays listed until a sync says otherwise."""

    class Kind(models.TextChoices):
        NATIONAL = "national", "National DNC Registry"
        STATE = "state", "State DNC list"
        LITIGATOR = "litigator", "Litigator list"

    # Small ids: the id is stored with every registry number (10M+ rows).
    id = models.SmallAutoField(primary_key=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=2, blank=True, help_text="Two-letter state code; empty for national.")
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True, help_text="Subscribed: new files are synced.")
    # A folder NAME below the deployment's REGISTRY_INBOX_ROOT, never a path
    # (see `compliance.registry.inbox`). max_length stays 500: the history
    # table keeps the paths this field held before migration 0004.
    inbox = models.CharField(
        max_length=500,
        blank=True,
        validators=[
            RegexValidator(
                INBOX_NAME_PATTERN,
                "A folder name below the registry inbox root: letters, digits, '-' and '_', "
                "at most 63 characters, starting with a letter or digit; not a path.",
            )
        ],
        help_text="Name of the folder watched for new files, below the deployment's registry inbox root "
        "(CONSENTDESK_REGISTRY_INBOX); change lists go in its changes/ subfolder. "
        "Empty: the source's default folder (national, state-XX).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "state"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "state"], name="registry_source_unique_kind_state"),
            models.CheckConstraint(
                name="registry_source_state_matches_kind",
                condition=Q(kind__in=["national", "litigator"], state="")
                | Q(kind="state", state__regex=r"^[A-Z]{2}$"),
                violation_error_message="A national or litigator source has no state; a state list needs a "
                "two-letter state code.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def key(self) -> str:
        """ "national", "state:FL" or "litigator": how decisions and rules name a source."""
        return source_key_of(self.kind, self.state)

    @property
    def default_inbox(self) -> str:
        """The inbox folder name when none is set: `national`, `state-FL` (as before inboxes were names)."""
        return self.key.replace(":", "-")

    @property
    def inbox_name(self) -> str:
        return self.inbox or self.default_inbox

    def clean(self) -> None:
        # Two sources sharing a folder would import each other's files.
        others = RegistrySource.objects.exclude(pk=self.pk) if self.pk else RegistrySource.objects.all()
        # Compared without case: some filesystems do not tell `state-FL` from `state-fl`.
        if any(other.inbox_name.lower() == self.inbox_name.lower() for other in others):
            raise ValidationError(
                {"inbox": f"Another source already uses the inbox folder '{self.inbox_name}'."}
            )


class SyncRun(models.Model):
    """One import of registry files, whatever its outcome. Append-only in
    spirit: written by the import service only, read-only in the admin.

    The row is committed when the import starts (status `running`) and its
    progress is updated outside the import's transaction, so a page can show
    it while it runs; the outcome is committed with the data it describes."""

    class Kind(models.TextChoices):
        FULL = "full", "Full file"
        CHANGE_LIST = "change_list", "Change list"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (already imported)"
        HELD = "held", "Held for approval (shrink guard)"

    class Trigger(models.TextChoices):
        COMMAND = "command", "Management command"
        ADMIN = "admin", "Admin"
        TASK = "task", "Scheduled task"

    source = models.ForeignKey(RegistrySource, on_delete=models.PROTECT, related_name="sync_runs")
    file_names = models.JSONField(default=list, help_text="The files of the import, in order.")
    checksum = models.CharField(
        max_length=64,
        blank=True,
        db_index=True,
        help_text="SHA-256 of the files' bytes, concatenated in order.",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    area_codes = models.JSONField(default=list, help_text="Area codes the files contain.")
    added = models.PositiveBigIntegerField(default=0)
    removed = models.PositiveBigIntegerField(default=0)
    number_count = models.PositiveBigIntegerField(
        default=0, help_text="Distinct numbers (full file) or changes (change list) in the files."
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True, help_text="Why it failed: the file, the line and the reason.")
    note = models.TextField(
        blank=True, help_text="What a compliance officer should know about a successful run."
    )
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(
        default=0, help_text="Lines in the files; estimated from the bytes read until the files are read."
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["source", "status", "-started_at"], name="registry_run_source_status")
        ]
        constraints = [
            models.CheckConstraint(
                name="registry_run_finished_unless_running",
                condition=Q(status="running", finished_at__isnull=True)
                | ~Q(status="running") & Q(finished_at__isnull=False),
                violation_error_message="A finished run has its end time; a running one has none.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} of {self.source} at {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
        )

    @property
    def progress_percent(self) -> int | None:
        if not self.rows_total:
            return None
        return min(100, self.rows_done * 100 // self.rows_total)


class AreaCodeSync(models.Model):
    """The last sync of one area code of one source: what freshness is judged by.

    A marketing call needs the row of its number's area code, for every source
    that speaks for the call, at most 31 days old (`dnc_data_stale`)."""

    source = models.ForeignKey(RegistrySource, on_delete=models.PROTECT, related_name="area_code_syncs")
    area_code = models.PositiveSmallIntegerField()
    synced_at = models.DateTimeField()
    number_count = models.PositiveIntegerField(help_text="Numbers listed in this area code after the sync.")
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the files of the sync.")
    sync_run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, related_name="area_code_syncs")
    last_full_removed = models.PositiveIntegerField(
        default=0, help_text="Numbers the last full file of this area code removed (shown on the audit page)."
    )
    last_full_before = models.PositiveIntegerField(
        default=0, help_text="Numbers listed in this area code before that full file."
    )

    class Meta:
        ordering = ["source", "area_code"]
        verbose_name = "area code sync"
        constraints = [
            models.UniqueConstraint(fields=["source", "area_code"], name="registry_area_code_sync_unique"),
            models.CheckConstraint(
                name="registry_area_code_nanp",
                condition=Q(area_code__gte=200, area_code__lte=999),
                violation_error_message="A NANP area code is three digits, not starting with 0 or 1.",
            ),
        ]
        indexes = [models.Index(fields=["area_code"], name="registry_area_code_idx")]

    def __str__(self) -> str:
        return f"{self.source.key} {self.area_code} synced {self.synced_at:%Y-%m-%d}"


class RegistryNumber(models.Model):
    """A number listed by a source: the 10-digit NANP number as an integer.

    Physical design (created by migration 0002 with SQL, hence unmanaged):

    On PostgreSQL, `registry_number (number bigint, source_id smallint)` is
    LIST-partitioned by source, one partition `registry_number_s<id>` per
    source, each with a unique index on `number` (unique per partition is
    unique per (number, source)). There is no index on the parent, so that
    a partition can be built apart and attached as is. This gives:

    - lookups by number over all sources: one index probe per partition;
    - a full file that replaces most of a source is loaded with COPY into a
      fresh table (frozen rows, no WAL for hint bits, index built once after
      loading, as fast as the physical floor), then swapped in for the old
      partition in the same transaction: readers see the old data until the
      commit, and a crash leaves it untouched;
    - a file replacing a small part of a big source (one area code of the
      national list) is applied in place instead (delete the area codes'
      ranges, insert the new numbers), so its cost follows its size, not the
      size of the source.

    No foreign key constraint (a 10M-row COPY would check it row by row): a
    source's partition exists only once an import for it has run, and sources
    with sync runs cannot be deleted.

    On SQLite (the demo) it is one `WITHOUT ROWID` table with the primary key
    (number, source_id).
    """

    pk = models.CompositePrimaryKey("number", "source")
    number = models.BigIntegerField()
    source = models.ForeignKey(
        RegistrySource, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        managed = False
        db_table = "registry_number"
        verbose_name = "registry number"

    def __str__(self) -> str:
        return f"{self.number} ({self.source_id})"


class ShrinkHold(models.Model):
    """A full file held by the shrink guard: it would remove more than
    REGISTRY_SHRINK_LIMIT of the numbers of an area code holding at least
    REGISTRY_SHRINK_FLOOR (a truncated download looks exactly like that).

    Nothing of it was applied. Its files wait in the `pending/` folder of the
    source's inbox until a second compliance officer (not the one who
    uploaded or triggered it) approves it with a reason, and it is imported,
    or rejects it. A row with status `approved` and no `sync_run` held is
    also how a waiver from the command line (`dnc_import --approve-shrink`)
    is recorded. Written for any source (national, state, litigator lists)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    source = models.ForeignKey(RegistrySource, on_delete=models.PROTECT, related_name="shrink_holds")
    file_names = models.JSONField(
        default=list, help_text="The held files, in order, in the pending/ folder of the source's inbox."
    )
    original_names = models.JSONField(default=list, help_text="The files as they were given to the import.")
    checksum = models.CharField(
        max_length=64, help_text="SHA-256 of the files' bytes, concatenated in order."
    )
    area_codes = models.JSONField(
        default=dict,
        help_text='Per area code the file would shrink too much: {"212": {"before": 1200, "after": 900, '
        '"removed": 300}}.',
    )
    held_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="The run held."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was approved or rejected.")
    applied_run = models.ForeignKey(
        SyncRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The import once approved.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="registry_shrink_hold_decided_with_reason",
                condition=Q(status="pending", decided_at__isnull=True)
                | ~Q(status="pending") & Q(decided_at__isnull=False) & ~Q(reason=""),
                violation_error_message="An approval or a rejection has its time and its reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"Shrink hold #{self.pk} of {self.source} ({self.status})"


class RegistryUpload(models.Model):
    """A file uploaded into a source's inbox in the admin, and by whom: the
    inbox sync imports it in that person's name (the shrink guard then needs
    somebody else to approve it)."""

    source = models.ForeignKey(RegistrySource, on_delete=models.PROTECT, related_name="uploads")
    file_name = models.CharField(max_length=200, help_text="Its name in the inbox.")
    checksum = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of its bytes.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source})"


class LitigatorReview(models.Model):
    """A number a litigator list holds, called under a campaign whose
    litigator policy is `flag` (issue 18): the call went ahead, and a
    compliance officer signs the number off (calls go on, no further review)
    or suppresses it (the company's do-not-call list). One review per number.

    Only the flag, the list it came from and when are kept: no names or case
    titles. An erased customer's number becomes "(erased)" here and in the
    history; the keyed hash keeps the review unique."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for review"
        SIGNED_OFF = "signed_off", "Signed off: calls may go on"
        SUPPRESSED = "suppressed", "Suppressed: on the company's do-not-call list"

    number = models.CharField(max_length=20, help_text="E.164, or '(erased)'.")
    number_hash = models.CharField(max_length=64, unique=True, help_text="Keyed hash of the number.")
    source = models.ForeignKey(
        RegistrySource, on_delete=models.PROTECT, related_name="+", help_text="The litigator list."
    )
    listed_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the list that holds the number was synced."
    )
    # The decision log is append-only and purged through the owner's door: no
    # foreign key may hold a row of it.
    decision_id = models.BigIntegerField(help_text="The first decision flagged (allowed, with the flag).")
    flagged_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was signed off or suppressed.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["status", "-flagged_at"]
        indexes = [models.Index(fields=["status", "flagged_at"], name="litigator_review_queue_idx")]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_status_display().lower()})"


class LitigatorListing(models.Model):
    """What a litigator provider's lookup said of a number (issue 18): the
    provider's level, the provider and the date listed, by keyed hash only;
    the listing itself is the litigator source's registry number. No names
    or case titles. Replaced by each screen of the number; gone when a screen
    no longer matches it or the person is erased."""

    number_hash = models.CharField(max_length=64, unique=True)
    level = models.CharField(max_length=40)
    provider = models.CharField(max_length=40)
    listed_on = models.DateField(null=True, blank=True)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.level} ({self.provider})"
