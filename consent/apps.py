from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and do-not-call"

    def ready(self) -> None:
        from consent import tasks  # noqa: F401 - registers the consent-expiry task with Celery
        from consent.retention import retention_categories_register
        from core.schedule import Periodic, periodic_task_register

        retention_categories_register()
        periodic_task_register(
            Periodic(
                name="record consent expiry",
                task="consent.consents_expire",
                crontab={"minute": "5"},
                description="Writes each consent's expiry into its record (history) once it has passed; "
                "the engine refuses expired consents at once.",
            )
        )
