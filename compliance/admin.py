from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

from compliance.models import DecisionRecord, JurisdictionRule, PurgeRun, RetentionPolicy, RndPolicy
from compliance.reports import duration_text
from compliance.retention import retention_purge
from compliance.rnd.models import RndQuery
from compliance.rules import RuleError, rule_from_record
from compliance.tasks import retention_purge_task
from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.phones import phone_normalize
from core.retention import legal_minimum_error, retention_categories, retention_category
from core.words import datetime_text, day_text, person_name
from customers.admin import ReadableHistoryAdmin


def days_text(days: int) -> str:
    """A period in days, with years when it is a whole number of them (365 or
    366 a year): "1826 days (5 years)"."""
    years = round(days / 365.25)
    if years and abs(days - years * 365.25) <= 1:
        return f"{days} days ({years} year{'s' if years > 1 else ''})"
    return f"{days} days"


class JurisdictionRuleForm(forms.ModelForm):
    class Meta:
        model = JurisdictionRule
        fields = JurisdictionRule.RECORD_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            rule_from_record({name: cleaned.get(name) for name in JurisdictionRule.RECORD_FIELDS})
        except RuleError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, str(error))
        return cleaned


@admin.register(JurisdictionRule)
class JurisdictionRuleAdmin(ReadableHistoryAdmin):
    """Rule data: compliance officers change rules (every change is history,
    and the rule-set version recorded in each decision changes with it)."""

    form = JurisdictionRuleForm
    list_display = [
        "jurisdiction",
        "effective_from",
        "effective_to",
        "applies_to",
        "weekday_window",
        "saturday_window",
        "sunday_window",
        "holiday_ban",
        "cap_per_24h",
        "certainty",
        "citation",
    ]
    list_filter = ["certainty", "applies_to", "holiday_ban", "own_dnc_list"]
    search_fields = ["jurisdiction", "citation"]

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data.get("note", "")[:100] or (
            "rule changed" if change else "rule added"
        )
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # end a rule with effective_to: decisions made under it stay explainable


@admin.register(DecisionRecord)
class DecisionRecordAdmin(admin.ModelAdmin):
    """The decision log, append-only: nobody adds, changes or deletes here."""

    list_display = [
        "id",
        "decided_at",
        "kind",
        "phone_number",
        "allowed",
        "reason_list",
        "campaign_id",
        "actor",
        "explain",
    ]
    list_filter = ["kind", "allowed"]
    list_select_related = ["actor"]
    search_fields = ["phone_number"]
    date_hierarchy = "decided_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            return queryset.filter(phone_number=phone_normalize(search_term)), False
        except ValidationError:
            return queryset.filter(phone_number=search_term.strip()), False

    @admin.display(description="Reasons")
    def reason_list(self, record):
        return ", ".join(record.reasons) or "-"

    @admin.display(description="")
    def explain(self, record):
        return format_html('<a href="{}">explain</a>', reverse("decision-explain", args=[record.pk]))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["period_days", "action", "active", "note"]

    def clean(self):
        cleaned = super().clean()
        category = retention_category(self.instance.category)
        if category is None:
            raise ValidationError("This policy names no registered data category.")
        period, action = cleaned.get("period_days"), cleaned.get("action")
        if period is not None:
            problem = legal_minimum_error(category, period)
            if problem:
                self.add_error("period_days", problem)
        if action and action not in category.actions:
            allowed = " or ".join(category.actions)
            self.add_error("action", f"{category.label} can only be handled by: {allowed}.")
        return cleaned


def category_label(key: str) -> str:
    """A data category in words ("Call attempts (call detail records)"), not
    its registry key."""
    category = retention_category(key)
    return category.label if category else f"{key} (no longer registered)"


class CategoryFilter(admin.SimpleListFilter):
    title = "data"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return sorted(
            ((key, category.label) for key, category in retention_categories().items()), key=lambda kv: kv[1]
        )

    def queryset(self, request, queryset):
        return queryset.filter(category=self.value()) if self.value() else queryset


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ReadableHistoryAdmin):
    form = RetentionPolicyForm
    list_display = ["label", "kept", "action", "active", "legal_minimum", "last_run"]
    list_display_links = ["label"]
    list_filter = ["active", "action"]
    readonly_fields = ["label", "key", "legal_minimum", "updated_at"]
    fields = ["label", "period_days", "action", "active", "legal_minimum", "note", "key", "updated_at"]
    actions = ["dry_run_now", "purge_now"]

    def has_add_permission(self, request) -> bool:
        return False  # one policy per registered category, created by code

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        self._last_runs = (
            {
                run.category: run
                for run in PurgeRun.objects.filter(dry_run=False)
                .order_by("category", "-started_at")
                .distinct("category")
            }
            if connection.vendor == "postgresql"
            else {}
        )
        return super().get_queryset(request)

    @admin.display(description="Data", ordering="category")
    def label(self, policy: RetentionPolicy) -> str:
        return category_label(policy.category)

    @admin.display(description="Key (in commands and exports)")
    def key(self, policy: RetentionPolicy) -> str:
        return policy.category

    @admin.display(description="Kept", ordering="period_days")
    def kept(self, policy: RetentionPolicy) -> str:
        return days_text(policy.period_days)

    @admin.display(description="legal minimum")
    def legal_minimum(self, policy: RetentionPolicy) -> str:
        category = retention_category(policy.category)
        if not category or not category.legal_minimum_days:
            return "none"
        return f"{days_text(category.legal_minimum_days)} ({category.legal_basis})"

    @admin.display(description="last purge")
    def last_run(self, policy: RetentionPolicy) -> str:
        run = getattr(self, "_last_runs", {}).get(policy.category)
        if run is None:
            return "never"
        url = reverse("admin:compliance_purgerun_change", args=[run.pk])
        return format_html(
            '<a href="{}">{}: {} removed</a>',
            url,
            day_text(run.started_at),
            run.deleted + run.anonymised,
        )

    def save_model(self, request, obj, form, change):
        obj._change_reason = "changed in the admin"
        super().save_model(request, obj, form, change)

    @admin.action(description="Dry run: count what the selected policies would remove now")
    def dry_run_now(self, request, queryset):
        for policy in queryset:
            (run,) = retention_purge(category=policy.category, dry_run=True, by=request.user, trigger="admin")
            self.message_user(
                request,
                f"{category_label(policy.category)}: would {run.get_action_display().lower()} "
                f"{run.examined} row(s) dated before "
                f"{datetime_text(run.cutoff)}.",
                messages.INFO,
            )

    @admin.action(description="Purge now with the selected policies (in the background)")
    def purge_now(self, request, queryset):
        for policy in queryset:
            category = policy.category
            transaction.on_commit(lambda category=category: retention_purge_task.delay(category=category))
        self.message_user(request, "Purge queued; its runs appear under Purge runs.", messages.SUCCESS)


