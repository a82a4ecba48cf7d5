from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        from django.core.checks import Tags, register

        from compliance.checks import db_roles_check, ledger_key_check
        from compliance.decision_log import decision_log_purge, decisions_purgeable
        from compliance.erasure import customer_erase
        from compliance.retention import retention_policies_ensure
        from compliance.rnd.services import rnd_policy_ensure
        from compliance.rules import rules_seed_after_migrate
        from compliance.timeline import timeline_sources_register
        from compliance.watch import SEAL_TASK, VERIFY_TASK
        from core.db_roles import protected_register
        from core.erasure import customer_eraser_register
        from core.retention import FIVE_YEARS, RetentionCategory, retention_category_register
        from core.schedule import Periodic, periodic_task_register

        register(ledger_key_check, Tags.security, deploy=True)
        register(db_roles_check, Tags.security, deploy=True)
        # The app's role reads and appends to the log; its doors are the owner's (migrations 0009, 0012).
        protected_register(
            "compliance.DecisionRecord",
            functions=(
                "compliance_decision_log_erase(text[], text[])",
                "compliance_decision_log_purge(bigint[])",
            ),
        )
        protected_register("compliance.DecisionChainLink")
        protected_register("compliance.DecisionCheckpoint")
        protected_register("compliance.DecisionLogPurge", insert=False)
        # The RND query ledger: read and append; the erasure of a number is the owner's door (0011, 0014).
        protected_register("compliance.RndQuery", functions=("compliance_rnd_erase(text[], text[])",))
        # Only the rule table's trigger, the owner's, moves the stamp (migrations 0010, 0012).
        protected_register(
            "compliance.RuleSetStamp",
            insert=False,
            functions=("compliance_ruleset_stamp_bump()",),
            sequences=("compliance_ruleset_stamp_seq",),
        )
        customer_eraser_register(customer_erase)  # the one entry point, for apps below compliance
        timeline_sources_register()

        post_migrate.connect(rules_seed_after_migrate, sender=self, dispatch_uid="compliance_rules_seed")
        # After every app's ready(): every category is registered by then.
        post_migrate.connect(retention_policies_ensure, sender=self, dispatch_uid="retention_policies")
        post_migrate.connect(rnd_policy_ensure, sender=self, dispatch_uid="rnd_policy")
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
        retention_category_register(
            RetentionCategory(
                key="decision_log",
                label="Decision log",
                model="compliance.DecisionRecord",
                age_field="recorded_at",
                default_days=FIVE_YEARS,
                default_active=True,
                legal_minimum_days=FIVE_YEARS,
                legal_basis="each call's decision is the proof that it was allowed (TSR record keeping, "
                "16 CFR 310.5: 5 years); the database's own purge function holds the same minimum",
                eligible=decisions_purgeable,  # legal holds; rows a call attempt points at
                purge=decision_log_purge,  # the owner's door (migration 0009), signed rows only
                also_delete_history=False,
            )
        )
        periodic_task_register(
            Periodic(
                name="sync registry inboxes",
                task="compliance.registry_inbox_sync",
                crontab={"minute": "*/10"},
                description="Imports new registry files dropped in (or uploaded to) each active source's inbox.",
            )
        )
        periodic_task_register(
            Periodic(
                name="warn about aging registry data",
                task="compliance.registry_freshness_check",
                crontab={"minute": "0", "hour": "6"},
                description="Warns when a subscribed area code's registry data is six days from the maximum age the "
                "rule set gives its source (dnc_list_max_age_days), after which marketing calls to it are blocked.",
            )
        )
        periodic_task_register(
            Periodic(
                name="query the reassigned numbers database",
                task="compliance.rnd_query_due",
                crontab={"minute": "40"},
                description="Sends the RND queries that are due (numbers of active consent-based autodialed or "
                "prerecorded campaigns and of Maine marketing campaigns without a fresh answer) through the "
                "configured adapter, in batches of at most 1,000, and records every answer in the RND query ledger.",
            )
        )
        periodic_task_register(
            Periodic(
                name="retention purge",
                task="compliance.retention_purge",
                crontab={"minute": "15", "hour": "2"},
                description="Deletes or anonymises data past its retention policy, in batches; records a purge run each.",
            )
        )
        periodic_task_register(
            Periodic(
                name="seal the decision log",
                task=SEAL_TASK,
                crontab={"minute": "*"},
                description="Chains the decisions committed in the last minute (hash of the row before) "
                "and signs a checkpoint.",
            )
        )
        periodic_task_register(
            Periodic(
                name="verify the decision log",
                task=VERIFY_TASK,
                crontab={"minute": "30", "hour": "3"},
                description="Recomputes the whole hash chain nightly and logs an error naming the first broken row.",
            )
        )
