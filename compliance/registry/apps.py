from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Do-Not-Call registry data (national and state lists), part of compliance.

    Its own app label so that the registry's storage (bulk-loaded, compact)
    migrates independently of the rule data and the decision log."""

    name = "compliance.registry"
    label = "registry"
    verbose_name = "Do-Not-Call registries"

    def ready(self) -> None:
        from core.db_roles import app_owned_register

        # The sync creates, swaps and drops its partitions as the app's role (storage.py).
        app_owned_register("registry_number")
