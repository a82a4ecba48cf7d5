"""Training: managers record agents' compliance training acknowledgements
and set how long one stays valid; nobody edits or deletes an
acknowledgement (it is the evidence that an agent was trained)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccessLog, TrainingAcknowledgement, TrainingPolicy
from accounts.roles import AGENTS
from accounts.services import training_policy
from core.admin import HistoryAdmin, ReadOnlyAdmin


class TrainingAcknowledgementForm(forms.ModelForm):
    class Meta:
        model = TrainingAcknowledgement
        fields = ["agent", "acknowledged_at", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "agent" in self.fields:  # absent on the read-only view of a recorded one
            self.fields["agent"].queryset = get_user_model().objects.filter(
                groups__name=AGENTS, is_active=True
            )
            self.fields["acknowledged_at"].initial = timezone.now

    def clean_acknowledged_at(self):
        value = self.cleaned_data["acknowledged_at"]
        if value > timezone.now():
            raise forms.ValidationError("An acknowledgement cannot be dated in the future.")
        return value


@admin.register(TrainingAcknowledgement)
class TrainingAcknowledgementAdmin(HistoryAdmin):
    form = TrainingAcknowledgementForm
    list_display = ["agent", "acknowledged_at", "valid_until", "recorded_by", "note"]
    list_filter = ["acknowledged_at"]
    list_select_related = ["agent", "recorded_by"]
    search_fields = ["agent__username", "agent__last_name"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="valid until")
    def valid_until(self, ack: TrainingAcknowledgement):
        return ack.acknowledged_at + training_policy().validity

    def save_model(self, request, obj, form, change):
        obj.recorded_by = request.user
        obj._change_reason = "recorded in the admin"
        super().save_model(request, obj, form, change)


@admin.register(TrainingPolicy)
class TrainingPolicyAdmin(HistoryAdmin):
    list_display = ["__str__", "updated_at"]
    fields = ["validity_days", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request) -> bool:
        return False  # one policy

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        obj._change_reason = "changed in the admin"
        super().save_model(request, obj, form, change)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Read-only, for compliance officers: who saw which consent evidence and exports."""

    list_display = ["at", "user", "action", "target", "ip"]
    list_filter = ["action", "at"]
    search_fields = ["=target", "user__username"]
    list_select_related = ["user"]
    date_hierarchy = "at"


class TOTPDeviceAdmin(admin.ModelAdmin):
    """Authenticator devices, for superusers: who enrolled and when, never the
    secret key. Removing a device is how a lost phone is replaced (the owner
    enrols again at the next login); nobody removes the device of their own
    session, and there is no bulk delete."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # devices are enrolled by their owner, on the enrolment page

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        if not request.user.is_superuser:
            return False
        return obj is None or obj.user_id != request.user.pk

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPDeviceAdmin)
