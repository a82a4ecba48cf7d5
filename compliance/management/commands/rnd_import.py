from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance.rnd.services import RndImportError, rnd_import


class Command(BaseCommand):
    help = (
        "Record RND answers from a CSV with the header phone_number,date,answer,queried_at "
        "(number E.164 or 10 digits; date YYYY-MM-DD, the date sent; answer yes | no | no_data; "
        "queried_at ISO 8601 with an offset) in the RND query ledger. Every line is checked first: "
        "a file with any bad line records nothing and the command fails naming the line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, file: str, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror or error}") from None
        try:
            result = rnd_import(data=data)
        except RndImportError as error:
            raise CommandError(f"{file}: {error}; nothing was recorded") from None
        self.stdout.write(
            f"{file}: {result.recorded} answer(s) recorded"
            + (f", {result.already} already in the ledger" if result.already else "")
        )
