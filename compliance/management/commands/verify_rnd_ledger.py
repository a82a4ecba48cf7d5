import sys

from django.core.management.base import BaseCommand

from compliance.rnd.chain import rnd_ledger_verify


class Command(BaseCommand):
    help = "Recompute the RND query ledger's hash chain and name the first row that does not hold (exit 1)."

    def handle(self, *args, **options):
        check = rnd_ledger_verify()
        if check.ok:
            self.stdout.write(f"RND query ledger intact: {check.checked} row(s) verified")
            return
        self.stderr.write(
            f"RND query ledger BROKEN at query #{check.broken_id}: {check.problem} "
            f"({check.checked} row(s) verified before it)"
        )
        sys.exit(1)
