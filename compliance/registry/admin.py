"""Registry admin: sources (configured by compliance officers, with history),
sync runs and area-code syncs (read-only records), and a number lookup.

The numbers table itself is not registered: with 10M+ rows, a changelist
(and its COUNT(*)) is no use; the lookup page answers the only question
worth asking of it, "who lists this number?"."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Q, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from compliance.registry.folders import RegistryInboxError, registry_inbox_path
from compliance.registry.inbox import registry_upload_save
from compliance.registry.litigator import litigator_review_decide
from compliance.registry.models import (
    AreaCodeSync,
    LitigatorListing,
    LitigatorReview,
    RegistrySource,
    ShrinkHold,
    SyncRun,
)
from compliance.registry.selectors import e164_to_registry_int, registry_freshness, registry_listings
from compliance.registry.services import shrink_hold_decide, shrink_hold_describe
from compliance.registry.tasks import registry_inbox_sync_task
from compliance.selectors import registry_limits, registry_older_than_limit
from core.admin import HistoryAdmin, ReadOnlyAdmin
from core.history import history_save
from core.phones import phone_normalize
from core.words import datetime_text, day_text


def decision_page(
    model_admin: admin.ModelAdmin,
    request,
    *,
    form: forms.Form,
    decide: Callable[[str, str], str],
    done: str,
    template: str,
    context: dict,
):
    """A page where a second person decides a held record with a reason (a
    shrink hold, a litigator review): on a valid POST, `decide(choice,
    reason)` records it and says what follows (shown as a message, then back
    to the record), or raises ValidationError per field (400 with the form)."""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                message = decide(form.cleaned_data["decision"], form.cleaned_data["reason"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                model_admin.message_user(request, message, messages.SUCCESS)
                return redirect(done)
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "form": form,
            **context,
        },
        status=status,
    )


class HeldRecordAdmin(HistoryAdmin):
    """A record written by services only, decided by a second person on a
    page of its own (`decide_view`, through `decision_page`): read-only here,
    its decide URL named `registry_<model>_decide`, open to
    `decide_permission`."""

    decide_permission = ""
    decide_path = ""
    decide_view: Callable[..., Any]  # the subclass's page

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the record is written by services only; deciding is its own page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(self.decide_permission)

    def get_urls(self):
        decide = path(
            self.decide_path,
            self.admin_site.admin_view(self.decide_view),
            name=f"registry_{self.model._meta.model_name}_decide",
        )
        return [decide, *super().get_urls()]


class RegistryUploadForm(forms.Form):
    file = forms.FileField(help_text="An FTC or state file: one number per line (AAANNNNNNN or AAA,NNNNNNN).")
    change_list = forms.BooleanField(
        required=False, help_text="A change list (number,date,A|D per line) rather than a full file."
    )


class ShrinkHoldDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve: import the file as it is"),
            ("reject", "Reject: nothing is imported; the file goes to rejected/"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why, e.g. the FTC confirmed the area code was split. Kept with the decision.",
    )


class NumberLookupForm(forms.Form):
    number = forms.CharField(label="Phone number", help_text="Any common US format, e.g. (305) 555-0123.")

    def clean_number(self) -> str:
        e164 = phone_normalize(self.cleaned_data["number"])
        if e164_to_registry_int(e164) is None:
            raise ValidationError("Only +1 NANP numbers are in the do-not-call registries.")
        return e164


@admin.register(RegistrySource)
class RegistrySourceAdmin(HistoryAdmin):
    list_display = ("name", "key", "kind", "state", "active", "created_at")
    list_filter = ("kind", "active")
    search_fields = ("name", "state")
    readonly_fields = ("created_at",)
    show_full_result_count = False
    change_list_template = "admin/registry/registrysource/change_list.html"
    change_form_template = "admin/registry/registrysource/change_form.html"
    actions = ["sync_now"]

    def get_readonly_fields(self, request, obj=None):
        # A source's identity is fixed once it has data: its numbers are stored by its id and key.
        return ("kind", "state", "inbox_folder", "created_at") if obj is not None else ("created_at",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate a source instead: its sync runs are the evidence of past decisions

    def save_model(self, request, obj, form, change):
        history_save(
            obj, by=request.user, reason="changed in the admin" if change else "created in the admin"
        )

    def get_urls(self):
        lookup = path("lookup/", self.admin_site.admin_view(self.lookup_view), name="registry_number_lookup")
        upload = path(
            "<int:source_id>/upload/",
            self.admin_site.admin_view(self.upload_view),
            name="registry_source_upload",
        )
        return [lookup, upload, *super().get_urls()]

    @admin.display(description="inbox folder")
    def inbox_folder(self, source: RegistrySource) -> str:
        if not source.pk:
            return "-"
        try:
            return str(registry_inbox_path(source))
        except RegistryInboxError as exc:
            return f"not usable: {exc}"

    @admin.action(description="Sync the inboxes of all active sources now")
    def sync_now(self, request, queryset):
        transaction.on_commit(registry_inbox_sync_task.delay)
        self.message_user(request, "Inbox sync queued: watch its runs under Sync runs.", messages.SUCCESS)

    def upload_view(self, request, source_id: int):
        source = get_object_or_404(RegistrySource, pk=source_id)
        if not self.has_change_permission(request, source):
            raise PermissionDenied
        try:
            inbox = registry_inbox_path(source)
        except RegistryInboxError as exc:
            self.message_user(request, f"Cannot upload: {exc}", messages.ERROR)
            return redirect(reverse("admin:registry_registrysource_change", args=[source.pk]))
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            path = registry_upload_save(
                source=source,
                name=upload.name,
                chunks=upload.chunks(),
                change_list=form.cleaned_data["change_list"],
                by=request.user,
            )
            # The file is checked whole by the import, in the worker, like any file in the inbox.
            transaction.on_commit(registry_inbox_sync_task.delay)
            self.message_user(
                request,
                f"{path.name} is in the inbox of {source}; the sync has been queued. "
                "Its run appears below with its progress, or the line that was wrong.",
                messages.SUCCESS,
            )
            return redirect(f"{reverse('admin:registry_syncrun_changelist')}?source__id__exact={source.pk}")
        return TemplateResponse(
            request,
            "admin/registry/upload.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Upload a registry file for {source}",
                "opts": self.model._meta,
                "original": source,
                "form": form,
                "inbox": inbox,
            },
        )

    def lookup_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = NumberLookupForm(request.GET or None)
        result = None
        if form.is_valid():
            e164 = form.cleaned_data["number"]
            number = e164_to_registry_int(e164)
            area_code = number // 10_000_000
            listed_in = registry_listings(numbers=[number]).get(number, set())
            freshness = registry_freshness(area_codes=[area_code])
            now = timezone.now()
            sources = list(RegistrySource.objects.order_by("kind", "state"))
            limits = registry_limits(sources=sources, now=now)
            rows = []
            for source in sources:
                synced_at, run_id = freshness.get((source.key, area_code), (None, None))
                limit = limits[source.pk]
                rows.append(
                    {
                        "source": source,
                        "listed": source.key in listed_in,
                        "synced_at": synced_at,
                        "age_days": (now - synced_at).days if synced_at else None,
                        "max_age_days": limit.max_age_days,
                        "stale": synced_at is None or limit.stale(synced_at=synced_at, now=now),
                        "run_url": reverse("admin:registry_syncrun_change", args=[run_id])
                        if run_id
                        else None,
                    }
                )
            result = {"e164": e164, "area_code": area_code, "rows": rows}
        return TemplateResponse(
            request,
            "admin/registry/number_lookup.html",
            {
                **self.admin_site.each_context(request),
                "title": "Look up a number in the do-not-call registries",
                "opts": self.model._meta,
                "form": form,
                "result": result,
            },
        )


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "source",
        "kind",
        "status",
        "started_at",
        "duration",
        "added",
        "removed",
        "area_code_count",
        "progress",
        "trigger",
        "triggered_by",
    )
    list_filter = ("status", "kind", "trigger", "source")
    list_select_related = ("source", "triggered_by")
    search_fields = ("=checksum", "=id")
    ordering = ("-started_at", "-id")
    fields = (
        "source",
        "kind",
        "status",
        "file_names",
        "checksum",
        "area_codes",
        "added",
        "removed",
        "number_count",
        "started_at",
        "finished_at",
        "duration",
        "rows_done",
        "rows_total",
        "progress",
        "error",
        "note",
        "trigger",
        "triggered_by",
    )
    readonly_fields = fields

    @admin.display(description="area codes")
    def area_code_count(self, run: SyncRun) -> int:
        return len(run.area_codes or [])

    @admin.display(description="progress")
    def progress(self, run: SyncRun) -> str:
        percent = run.progress_percent
        if percent is None:
            return "-"
        return format_html(
            '<progress max="100" value="{}">{}%</progress> {} / {}',
            percent,
            percent,
            run.rows_done,
            run.rows_total,
        )


class FreshnessFilter(admin.SimpleListFilter):
    title = "freshness"
    parameter_name = "fresh"

    def lookups(self, request, model_admin):
        return [
            ("fresh", "Within the source's maximum age (rule set)"),
            ("stale", "Older than the source's maximum age (rule set)"),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("fresh", "stale"):
            stale = _stale_condition(timezone.now())
            return queryset.exclude(stale) if self.value() == "fresh" else queryset.filter(stale)
        return queryset


def _stale_condition(now) -> Q:
    """Area-code syncs older than their source's maximum age in the rule set in force."""
    return registry_older_than_limit(
        limits=registry_limits(sources=RegistrySource.objects.all(), now=now), now=now
    )


