from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Only a home for the seed_demo command: no models, no registrations."""

    name = "demo"
    verbose_name = "Demo data"
