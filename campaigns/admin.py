"""Campaign building for managers: the campaign with its script and
disclosure, its targets (a CSV of numbers or a segment of customers), the
pre-launch scrub, and the figures that matter while it runs (targets per
status, the abandoned-call rate, why it was paused)."""

import csv
import io
from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from accounts.roles import COMPLIANCE_OFFICERS, MANAGERS, has_role
from campaigns import services
from campaigns.abandonment import AUTOMATED_MODES, MAX_RATE_PERCENT, campaign_abandonment_rate
from campaigns.models import Campaign, CampaignScrub, CampaignTarget
from campaigns.scrub import CLASS_LABELS, CLASSES, RND_STATUS_LABELS, RND_STATUSES, SYNC_LIMIT, scrub_start
from compliance.explain import REASON_TEXT
from compliance.reports import duration_text
from consent.models import Purpose
from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.phones import phone_normalize
from core.words import datetime_text
from customers.admin import ReadableHistoryAdmin
from customers.states import STATE_CHOICES

MAX_CSV_ERRORS_SHOWN = 50

QUEUE_STATUS_MEANS: dict[str, str] = {
    CampaignTarget.Status.QUEUED: "Waiting for the dialer, due now or later.",
    CampaignTarget.Status.LEASED: "On an agent's screen now.",
    CampaignTarget.Status.DONE: "Reached: the call connected.",
    CampaignTarget.Status.SUPPRESSED: "Taken out for good: the dialer met a block that never clears "
    "(an opt-out, no consent, a wrong number).",
}


class CampaignForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False,
        max_length=200,
        help_text="Why you make this change (kept in the campaign's history).",
    )

    class Meta:
        model = Campaign
        fields = services.CAMPAIGN_FIELDS


