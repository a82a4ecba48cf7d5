from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from compliance.models import PurgeRun
from compliance.retention import retention_purge
from core.retention import retention_categories


class Command(BaseCommand):
    help = (
        "Apply the retention policies now: delete or anonymise expired data in batches, recording a "
        "purge run per category. --dry-run only counts what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--category", help="only this category (even if its policy is not active)")
        parser.add_argument("--user", help="username recorded as the one who ran the purge")

    def handle(self, *args, dry_run: bool, category: str | None, user: str | None, **options):
        if category and category not in retention_categories():
            raise CommandError(f"No category '{category}'. Known: {', '.join(retention_categories())}.")
        by = get_user_model().objects.filter(username=user).first() if user else None
        if user and by is None:
            raise CommandError(f"No user '{user}'.")
        runs = retention_purge(category=category, dry_run=dry_run, by=by, trigger="command")
        for run in runs:
            if run.status == PurgeRun.Status.FAILED:
                self.stderr.write(f"{run.category}: FAILED: {run.error}")
                continue
            what = (
                f"would {run.action} {run.examined}"
                if dry_run
                else f"{run.deleted} deleted, {run.anonymised} anonymised of {run.examined}"
            )
            self.stdout.write(
                f"{run.category}: {what} (older than {run.cutoff:%Y-%m-%d}, {run.period_days} days), "
                f"{run.batches} batch(es), {run.duration.total_seconds():.1f} s"
            )
        if not runs:
            self.stdout.write("No active retention policy.")
        if any(run.status == PurgeRun.Status.FAILED for run in runs):
            raise CommandError("At least one category failed; see its purge run.")
