from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from compliance.rules import rules_seed_after_migrate

        post_migrate.connect(rules_seed_after_migrate, sender=self, dispatch_uid="compliance_rules_seed")
