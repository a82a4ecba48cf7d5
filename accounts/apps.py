from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff and roles"

    def ready(self) -> None:
        import accounts.signals  # noqa: F401  (logins, failures and logouts to the access log)
        from accounts.erasure import access_log_erase
        from accounts.roles import sync_role_permissions_after_migrate
        from core.admin import readonly_user_links_off
        from core.db_roles import protected_register
        from core.erasure import erasure_hook_register

        erasure_hook_register("accounts.access_log", access_log_erase)
        readonly_user_links_off()  # the user admin is the superusers': no dead-end links to it
        # Read and appended to by the app's role; rewritten only by erasure, through the owner's door.
        protected_register(
            "accounts.AccessLog", functions=("accounts_access_log_redact(bigint[], text[], text[], text[])",)
        )

        # Permissions are created by post_migrate, after every migration has
        # run, so the role groups get theirs here rather than in a migration.
        # No sender filter: post_migrate is sent only for apps with models,
        # and syncing is idempotent and cheap.
        post_migrate.connect(sync_role_permissions_after_migrate, dispatch_uid="roles_sync")
