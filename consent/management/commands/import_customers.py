from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from consent.importer import ImportReport, customers_import
from core.commands import command_user


class Command(BaseCommand):
    help = (
        "Import customers with one phone number each, and optional consent columns, from a CSV file. "
        "The whole file is validated first; unless --skip-invalid is given, nothing is imported "
        "when any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8) with a header row")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the good rows and report the bad ones"
        )
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
        parser.add_argument("--user", help="username recorded in history and as the consents' recorder")

    def handle(self, *args, file, skip_invalid, dry_run, user, **options):
        by = command_user(user)
        path = Path(file)
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot open {file}: {exc.strerror}.") from exc
        with handle:
            report = customers_import(
                file=handle, source_name=path.name, by=by, skip_invalid=skip_invalid, dry_run=dry_run
            )
        for error in report.errors:
            where = f"line {error.line}" if error.line else "file"
            if error.column:
                where += f", {error.column}"
            self.stderr.write(f"{where}: {error.message}")
        self.stdout.write(self._summary(report))
        if (report.rejected and not skip_invalid) or report.file_rejected:
            raise CommandError(
                f"{report.rejected_rows} bad row(s) in {path.name}; nothing was imported."
                if not report.file_rejected
                else f"{path.name} was rejected; nothing was imported."
            )

    @staticmethod
    def _summary(report: ImportReport) -> str:
        summary = f"{report.rows} row(s) read, {report.valid_rows} valid, {report.rejected_rows} rejected. "
        if report.dry_run:
            return summary + "Dry run: nothing written."
        return summary + (
            f"Imported {report.customers} customer(s), {report.phone_numbers} phone number(s), "
            f"{report.consents} consent(s)."
        )
