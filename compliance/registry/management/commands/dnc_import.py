from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from compliance.registry.folders import RegistryInboxError
from compliance.registry.formats import RegistryFileError, registry_files_checksum
from compliance.registry.models import SyncRun
from compliance.registry.selectors import shrink_hold_pending_get
from compliance.registry.services import (
    RegistryShrinkHeld,
    ShrinkWaiver,
    registry_file_import,
    registry_source_ensure,
    shrink_hold_apply,
    shrink_hold_decide,
)
from core.commands import command_user

HELD_EXIT_CODE = 3  # DESIGN.md "DNC registry files"


class Command(BaseCommand):
    help = (
        "Import National DNC Registry, state list or litigator list files. Full files (one number per line, "
        "AAANNNNNNN or AAA,NNNNNNN) replace the numbers of the area codes they contain and mark them "
        "synced; change lists (number,date,action with action A or D) add and delete numbers. "
        "Every line is checked first: a file with any bad line changes nothing. A full file that would "
        "remove more than the shrink limit (CONSENTDESK_REGISTRY_SHRINK_LIMIT, 20%) of an area code "
        "holding at least CONSENTDESK_REGISTRY_SHRINK_FLOOR numbers is held for a second compliance "
        f'officer (exit code {HELD_EXIT_CODE}), unless --approve-shrink "why" is given.'
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="registry files, imported together")
        parser.add_argument(
            "--source",
            required=True,
            help='"national", "state:XX" (e.g. state:FL) or "litigator" (a litigator list, same layouts); '
            "created if missing",
        )
        parser.add_argument("--change-list", action="store_true", help="the files are change lists")
        parser.add_argument("--user", help="username recorded as the one who ran the import")
        parser.add_argument(
            "--approve-shrink",
            metavar="WHY",
            help="apply a full file even if the shrink guard holds it (or approve the pending hold of "
            "the same files), recording why",
        )

    def handle(self, *args, files, source, change_list, user, approve_shrink, **options):
        by = command_user(user)
        if approve_shrink is not None and not approve_shrink.strip():
            raise CommandError('--approve-shrink needs a reason: --approve-shrink "why".')
        try:
            registry_source = registry_source_ensure(key=source, by=by)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        paths = [Path(file) for file in files]
        try:
            if approve_shrink is not None:
                run = self._approved_import(registry_source, paths, change_list, by, approve_shrink.strip())
            else:
                run = registry_file_import(
                    source=registry_source,
                    paths=paths,
                    change_list=change_list,
                    by=by,
                    trigger=SyncRun.Trigger.COMMAND,
                )
        except RegistryShrinkHeld as exc:
            raise CommandError(
                f"{exc} Nothing was imported (sync run {exc.sync_run.pk}).", returncode=HELD_EXIT_CODE
            ) from exc
        except RegistryFileError as exc:
            where = f" (sync run {exc.sync_run.pk})" if exc.sync_run else ""
            raise CommandError(f"{exc}. Nothing was imported{where}.") from exc
        except (RegistryInboxError, OSError) as exc:
            raise CommandError(f"{exc}. Nothing was imported.") from exc
        self.stdout.write(
            f"Imported {run.get_kind_display().lower()} for {registry_source.key} (sync run {run.pk}): "
            f"{run.added} added, {run.removed} removed, {len(run.area_codes)} area code(s), "
            f"{run.number_count} number(s), in {run.duration.total_seconds():.1f} s."
        )
        if run.note:
            self.stdout.write(run.note)

    def _approved_import(self, source, paths, change_list, by, reason) -> SyncRun:
        """The pending hold of the same files is approved and imported; any
        other file is imported with the guard waived (recorded if it mattered)."""
        hold = shrink_hold_pending_get(source=source, checksum=registry_files_checksum(paths=paths))
        if hold is None:
            return registry_file_import(
                source=source,
                paths=paths,
                change_list=change_list,
                by=by,
                trigger=SyncRun.Trigger.COMMAND,
                shrink_waiver=ShrinkWaiver(reason=reason, by=by),
            )
        try:
            shrink_hold_decide(hold=hold, by=by, approve=True, reason=reason)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        run = shrink_hold_apply(hold=hold, trigger=SyncRun.Trigger.COMMAND)
        if run is None:
            raise CommandError(
                "The held files were imported meanwhile (by the inbox sync); nothing more to do."
            )
        return run
