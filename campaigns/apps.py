from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns and dialer"

    def ready(self) -> None:
        from campaigns.erasure import erasure_hooks_register
        from campaigns.reports import reports_register
        from campaigns.retention import retention_categories_register
        from campaigns.rnd import CampaignRndDue
        from campaigns.selectors import CallAttemptHistory, CustomerCalls
        from campaigns.timeline import timeline_sources_register
        from compliance.rnd.due import rnd_due_provider_register
        from core.call_history import call_history_register
        from core.calls import calls_made_register

        retention_categories_register()
        reports_register()
        erasure_hooks_register()
        call_history_register(CallAttemptHistory())
        calls_made_register(CustomerCalls())
        timeline_sources_register()
        rnd_due_provider_register("campaigns", CampaignRndDue())
