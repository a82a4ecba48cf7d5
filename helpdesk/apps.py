from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Help desk"

    def ready(self) -> None:
        from core.erasure import erasure_hook_register
        from core.schedule import Periodic, periodic_task_register
        from helpdesk import tasks  # noqa: F401  (registers the escalation task with every process's Celery app)
        from helpdesk.erasure import tickets_erase
        from helpdesk.retention import retention_categories_register
        from helpdesk.timeline import timeline_sources_register

        retention_categories_register()
        erasure_hook_register("helpdesk.tickets", tickets_erase)
        timeline_sources_register()
        periodic_task_register(
            Periodic(
                name="escalate overdue tickets",
                task="helpdesk.tickets_escalate",
                crontab={"minute": "*/15"},
                description="Escalates open tickets past their due time once: priority raised, shown first, on the timeline.",
            )
        )
