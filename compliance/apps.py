from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from compliance.erasure import customer_erase
        from compliance.retention import (
            FIVE_YEARS,
            RetentionCategory,
            retention_category_register,
            retention_policies_ensure,
        )
        from compliance.rules import rules_seed_after_migrate
        from core.erasure import customer_eraser_register

        customer_eraser_register(customer_erase)  # the one entry point, for apps below compliance

        post_migrate.connect(rules_seed_after_migrate, sender=self, dispatch_uid="compliance_rules_seed")
        # After every app's ready(): every category is registered by then.
        post_migrate.connect(retention_policies_ensure, sender=self, dispatch_uid="retention_policies")
        retention_category_register(
            RetentionCategory(
                key="purge_runs",
                label="Purge run records",
                model="compliance.PurgeRun",
                age_field="started_at",
                default_days=FIVE_YEARS,
                default_active=True,
                legal_minimum_days=FIVE_YEARS,
                legal_basis="they prove what was removed and when (TSR record keeping, 5 years)",
                also_delete_history=False,
            )
        )
