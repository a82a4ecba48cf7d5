import sys

from django.core.management.base import BaseCommand

from compliance.decision_log import decision_log_seal, decision_log_verify_record


class Command(BaseCommand):
    help = "Recompute the decision log's hash chain and name the first broken row (exit 1 if broken)."

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="Seal committed rows first.")

    def handle(self, *args, seal: bool, **options):
        if seal:
            self.stdout.write(f"sealed {decision_log_seal()} row(s)")
        result = decision_log_verify_record()
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"decision log intact: {result.checked} row(s) verified, {result.unsealed} not sealed yet"
                )
            )
            return
        self.stderr.write(
            f"decision log BROKEN at row #{result.broken_id}: {result.problem} ({result.checked} row(s) verified before it)"
        )
        sys.exit(1)
