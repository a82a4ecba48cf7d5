from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.audit import access_record
from consent import services
from consent.forms import ConsentRecordForm, OptOutForm, OptOutNoteForm
from consent.models import ConsentGrant, DncRequest, InboundMessage, OptOutVia, SuppressionEntry
from consent.preferences import preference_url
from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.phones import phone_normalize
from core.words import day_text
from customers.admin import CustomerAdmin, ReadableHistoryAdmin
from customers.models import Customer


class ReadOnlyRecordAdmin(ReadableHistoryAdmin):
    """Records of what people told us: created through services, never edited or deleted."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _opt_out_numbers(request, numbers: list[str], note: str) -> None:
    done = []
    with transaction.atomic():
        for number in sorted(set(numbers)):
            opt_out = services.consent_revoke(number=number, via=OptOutVia.ADMIN, by=request.user, note=note)
            done.append(f"{opt_out.number} ({len(opt_out.revoked)} consent(s) revoked)")
    messages.success(request, "Opted out: " + "; ".join(done) + ". Effective now.")


def _opt_out_action(modeladmin, request, queryset, numbers: list[str], what: str):
    """The admin action's intermediate page: confirm and give the reason."""
    if "apply" in request.POST:
        form = OptOutNoteForm(request.POST)
        if form.is_valid():
            _opt_out_numbers(request, numbers, form.cleaned_data["note"])
            return None
    else:
        form = OptOutNoteForm()
    return TemplateResponse(
        request,
        "admin/consent/opt_out_confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Record opt-out",
            "form": form,
            "numbers": sorted(set(numbers)),
            "what": what,
            "queryset": queryset,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(ConsentGrant)
class ConsentGrantAdmin(ReadOnlyRecordAdmin):
    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page shows the consent's evidence (disclosure, IP, recording): who saw it is logged.
        if request.method == "GET" and self.has_view_permission(request):
            access_record(request, action="viewed consent evidence", target=f"consent #{object_id}")
        return super().change_view(request, object_id, form_url, extra_context)

    list_display = [
        "phone_number",
        "customer",
        "purpose",
        "channel",
        "written",
        "source",
        "granted_at",
        "status",
    ]
    list_filter = ["purpose", "channel", "written", "source", "revoked_via"]
    list_select_related = ["phone_number__customer"]
    raw_id_fields = ["phone_number"]
    date_hierarchy = "granted_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["record_opt_out"]
    readonly_fields = [
        "phone_number",
        "purpose",
        "channel",
        "written",
        "source",
        "evidence_table",
        "granted_at",
        "expires_at",
        "recorded_by",
        "recorded_at",
        "revoked_at",
        "revoked_via",
        "revoked_by",
        "revocation_note",
    ]
    exclude = ["evidence"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            return queryset.filter(phone_number__number=phone_normalize(search_term)), False
        except ValidationError:
            return queryset.none(), False

    search_fields = ["phone_number__number"]
    search_help_text = "A phone number in any format."

    @admin.display(description="Customer")
    def customer(self, grant):
        return grant.phone_number.customer

    @admin.display(description="Status")
    def status(self, grant):
        if grant.revoked_at:
            return format_html(
                '<span style="color:#b3261e">revoked {} ({})</span>',
                day_text(grant.revoked_at),
                grant.get_revoked_via_display(),
            )
        if grant.expires_at and grant.expires_at <= timezone.now():
            return "expired"
        return "active"

    @admin.display(description="Evidence")
    def evidence_table(self, grant):
        rows = ((key.replace("_", " "), value) for key, value in (grant.evidence or {}).items())
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ConsentRecordForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    "Consent",
                    {
                        "fields": [
                            "phone",
                            "purpose",
                            "channel",
                            "written",
                            "source",
                            "granted_at",
                            "expires_at",
                        ]
                    },
                ),
                (
                    "Evidence",
                    {
                        "fields": [
                            "disclosure_text",
                            "ip",
                            "user_agent",
                            "form_reference",
                            "recording_reference",
                        ]
                    },
                ),
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        grant = services.consent_grant(
            phone=form.cleaned_data["phone"],
            purpose=form.cleaned_data["purpose"],
            channel=form.cleaned_data["channel"],
            written=form.cleaned_data["written"],
            source=form.cleaned_data["source"],
            evidence=form.evidence(),
            granted_at=form.cleaned_data["granted_at"],
            expires_at=form.cleaned_data.get("expires_at"),
            by=request.user,
            reason="opt-in recorded in the admin",
        )
        obj.__dict__.update(grant.__dict__)  # the admin logs and redirects with `obj`

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("consent.add_consentgrant")

    @admin.action(
        description="Record opt-out for the numbers of the selected consents", permissions=["opt_out"]
    )
    def record_opt_out(self, request, queryset):
        numbers = [
            str(g.phone_number.number)
            for g in queryset.select_related("phone_number")
            if g.phone_number.number
        ]
        return _opt_out_action(self, request, queryset, numbers, "consents")

    def has_opt_out_permission(self, request) -> bool:
        return request.user.has_perm("consent.add_dncrequest")


@admin.register(DncRequest)
class DncRequestAdmin(ReadOnlyRecordAdmin):
    """The company DNC list. "Add" is the "record opt-out" form."""

    list_display = ["number", "source", "requested_at", "recorded_by", "reason"]
    list_filter = ["source"]
    list_select_related = ["recorded_by"]
    date_hierarchy = "requested_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    search_fields = ["number"]
    search_help_text = "A phone number in any format."
    readonly_fields = ["number", "source", "reason", "evidence", "requested_at", "recorded_by", "created_at"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            return queryset.filter(number=phone_normalize(search_term)), False
        except ValidationError:
            return queryset.none(), False

    def get_urls(self):
        return [
            path("add/", self.admin_site.admin_view(self.opt_out_view), name="consent_dncrequest_add"),
            *super().get_urls(),
        ]

    def opt_out_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OptOutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            _opt_out_numbers(request, [form.cleaned_data["phone"]], form.cleaned_data["reason"])
            return HttpResponseRedirect(reverse("admin:consent_dncrequest_changelist"))
        return TemplateResponse(
            request,
            "admin/consent/opt_out_form.html",
            {
                **self.admin_site.each_context(request),
                "title": "Record opt-out",
                "form": form,
                "opts": self.model._meta,
            },
        )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_number", "body", "status"]
    list_filter = ["status"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ["from_number", "body", "received_at", "dnc_request"]
    fields = ["from_number", "body", "received_at", "status", "dnc_request"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(ReadOnlyAdmin):
    list_display = ["number_hash", "source", "reason", "created_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


admin.site.unregister(Customer)


@admin.register(Customer)
class CustomerConsentAdmin(CustomerAdmin):
    """The customer admin, with what the person told us and the opt-out action."""

    actions = ["record_opt_out"]
    change_list_template = "admin/consent/customer_change_list.html"

    def get_urls(self):
        try:
            from consent.admin_import import customer_import_view
        except ImportError:  # TODO(integration): remove once the import view lands
            return super().get_urls()
        return [
            path(
                "import/", self.admin_site.admin_view(customer_import_view), name="customers_customer_import"
            ),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "consents_and_dnc", "preference_link"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            *fieldsets,
            ("Consents and do-not-call requests", {"fields": ["consents_and_dnc", "preference_link"]}),
        ]

    @admin.display(description="Preference page link")
    def preference_link(self, customer: Customer):
        if customer.is_erased:
            return "-"
        url = preference_url(customer=customer)
        return format_html(
            '<a href="{}">{}</a><br><span class="help">Send this to the customer: it lets them see their '
            "consents and opt out in one click. It expires after {} days.</span>",
            url,
            url,
            settings.PREFERENCE_LINK_MAX_AGE_DAYS,
        )

    @admin.display(description="Record")
    def consents_and_dnc(self, customer: Customer):
        numbers = [p.number for p in customer.phone_numbers.all() if p.number]
        grants = ConsentGrant.objects.filter(phone_number__customer=customer).select_related("phone_number")
        requests = DncRequest.objects.filter(number__in=numbers)
        consent_rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:consent_consentgrant_change", args=[g.pk]),
                    g.phone_number,
                    f"{'written' if g.written else 'express'} {g.get_purpose_display().lower()} ({g.channel})",
                    g.get_source_display(),
                    day_text(g.granted_at),
                    day_text(g.expires_at) if g.expires_at else "never",
                    f"revoked {day_text(g.revoked_at)} ({g.get_revoked_via_display()})"
                    if g.revoked_at
                    else "active",
                )
                for g in grants
            ),
        )
        dnc_rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((r.number, r.get_source_display(), day_text(r.requested_at), r.reason) for r in requests),
        )
        return format_html(
            "<table><tr><th>Number</th><th>Consent</th><th>Source</th><th>Granted</th><th>Expires</th>"
            "<th>Status</th></tr>{}</table><h4>Do-not-call requests</h4><table><tr><th>Number</th><th>Via</th>"
            "<th>Requested</th><th>Reason</th></tr>{}</table>",
            consent_rows or format_html("<tr><td colspan=6>{}</td></tr>", "No consent recorded."),
            dnc_rows or format_html("<tr><td colspan=4>{}</td></tr>", "None."),
        )

    @admin.action(
        description="Record opt-out for the selected customers (all their numbers)", permissions=["opt_out"]
    )
    def record_opt_out(self, request, queryset):
        customers = queryset.prefetch_related("phone_numbers")
        numbers = [str(p.number) for c in customers for p in c.phone_numbers.all() if p.number]
        return _opt_out_action(self, request, queryset, numbers, "customers")

    def has_opt_out_permission(self, request) -> bool:
        return request.user.has_perm("consent.add_dncrequest")
