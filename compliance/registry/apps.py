from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Do-Not-Call registry data (national and state lists), part of compliance.

    Its own app label so that the registry's storage (bulk-loaded, compact)
    migrates independently of the rule data and the decision log."""

    name = "compliance.registry"
    label = "registry"
    verbose_name = "Do-Not-Call registries"

    def ready(self) -> None:
        from compliance.registry.litigator import litigator_reviews_erase
        from core.db_roles import doors_register
        from core.erasure import erasure_hook_register

        erasure_hook_register("registry.litigator_reviews", litigator_reviews_erase)

        # The sync's partitions are the owner's, made and swapped by its doors (compliance migration 0012).
        doors_register(
            "registry_partition_ensure(smallint)",
            "registry_load_create(smallint, bigint)",
            "registry_load_index(smallint, bigint)",
            "registry_load_swap(smallint, bigint)",
        )
