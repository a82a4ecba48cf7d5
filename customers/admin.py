import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from accounts.access import user_may_set_legal_hold
from core.admin import EstimatedCountPaginator, HistoryAdmin
from core.phones import phone_normalize
from core.words import datetime_text, day_text, person_name
from customers.models import Customer, PhoneNumber
from customers.services import customer_legal_hold_set

NOTHING = "—"


class PlainChanges(HistoricalRecordContextHelper):
    """A history list's "Changes" in the words of the pages: a choice by its
    label, a time in the site's one format and the viewer's zone, a person by
    name, a dash for nothing. simple-history shows an empty user as
    "Deleted user (pk=None)", a time as its ISO text and a choice as its
    stored code."""

    def prepare_delta_change_value(self, change, value):
        try:
            field = self.model._meta.get_field(change.field)
        except FieldDoesNotExist:
            field = None
        if value is None or value == "" or (isinstance(value, DeletedObject) and value.pk is None):
            return NOTHING
        if isinstance(value, DeletedObject):
            return f"a deleted {value.model._meta.verbose_name} (#{value.pk})"
        if isinstance(value, AbstractBaseUser):
            return person_name(value)
        if field is not None and field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, dt.datetime):
            return datetime_text(value)
        if isinstance(value, dt.date):
            return day_text(value)
        return super().prepare_delta_change_value(change, value)


class ReadableHistoryAdmin(HistoryAdmin):
    """History pages a person reads, for every app's tracked records (it
    belongs in core.admin.HistoryAdmin; it lives in the lowest app whose
    admin every other one may import). A past version shows its values and
    no inputs: history is read-only, and a form there invites an edit the
    server refuses. The list of changes speaks plainly (PlainChanges)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return PlainChanges(self.model, historical_record)

    def render_history_view(self, request, template, context, **kwargs):
        version = context.get("adminform")
        if version is not None:
            original = context["original"]
            fieldsets = [
                (name, {**options, "fields": self._shown(options["fields"], original)})
                for name, options in version.fieldsets
            ]
            context["adminform"] = helpers.AdminForm(
                version.form,
                fieldsets,
                {},
                readonly_fields=flatten_fieldsets(fieldsets),
                model_admin=self,
            )
        return super().render_history_view(request, template, context, **kwargs)

    def _shown(self, fields, original) -> list:
        """The fields a version has (a form-only field such as the change
        reason has no past value), lines of several fields kept together."""

        def has(name) -> bool:
            return hasattr(self, name) or hasattr(original, name)

        shown = []
        for line in fields:
            if isinstance(line, list | tuple):
                kept = [name for name in line if has(name)]
                if kept:
                    shown.append(tuple(kept))
            elif has(line):
                shown.append(line)
        return shown


class LegalHoldForm(forms.Form):
    legal_hold = forms.BooleanField(required=False, label="Under legal hold")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why the hold is set, or lifted. Kept in the customer's history.",
    )


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    fields = ["number", "kind", "reassigned_at"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ReadableHistoryAdmin):
    list_display = ["__str__", "state", "postal_code", "numbers", "legal_hold", "created_at"]
    list_filter = ["state", "legal_hold"]
    search_fields = ["last_name", "email"]  # see get_search_results: numbers first
    search_help_text = "A phone number in any format, an email, or a last name (starts with)."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [PhoneNumberInline]
    # The hold is never edited in the change form: compliance officers set
    # and lift it on its own page, through the service, with a reason.
    readonly_fields = [
        "legal_hold",
        "legal_hold_reason",
        "legal_hold_change",
        "erased_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email"]}),
        ("Address", {"fields": ["state", "postal_code"]}),
        ("Relationship (EBR)", {"fields": ["last_purchase_at", "last_inquiry_at"]}),
        (
            "Legal",
            {
                "fields": [
                    "legal_hold",
                    "legal_hold_reason",
                    "legal_hold_change",
                    "erased_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        """The "Legal hold…" link only for those who may open its page (a dead end otherwise)."""
        fieldsets = super().get_fieldsets(request, obj)
        if user_may_set_legal_hold(request.user):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "legal_hold_change"]})
            for name, options in fieldsets
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phone_numbers")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/legal-hold/",
                self.admin_site.admin_view(self.legal_hold_view),
                name="customers_customer_legal_hold",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Set or lift")
    def legal_hold_change(self, customer: Customer) -> str:
        if customer.pk is None or customer.is_erased:
            return "-"
        url = reverse("admin:customers_customer_legal_hold", args=[customer.pk])
        return format_html('<a href="{}">Legal hold…</a> (compliance officers)', url)

    def legal_hold_view(self, request, object_id):
        if not user_may_set_legal_hold(request.user):
            raise PermissionDenied("Only compliance officers set or lift legal holds.")
        if not str(object_id).isdigit():
            raise Http404("No such customer.")
        customer = get_object_or_404(Customer, pk=object_id)
        form = LegalHoldForm(
            request.POST or None,
            initial={"legal_hold": customer.legal_hold},
        )
        if request.method == "POST" and form.is_valid():
            try:
                customer_legal_hold_set(
                    customer=customer,
                    on=form.cleaned_data["legal_hold"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    "Legal hold set." if form.cleaned_data["legal_hold"] else "Legal hold lifted.",
                    messages.SUCCESS,
                )
                return redirect("admin:customers_customer_change", customer.pk)
        return TemplateResponse(
            request,
            "admin/customers/customer/legal_hold.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Legal hold: {customer}",
                "opts": self.model._meta,
                "original": customer,
                "form": form,
            },
        )

    @admin.display(description="Numbers")
    def numbers(self, customer: Customer) -> str:
        return ", ".join(str(p) for p in customer.phone_numbers.all())

    def get_search_results(self, request, queryset, search_term):
        """Exact, indexed lookups only: a 1M-row table must not be scanned
        with LIKE '%…%'."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            e164 = phone_normalize(term)
        except ValidationError:
            e164 = None
        if e164:
            return queryset.filter(phone_numbers__number=e164), False
        if "@" in term:
            return queryset.filter(email__iexact=term), False
        return queryset.filter(last_name__istartswith=term), False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # erase instead: consent records and DNC requests must survive

    def save_model(self, request, obj, form, change):
        obj._change_reason = "changed in the admin" if change else "created in the admin"
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for inline_form in formset.forms:
            inline_form.instance._change_reason = "numbers changed in the admin"
        super().save_formset(request, form, formset, change)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(ReadableHistoryAdmin):
    list_display = ["number", "kind", "customer", "reassigned_at"]
    list_select_related = ["customer"]
    list_filter = ["kind"]
    raw_id_fields = ["customer"]
    search_fields = ["number"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(self, request, queryset, search_term):
        try:
            return queryset.filter(number=phone_normalize(search_term)), False
        except ValidationError:
            return queryset.none(), False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
