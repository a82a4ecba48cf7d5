"""Admin bases shared by every app."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin


class HistoryAdmin(SimpleHistoryAdmin):
    """History visible, never writable: SIMPLE_HISTORY_REVERT_DISABLED only
    hides simple-history's "Revert" button, so a POST to a past version is
    refused here for everyone, superusers included."""

    def history_view(self, request, object_id, extra_context=None):
        # Who made each change by name, as readonly_user_links_off shows a read-only "by whom".
        extra_context = {**(extra_context or {}), "admin_user_view": "no-link"}
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class EstimatedCountPaginator(Paginator):
    """The admin's paginator for tables of millions of rows: an unfiltered
    list takes PostgreSQL's row estimate (pg_class.reltuples, kept by
    autovacuum) instead of `count(*)` over the whole table; a filtered or
    searched list, or a small table, is counted exactly."""

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor == "postgresql" and isinstance(queryset, QuerySet) and not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= self.EXACT_BELOW:
                return int(row[0])
        return super().count


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services only (runs, logs, suppression hashes):
    nobody adds, edits or deletes them in the admin, superusers included."""

    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def readonly_user_links_off() -> None:
    """A read-only foreign key to a user shows the person, not a link, for
    everyone: the admin links it to the user's change page without the
    request, so without asking whether the viewer may open it, and only
    superusers may (a 403, a dead end, for managers and compliance officers).
    Superusers reach users from the admin index. Other read-only links stay."""
    from django.contrib.admin import helpers
    from django.contrib.auth import get_user_model

    linked = getattr(helpers.AdminReadonlyField, "get_admin_url")  # noqa: B009  (the stubs lack it)

    def get_admin_url(self, remote_field, remote_obj):
        if remote_field.model is get_user_model():
            return str(remote_obj)
        return linked(self, remote_field, remote_obj)

    setattr(helpers.AdminReadonlyField, "get_admin_url", get_admin_url)  # noqa: B010
