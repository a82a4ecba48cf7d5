"""Admin bases shared by every app."""

from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """History visible, never writable: SIMPLE_HISTORY_REVERT_DISABLED only
    hides simple-history's "Revert" button, so a POST to a past version is
    refused here for everyone, superusers included."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)