# A purge run in words: what it did, to which data, how long it took and who asked.
PURGE_RUN_FIELDS = (
    "data",
    "dry_run",
    "action",
    "kept",
    "cutoff",
    "status",
    "examined",
    "deleted",
    "anonymised",
    "batches",
    "longest_batch",
    "started_at",
    "finished_at",
    "took",
    "error",
    "by",
)
PURGE_TRIGGERS = {"task": "the schedule", "command": "a command", "admin": "the admin", "demo": "the demo"}


@admin.register(RndQuery)
class RndQueryAdmin(ReadOnlyAdmin):
    """The RND query ledger, read-only: every answer the Reassigned Numbers
    Database gave, with the date sent, the provider and the hash of the raw
    response (append-only in the database)."""

    list_display = [
        "phone_number",
        "date_sent",
        "date_kind",
        "answer",
        "provider",
        "queried_at",
        "consent_id",
    ]
    list_filter = ["answer", "provider", "date_kind"]
    search_fields = ["phone_number"]
    paginator = EstimatedCountPaginator


class RndPolicyForm(forms.ModelForm):
    class Meta:
        model = RndPolicy
        fields = ["policy", "note"]
        widgets = {"policy": forms.RadioSelect}


@admin.register(RndPolicy)
class RndPolicyAdmin(ReadableHistoryAdmin):
    """The company's RND policy: one row, changed by compliance officers with
    a note; its history says who changed it, when and why."""

    form = RndPolicyForm
    list_display = ["policy", "note", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request) -> bool:
        return False  # one row, made after every migrate

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj._change_reason = (form.cleaned_data.get("note") or "changed in the admin")[:100]
        super().save_model(request, obj, form, change)


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "data",
        "dry_run",
        "action",
        "status",
        "examined",
        "deleted",
        "anonymised",
        "took",
        "by",
    ]
    list_filter = ["status", "dry_run", CategoryFilter]
    list_select_related = ["triggered_by"]
    fields = readonly_fields = PURGE_RUN_FIELDS
    show_full_result_count = False

    @admin.display(description="Data", ordering="category")
    def data(self, run: PurgeRun) -> str:
        return category_label(run.category)

    @admin.display(description="Kept")
    def kept(self, run: PurgeRun) -> str:
        return days_text(run.period_days)

    @admin.display(description="Longest batch")
    def longest_batch(self, run: PurgeRun) -> str:
        return duration_text(run.max_batch_ms / 1000 if run.max_batch_ms is not None else None)

    @admin.display(description="Took", ordering="duration")
    def took(self, run: PurgeRun) -> str:
        return duration_text(run.duration.total_seconds() if run.duration is not None else None)

    @admin.display(description="By", ordering="triggered_by")
    def by(self, run: PurgeRun) -> str:
        user = run.triggered_by
        if user is not None:
            return person_name(user)
        return PURGE_TRIGGERS.get(run.trigger, run.trigger)


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """celery-beat's periodic tasks, where only superusers change one: a task's
    enabled flag, task, schedule and arguments are what the schedule watch
    (compliance.watch) holds against setup_periodic_tasks. A compliance
    officer sees every task and runs one now, but cannot disable, rename,
    reschedule or re-argue one (nor route it to a queue nobody reads)."""

    SUPERUSER_ACTIONS = ("enable_tasks", "disable_tasks", "toggle_tasks")

    def has_change_permission(self, request, obj=None) -> bool:
        # Kept for the change list, whose "Run selected tasks" needs it; a task's own page is view-only.
        if obj is not None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            for name in self.SUPERUSER_ACTIONS:
                actions.pop(name, None)
        return actions

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # The registered-task chooser is a form field: on a view-only page there is nothing to show.
        return [
            (title, {**options, "fields": [name for name in options["fields"] if name != "regtask"]})
            for title, options in fieldsets
        ]


# celery-beat registers its own admin first (INSTALLED_APPS order): this one takes its place.
if admin.site.is_registered(PeriodicTask):
    admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
