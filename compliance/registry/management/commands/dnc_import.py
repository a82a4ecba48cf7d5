from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from compliance.registry.formats import RegistryFileError
from compliance.registry.models import SyncRun
from compliance.registry.services import registry_file_import, registry_source_ensure


class Command(BaseCommand):
    help = (
        "Import National DNC Registry or state list files. Full files (one number per line, "
        "AAANNNNNNN or AAA,NNNNNNN) replace the numbers of the area codes they contain and mark them "
        "synced; change lists (number,date,action with action A or D) add and delete numbers. "
        "Every line is checked first: a file with any bad line changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="registry files, imported together")
        parser.add_argument(
            "--source", required=True, help='"national" or "state:XX" (e.g. state:FL); created if missing'
        )
        parser.add_argument("--change-list", action="store_true", help="the files are change lists")
        parser.add_argument("--user", help="username recorded as the one who ran the import")

    def handle(self, *args, files, source, change_list, user, **options):
        by = None
        if user:
            by = get_user_model().objects.filter(username=user, is_active=True).first()
            if by is None:
                raise CommandError(f"No active user '{user}'.")
        try:
            registry_source = registry_source_ensure(key=source, by=by)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            run = registry_file_import(
                source=registry_source,
                paths=[Path(file) for file in files],
                change_list=change_list,
                by=by,
                trigger=SyncRun.Trigger.COMMAND,
            )
        except RegistryFileError as exc:
            raise CommandError(f"{exc}. Nothing was imported (sync run {exc.sync_run.pk}).") from exc
        self.stdout.write(
            f"Imported {run.get_kind_display().lower()} for {registry_source.key} (sync run {run.pk}): "
            f"{run.added} added, {run.removed} removed, {len(run.area_codes)} area code(s), "
            f"{run.number_count} number(s), in {run.duration.total_seconds():.1f} s."
        )
        if run.note:
            self.stdout.write(run.note)