@admin.register(AreaCodeSync)
class AreaCodeSyncAdmin(ReadOnlyAdmin):
    list_display = ("source", "area_code", "synced_at", "age", "number_count", "sync_run_link")
    list_filter = (FreshnessFilter, "source")
    list_select_related = ("source", "sync_run")
    search_fields = ("=area_code",)
    ordering = ("source", "area_code")
    fields = ("source", "area_code", "synced_at", "age", "number_count", "checksum", "sync_run_link")
    readonly_fields = fields

    def get_queryset(self, request):
        stale = _stale_condition(timezone.now())
        return super().get_queryset(request).annotate(stale=Case(When(stale, then=True), default=False))

    @admin.display(description="age", ordering="-synced_at")
    def age(self, sync: AreaCodeSync) -> str:
        age = timezone.now() - sync.synced_at
        days = age.days
        text = f"{days} day{'s' if days != 1 else ''}" if days else f"{int(age.total_seconds() // 3600)} h"
        if getattr(sync, "stale", False):  # annotated by get_queryset
            return format_html('<strong style="color: #ba2121">{} (stale)</strong>', text)
        return text

    @admin.display(description="sync run")
    def sync_run_link(self, sync: AreaCodeSync) -> str:
        url = reverse("admin:registry_syncrun_change", args=[sync.sync_run_id])
        return format_html(
            '<a href="{}">#{} ({})</a>', url, sync.sync_run_id, sync.sync_run.get_kind_display()
        )


