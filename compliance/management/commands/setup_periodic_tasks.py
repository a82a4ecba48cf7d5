from django.core.management.base import BaseCommand

from core.schedule import periodic_tasks_setup


class Command(BaseCommand):
    help = "Create or replace ConsentDesk's periodic tasks for celery-beat (idempotent)."

    def handle(self, *args, **options):
        tasks = periodic_tasks_setup()
        self.stdout.write(f"{len(tasks)} periodic task(s) scheduled.")