@admin.register(Campaign)
class CampaignAdmin(ReadableHistoryAdmin):
    form = CampaignForm
    change_form_template = "admin/campaigns/campaign/change_form.html"
    list_display = [
        "name",
        "status_with_reason",
        "purpose",
        "dialing_mode",
        "subject",
        "window",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["status", "purpose", "dialing_mode", "litigator_policy"]
    list_select_related = ["created_by"]
    search_fields = ["name", "subject"]
    show_full_result_count = False
    readonly_fields = [
        "paused_because",
        "target_counts",
        "scrub_counts",
        "abandonment",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                "Campaign",
                {
                    "fields": [
                        "name",
                        "status",
                        "purpose",
                        "dialing_mode",
                        "subject",
                        "caller_id",
                        "litigator_policy",
                    ]
                },
            ),
            (
                "When to call",
                {
                    "fields": [
                        ("window_start", "window_end"),
                        "max_attempts_per_day",
                        ("starts_at", "ends_at"),
                    ],
                    "description": "Local time at the callee. Federal and state windows, days and caps always "
                    "apply on top of these.",
                },
            ),
            ("What the agent says", {"fields": ["script", "disclosure"]}),
        ]
        if obj is not None:
            fieldsets.insert(
                0,
                ("Now", {"fields": ["paused_because", "target_counts", "scrub_counts", "abandonment"]}),
            )
            fieldsets.append(("Record", {"fields": ["created_by", "created_at", "updated_at"]}))
        if self.has_change_permission(request, obj):
            fieldsets.append((None, {"fields": ["change_reason"]}))
        return fieldsets

    @admin.display(description="Window")
    def window(self, campaign: Campaign) -> str:
        if campaign.window_start is None:
            return "-"
        return f"{campaign.window_start:%H:%M}-{campaign.window_end:%H:%M}"

    @admin.display(description="Status", ordering="status")
    def status_with_reason(self, campaign: Campaign):
        if campaign.status == Campaign.Status.PAUSED and campaign.paused_reason:
            return format_html(
                '<strong style="color:#ba2121">Paused</strong><br><span class="help">{}</span>',
                campaign.paused_reason,
            )
        return campaign.get_status_display()

    @admin.display(description="Why paused")
    def paused_because(self, campaign: Campaign):
        if campaign.status == Campaign.Status.PAUSED and campaign.paused_reason:
            return format_html('<strong style="color:#ba2121">{}</strong>', campaign.paused_reason)
        if campaign.paused_reason:
            return format_html('<span class="help">Last automatic pause: {}</span>', campaign.paused_reason)
        return "-"

    @admin.display(description="Targets in the queue")
    def target_counts(self, campaign: Campaign):
        counts = CampaignTarget.objects.filter(campaign=campaign).aggregate(
            **{status: Count("id", filter=Q(status=status)) for status in CampaignTarget.Status.values}
        )
        url = reverse("admin:campaigns_campaigntarget_changelist")
        rows = (
            (
                f"{url}?{urlencode({'campaign__id__exact': str(campaign.pk), 'status__exact': status})}",
                label,
                counts[status],
                QUEUE_STATUS_MEANS[status],
            )
            for status, label in CampaignTarget.Status.choices
        )
        total = sum(counts.values())
        return format_html(
            '<table id="queue-counts"><tr><th>Status</th><th>Targets</th><th>What it counts</th></tr>{}'
            "<tr><th>Total</th><th>{}</th><th></th></tr></table>"
            '<p class="help">Where each target stands in the dialer. The dialer decides a target only when '
            "it reaches it: one the pre-launch scrub finds never callable stays queued until then.</p>",
            format_html_join(
                "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td class="help">{}</td></tr>', rows
            ),
            total,
        )

    @admin.display(description="Pre-launch scrub")
    def scrub_counts(self, campaign: Campaign):
        """The latest scrub's figures in the scrub page's own words, beside
        the queue's: the two count different things, and say so."""
        url = reverse("admin:campaigns_campaign_scrub", args=[campaign.pk])
        run = (
            CampaignScrub.objects.filter(campaign=campaign, status=CampaignScrub.Status.SUCCEEDED)
            .order_by("-created_at", "-id")
            .first()
        )
        if run is None:
            return format_html(
                'None yet: <a href="{}">run one</a> to see how many targets will be skipped and why.', url
            )
        rows = ((CLASS_LABELS[klass], run.result["classes"].get(klass, 0)) for klass in CLASSES)
        return format_html(
            '<table id="scrub-counts"><tr><th>If activated at {}</th><th>Targets</th></tr>{}'
            "<tr><th>Total</th><th>{}</th></tr></table>"
            '<p class="help">Every target decided at that instant by the dialer\'s rules, nothing changed. '
            '<a href="{}">Why, and run it again</a></p>',
            datetime_text(run.at),
            format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", rows),
            run.result.get("total", 0),
            url,
        )

    @admin.display(description="Abandoned calls (30 days)")
    def abandonment(self, campaign: Campaign):
        rate = campaign_abandonment_rate(campaign=campaign, now=timezone.now())
        applies = campaign.dialing_mode in AUTOMATED_MODES
        note = (
            f"An autodialed or prerecorded campaign over {MAX_RATE_PERCENT}% is paused automatically "
            "(47 CFR 64.1200(a)(7))."
            if applies
            else "Manual dialing: the limit binds autodialed and prerecorded campaigns."
        )
        if rate.over_limit:
            return format_html(
                '<strong style="color:#ba2121">{}</strong><br><span class="help">{}</span>', str(rate), note
            )
        return format_html('{}<br><span class="help">{}</span>', str(rate), note)

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason") or ""
        fields = {
            name: form.cleaned_data[name] for name in services.CAMPAIGN_FIELDS if name in form.cleaned_data
        }
        if change:
            changed = [name for name in form.changed_data if name in services.CAMPAIGN_FIELDS]
            campaign = services.campaign_update(
                campaign=obj,
                fields={name: fields[name] for name in changed},
                by=request.user,
                reason=reason or f"changed in the admin: {', '.join(changed) or 'nothing'}",
            )
        else:
            campaign = services.campaign_create(
                fields=fields, by=request.user, reason=reason or "created in the admin"
            )
        obj.__dict__.update(campaign.__dict__)  # the admin logs and redirects with `obj`
        if campaign.status == Campaign.Status.ACTIVE and "status" in form.changed_data:
            scrubbed = CampaignScrub.objects.filter(
                campaign=campaign,
                status=CampaignScrub.Status.SUCCEEDED,
                created_at__gte=timezone.now() - timedelta(days=1),
            ).exists()
            if not scrubbed:
                messages.warning(
                    request,
                    format_html(
                        'Activated without a pre-launch scrub in the last 24 hours: <a href="{}">run one</a> '
                        "to see how many targets will be skipped and why.",
                        reverse("admin:campaigns_campaign_scrub", args=[campaign.pk]),
                    ),
                )

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # finish a campaign instead: its attempts are the record of its calls

    # --- extra pages -----------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:campaign_id>/targets/add/",
                self.admin_site.admin_view(self.add_targets_view),
                name="campaigns_campaign_add_targets",
            ),
            path(
                "<int:campaign_id>/scrub/",
                self.admin_site.admin_view(self.scrub_view),
                name="campaigns_campaign_scrub",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_add_targets"] = obj is not None and can_add_targets(request.user)
        context["can_scrub"] = obj is not None and can_scrub(request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def add_targets_view(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        if not can_add_targets(request.user):
            raise PermissionDenied
        form = AddTargetsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            if form.cleaned_data["source"] == AddTargetsForm.CSV:
                numbers = form.cleaned_data["numbers"]
                what = f"{len(numbers)} number(s) in the file"
                added = services.targets_add(
                    campaign=campaign,
                    numbers=numbers,
                    by=request.user,
                    priority=form.cleaned_data["priority"],
                )
            else:
                numbers = services.segment_numbers(**form.segment())
                what = f"{len(numbers)} number(s) in the segment"
                added = services.targets_add(
                    campaign=campaign,
                    numbers=numbers,
                    by=request.user,
                    priority=form.cleaned_data["priority"],
                )
            messages.success(
                request,
                f"{what}: {added.added} added, {len(added.already_targeted)} already targeted, "
                f"{len(added.unknown)} unknown (no customer has them, or the customer was erased; not added).",
            )
            if added.unknown:
                shown = ", ".join(added.unknown[:20]) + (" …" if len(added.unknown) > 20 else "")
                messages.warning(request, f"Unknown numbers: {shown}")
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/add_targets.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Add targets to {campaign}",
                "campaign": campaign,
                "form": form,
                "opts": self.model._meta,
                "original": campaign,
            },
        )

    def scrub_view(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        if not can_scrub(request.user):
            raise PermissionDenied
        if request.method == "POST":
            scrub_start(campaign=campaign, by=request.user)
            return HttpResponseRedirect(request.path)
        run = CampaignScrub.objects.filter(campaign=campaign).select_related("requested_by").first()
        return TemplateResponse(
            request,
            "admin/campaigns/campaign/scrub.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Pre-launch scrub of {campaign}",
                "campaign": campaign,
                "run": run,
                "rows": _scrub_rows(run),
                "reason_rows": _reason_rows(run),
                "rnd_rows": _rnd_rows(run),
                "rnd_queries_needed": (run.result or {}).get("rnd_queries_needed") if run else None,
                "opens": _opens(run),
                "took": duration_text(run.duration.total_seconds()) if run and run.duration else "",
                "in_progress": run is not None
                and run.status in (CampaignScrub.Status.PENDING, CampaignScrub.Status.RUNNING),
                "sync_limit": SYNC_LIMIT,
                "opts": self.model._meta,
                "original": campaign,
            },
        )


def can_add_targets(user) -> bool:
    return user.has_perm("campaigns.add_campaigntarget") and user.has_perm("campaigns.change_campaign")


def can_scrub(user) -> bool:
    return has_role(user, MANAGERS, COMPLIANCE_OFFICERS)


def _scrub_rows(run: CampaignScrub | None) -> list[dict]:
    if run is None or run.status != CampaignScrub.Status.SUCCEEDED:
        return []
    total = run.result.get("total") or 0
    by_class = run.result.get("reasons_by_class", {})
    rows = []
    for klass in CLASSES:
        count = run.result["classes"].get(klass, 0)
        rows.append(
            {
                "klass": klass,
                "label": CLASS_LABELS[klass],
                "count": count,
                "percent": round(count * 100 / total, 1) if total else 0,
                "reasons": [
                    (code, n, REASON_TEXT.get(code, code)) for code, n in by_class.get(klass, {}).items()
                ],
            }
        )
    return rows


def _opens(run: CampaignScrub | None) -> list[tuple[datetime, int]]:
    """When the "later today" targets open: the hours the scrub stored (ISO
    8601 in its JSON), as instants the page shows in the viewer's zone."""
    hours = (run.result or {}).get("opens_by_hour", {}) if run else {}
    return sorted((datetime.fromisoformat(hour), n) for hour, n in hours.items())


def _rnd_rows(run: CampaignScrub | None) -> list[tuple[str, int]]:
    """The Reassigned Numbers Database's answers for the targets where one
    matters (none before issue 18's scrubs, or when none matters)."""
    if run is None or run.status != CampaignScrub.Status.SUCCEEDED:
        return []
    counts = run.result.get("rnd") or {}
    if not any(counts.values()):
        return []
    return [(RND_STATUS_LABELS[status], counts.get(status, 0)) for status in RND_STATUSES]


def _reason_rows(run: CampaignScrub | None) -> list[tuple[str, int, str]]:
    if run is None or run.status != CampaignScrub.Status.SUCCEEDED:
        return []
    return [(code, n, REASON_TEXT.get(code, code)) for code, n in run.result.get("reasons", {}).items()]


class AddTargetsForm(forms.Form):
    CSV = "csv"
    SEGMENT = "segment"

    source = forms.ChoiceField(
        choices=[(CSV, "A CSV file of phone numbers"), (SEGMENT, "A segment of customers")],
        widget=forms.RadioSelect,
        initial=CSV,
    )
    csv_file = forms.FileField(
        required=False,
        label="CSV file",
        help_text="One number per line, in any common format ((305) 555-0123, 305-555-0123, +13055550123); "
        "a header line is allowed. One bad line rejects the whole file.",
    )
    states = forms.MultipleChoiceField(
        choices=STATE_CHOICES,
        required=False,
        help_text="Customers whose address is in one of these states.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    consent_purpose = forms.ChoiceField(
        choices=[("", "Any customer")]
        + [(value, f"Active {label.lower()} voice consent") for value, label in Purpose.choices],
        required=False,
        label="Consent",
        help_text="Customers with an active (not revoked, not expired) voice consent of this purpose.",
    )
    consent_written = forms.BooleanField(required=False, label="Written consent only")
    purchased_since = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Customers whose last purchase is on or after this date.",
    )
    priority = forms.IntegerField(
        initial=0, min_value=-100, max_value=100, help_text="Higher is called first."
    )

    def clean(self):
        data = super().clean()
        if data.get("source") == self.CSV:
            upload = data.get("csv_file")
            if upload is None:
                self.add_error("csv_file", "Choose a CSV file.")
            else:
                data["numbers"] = self._numbers(upload)
        elif data.get("source") == self.SEGMENT:
            if not (data.get("states") or data.get("consent_purpose") or data.get("purchased_since")):
                raise ValidationError(
                    "A segment needs at least one criterion: a state, a consent or a purchase date."
                )
            if data.get("consent_written") and not data.get("consent_purpose"):
                self.add_error("consent_purpose", "Choose the purpose of the written consent.")
        return data

    def _numbers(self, upload) -> list[str]:
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        numbers, errors = [], []
        seen_content = False
        for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            first_content, seen_content = not seen_content, True
            if len(cells) > 1:
                errors.append(f"Line {line_number}: one column expected, found {len(cells)}.")
                continue
            try:
                numbers.append(phone_normalize(cells[0]))
            except ValidationError as error:
                if first_content and not any(char.isdigit() for char in cells[0]):
                    continue  # a header line such as "phone"
                errors.append(f"Line {line_number}: {' '.join(error.messages)}")
        if errors:
            shown = errors[:MAX_CSV_ERRORS_SHOWN]
            if len(errors) > MAX_CSV_ERRORS_SHOWN:
                shown.append(f"… and {len(errors) - MAX_CSV_ERRORS_SHOWN} more bad line(s).")
            raise ValidationError(
                ["The file was not imported (nothing changed): fix these lines and upload it again.", *shown]
            )
        if not numbers:
            raise ValidationError("The file has no phone numbers.")
        return list(dict.fromkeys(numbers))

    def segment(self) -> dict:
        data = self.cleaned_data
        return {
            "states": data.get("states") or [],
            "consent_purpose": data.get("consent_purpose") or None,
            "consent_written": bool(data.get("consent_written")),
            "purchased_since": data.get("purchased_since"),
            "at": timezone.now(),
        }


@admin.register(CampaignTarget)
class CampaignTargetAdmin(ReadOnlyAdmin, ReadableHistoryAdmin):
    """The dialer queue, read-only: targets are added from the campaign and
    moved on only by the dialer."""

    list_display = [
        "phone_number",
        "campaign",
        "status",
        "priority",
        "attempts",
        "next_attempt_at",
        "lease_agent",
        "blocked_reasons",
    ]
    list_filter = ["status", "campaign"]
    list_select_related = ["phone_number", "campaign", "lease_agent"]
    raw_id_fields = ["phone_number", "campaign", "lease_agent"]
    search_fields = ["phone_number__number"]
    search_help_text = "A phone number in any format."
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            return queryset.filter(phone_number__number=phone_normalize(search_term)), False
        except ValidationError:
            return queryset.none(), False