@admin.register(ShrinkHold)
class ShrinkHoldAdmin(HeldRecordAdmin):
    """Full files held by the shrink guard. Read-only but for one page: a
    compliance officer other than the uploader approves or rejects a
    pending hold there, with a reason."""

    list_display = ("id", "source", "status", "created_at", "uploaded_by", "decided_by", "area_code_summary")
    list_filter = ("status", "source")
    list_select_related = ("source", "uploaded_by", "decided_by")
    show_full_result_count = False
    fields = (
        "source",
        "status",
        "summary",
        "area_codes",
        "file_names",
        "original_names",
        "checksum",
        "held_run",
        "uploaded_by",
        "created_at",
        "decided_by",
        "decided_at",
        "reason",
        "applied_run",
    )
    readonly_fields = fields
    change_form_template = "admin/registry/shrinkhold/change_form.html"

    decide_permission = "registry.change_shrinkhold"
    decide_path = "<int:hold_id>/decide/"

    @admin.display(description="area codes")
    def area_code_summary(self, hold: ShrinkHold) -> str:
        return ", ".join(
            f"{code}: -{counts['removed']} of {counts['before']}" for code, counts in hold.area_codes.items()
        )

    @admin.display(description="why held")
    def summary(self, hold: ShrinkHold) -> str:
        return shrink_hold_describe(hold=hold)

    def decide_view(self, request, hold_id: int):
        hold = get_object_or_404(ShrinkHold.objects.select_related("source", "uploaded_by"), pk=hold_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied

        def decide(choice: str, reason: str) -> str:
            approve = choice == "approve"
            with transaction.atomic():
                shrink_hold_decide(hold=hold, by=request.user, approve=approve, reason=reason)
                if approve:  # the sync imports approved holds first
                    transaction.on_commit(registry_inbox_sync_task.delay)
            return (
                "Approved: the inbox sync imports it now; watch its run under Sync runs."
                if approve
                else "Rejected: nothing was imported; the file is in the inbox's rejected/ folder."
            )

        return decision_page(
            self,
            request,
            form=ShrinkHoldDecisionForm(request.POST or None),
            decide=decide,
            done=reverse("admin:registry_shrinkhold_change", args=[hold.pk]),
            template="admin/registry/shrinkhold/decide.html",
            context={
                "title": f"Approve or reject shrink hold #{hold.pk}",
                "original": hold,
                "summary": shrink_hold_describe(hold=hold),
            },
        )


class LitigatorReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("sign_off", "Sign off: calls to the number may go on"),
            ("suppress", "Suppress: put the number on the company's do-not-call list"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why, e.g. the listing is for another person. Kept with the review.",
    )


@admin.register(LitigatorReview)
class LitigatorReviewAdmin(HeldRecordAdmin):
    """Numbers flagged by a litigator list under a campaign whose policy is
    `flag`. Read-only but for one page: a compliance officer signs a number
    off or suppresses it, with a reason."""

    list_display = ("number", "status", "source", "flagged_at", "decision_link", "decided_by", "decided_at")
    list_filter = ("status", "source")
    list_select_related = ("source", "decided_by")
    search_fields = ("number",)
    show_full_result_count = False
    fields = (
        "number",
        "status",
        "source",
        "provider_says",
        "listed_synced_at",
        "flagged_at",
        "decision_link",
        "decided_by",
        "decided_at",
        "reason",
    )
    readonly_fields = fields
    change_form_template = "admin/registry/litigatorreview/change_form.html"

    decide_permission = "registry.change_litigatorreview"
    decide_path = "<int:review_id>/decide/"

    @admin.display(description="provider's screen")
    def provider_says(self, review: LitigatorReview) -> str:
        listing = LitigatorListing.objects.filter(number_hash=review.number_hash).first()
        if listing is None:
            return "listed by file (no provider level)"
        listed = f", listed {day_text(listing.listed_on)}" if listing.listed_on else ""
        return f"{listing.level} ({listing.provider}{listed}; screened {datetime_text(listing.checked_at)})"

    @admin.display(description="decision")
    def decision_link(self, review: LitigatorReview) -> str:
        return format_html(
            '<a href="{}">#{}</a>', reverse("decision-explain", args=[review.decision_id]), review.decision_id
        )

    def decide_view(self, request, review_id: int):
        review = get_object_or_404(LitigatorReview.objects.select_related("source"), pk=review_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied

        def decide(choice: str, reason: str) -> str:
            suppress = choice == "suppress"
            litigator_review_decide(review=review, by=request.user, suppress=suppress, reason=reason)
            return (
                "Suppressed: the number is on the company's do-not-call list; no call goes to it."
                if suppress
                else "Signed off: calls to the number may go on."
            )

        return decision_page(
            self,
            request,
            form=LitigatorReviewDecisionForm(request.POST or None),
            decide=decide,
            done=reverse("admin:registry_litigatorreview_change", args=[review.pk]),
            template="admin/registry/litigatorreview/decide.html",
            context={"title": f"Sign off or suppress {review.number}", "original": review},
        )
