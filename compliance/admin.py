from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from compliance.models import DecisionRecord, JurisdictionRule
from compliance.rules import RuleError, rule_from_record
from config.admin import EstimatedCountPaginator, HistoryAdmin
from customers.phones import phone_normalize


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
class JurisdictionRuleAdmin(HistoryAdmin):
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
