from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from compliance.registry.litigator_adapters import LitigatorAdapterError, litigator_adapter, litigator_screen
from core.commands import command_user
from core.phones import phone_normalize
from customers.models import PhoneNumber

BATCH = 1_000


class Command(BaseCommand):
    help = (
        "Screen numbers against the configured litigator provider (CONSENTDESK_LITIGATOR_ADAPTER) and apply "
        "the answer to the litigator list: matches listed, numbers no longer matched unlisted, each match's "
        "level, provider and date kept. Every customer number, or those of --numbers FILE (one a line)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--numbers", metavar="FILE", help="the numbers to screen, one a line")
        parser.add_argument("--user", help="username recorded as the one who ran the screen")

    def handle(self, *args, numbers, user, **options):
        by = command_user(user)
        try:
            adapter = litigator_adapter()
        except (LitigatorAdapterError, OSError) as exc:
            raise CommandError(f"The litigator provider's data cannot be read: {exc}") from exc
        if adapter is None:
            raise CommandError(
                "No litigator provider is configured (CONSENTDESK_LITIGATOR_ADAPTER): nothing screened."
            )
        if numbers:
            wanted = []
            try:
                lines = Path(numbers).read_text().splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"{numbers} cannot be read: {exc}. Nothing was screened.") from exc
            for line_no, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    wanted.append(phone_normalize(line))
                except ValidationError as exc:
                    problem = " ".join(exc.messages)
                    raise CommandError(f"{numbers}, line {line_no}: {problem} Nothing was screened.") from exc
        else:
            wanted = [
                str(n) for n in PhoneNumber.objects.exclude(number=None).values_list("number", flat=True)
            ]
        asked = matched = 0
        for start in range(0, len(wanted), BATCH):
            screen = litigator_screen(numbers=wanted[start : start + BATCH], adapter=adapter, by=by)
            asked, matched = asked + screen.asked, matched + screen.matched
        self.stdout.write(
            f"Screened {asked} number(s) with {adapter.provider}: {matched} on a litigator list."
        )
