from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and do-not-call"

    def ready(self) -> None:
        from consent import tasks  # noqa: F401 - registers the consent-expiry task with Celery
        from consent.retention import retention_categories_register

        retention_categories_register()
