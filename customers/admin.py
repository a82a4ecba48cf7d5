from django.contrib import admin
from django.core.exceptions import ValidationError

from config.admin import EstimatedCountPaginator, HistoryAdmin
from customers.models import Customer, PhoneNumber
from customers.phones import phone_normalize


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    fields = ["number", "kind", "reassigned_at"]
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(HistoryAdmin):
    list_display = ["__str__", "state", "postal_code", "numbers", "legal_hold", "created_at"]
    list_filter = ["state", "legal_hold"]
    search_fields = ["last_name", "email"]  # see get_search_results: numbers first
    search_help_text = "A phone number in any format, an email, or a last name (starts with)."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [PhoneNumberInline]
    readonly_fields = ["erased_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email"]}),
        ("Address", {"fields": ["state", "postal_code"]}),
        ("Relationship (EBR)", {"fields": ["last_purchase_at", "last_inquiry_at"]}),
        ("Legal", {"fields": ["legal_hold", "legal_hold_reason", "erased_at", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phone_numbers")

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
class PhoneNumberAdmin(HistoryAdmin):
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
