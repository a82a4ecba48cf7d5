from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import demo_users_seed
from campaigns.demo import (
    demo_call_history_seed,
    demo_campaigns_seed,
    demo_checks_seed,
    demo_reassigned_seed,
)
from compliance.models import PurgeRun
from compliance.registry.demo import registry_demo_seed
from compliance.retention import retention_purge
from consent.demo import demo_customers_seed
from helpdesk.demo import demo_helpdesk_seed


class Command(BaseCommand):
    help = "Fill the database with demo staff and data. Idempotent: running it twice changes nothing more."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off (demo passwords are public: never on a real deployment).",
        )

    def handle(self, *args, allow_production: bool, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo creates users with public passwords; it runs only with DJANGO_DEBUG=1."
            )
        with transaction.atomic():
            logins = demo_users_seed()
            admin = User.objects.get(username="admin")
            customers = demo_customers_seed(by=admin)
        # Registry imports manage their own transactions (a run is recorded
        # as running before its data commits), so they run outside the block.
        runs = registry_demo_seed(by=admin)
        with transaction.atomic():
            targets = demo_campaigns_seed(by=admin)
            checks = demo_checks_seed(by=admin)
            past_calls = demo_call_history_seed(by=admin)
            reassigned = demo_reassigned_seed(by=admin)
        with transaction.atomic():
            tickets = demo_helpdesk_seed(by=admin)
        purges = self._purge_preview(admin)
        self.stdout.write(f"{customers} demo customers with consents and opt-outs.")
        self.stdout.write(f"Registry: {len(runs)} demo list(s) imported (fresh ones are kept).")
        self.stdout.write(f"{targets} targets queued in the demo campaigns; demo agents are trained.")
        if checks:
            self.stdout.write(f"{checks} compliance checks decided and logged (see the audit page).")
        if past_calls:
            self.stdout.write(
                f"{past_calls} past calls over two weeks, each decided by the engine (see Reports)."
            )
        if reassigned:
            self.stdout.write(
                "One reassigned number (an RND 'yes' after its consent) and one number on a litigator list "
                "(flagged for review: admin, Litigator reviews)."
            )
        self.stdout.write(
            f"{tickets} demo help-desk tickets in the Customer care, Privacy requests and Complaints queues."
        )
        if purges:
            self.stdout.write(f"Retention: a dry run of the {purges} active policies (see the audit page).")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins:"))
        for login in logins:
            self.stdout.write(f"  {login.role:<20} {login.username:<12} {login.password}")
        if settings.CONSENTDESK_REQUIRE_2FA:
            self.stdout.write(
                "Two-factor is on: admin and compliance enrol an authenticator app at their first login."
            )
        else:
            self.stdout.write("Two-factor is off in the demo (CONSENTDESK_REQUIRE_2FA=1 turns it on).")

    def _purge_preview(self, admin) -> int:
        """Once: what the active retention policies would remove, as the audit page shows it."""
        if PurgeRun.objects.exists():
            return 0
        return len(retention_purge(dry_run=True, by=admin, trigger="demo"))
