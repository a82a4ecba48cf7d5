import sys
from pathlib import Path
from typing import NoReturn

from django.core.management.base import BaseCommand, CommandError

from compliance import ledger
from compliance.decision_log import (
    ChainCheck,
    decision_log_seal,
    decision_log_verify,
    decision_log_verify_record,
)


class Command(BaseCommand):
    help = (
        "Recompute the decision log's hash chain, check every signed checkpoint against it and name "
        "the first broken row or checkpoint (exit 1 if broken). With --checkpoints and --public-key "
        "it needs no secret: an auditor's check."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seal", action="store_true", help="Seal committed rows first.")
        parser.add_argument(
            "--checkpoints",
            metavar="DIR",
            help="A copy of the checkpoint store (default: the configured one).",
        )
        parser.add_argument(
            "--public-key",
            metavar="FILE",
            help="The signing key's public half (PEM, or base64 raw as the audit page shows it).",
        )

    def handle(self, *args, seal: bool, checkpoints: str | None, public_key: str | None, **options):
        # Exit codes: 1 a broken log, 2 a check that could not run (usage, an unreadable key).
        if checkpoints or public_key:
            if not (checkpoints and public_key):
                raise CommandError(
                    "An auditor's check takes both --checkpoints DIR and --public-key FILE.", returncode=2
                )
            directory = Path(checkpoints)
            if not directory.is_dir():
                raise CommandError(f"{directory} is not a directory.", returncode=2)
            try:
                key = ledger.public_key_load(Path(public_key))
            except ledger.CheckpointError as exc:
                raise CommandError(str(exc), returncode=2) from exc
        if seal:
            sealed = decision_log_seal()
            self.stdout.write(
                f"sealed {sealed} row(s)" if sealed is not None else "sealed nothing this time (see the log)"
            )
        if checkpoints and public_key:
            try:
                stored = ledger.store_read(directory)
            except ledger.CheckpointError as exc:  # a store that holds a file that is no checkpoint
                self._broken(f"decision log BROKEN at the checkpoint store: {exc}")
            result = decision_log_verify(checkpoints=stored, public_key=key)
        else:
            result = decision_log_verify_record()
        if not result.ok:
            self._broken(
                f"decision log BROKEN at {result.where}: {result.problem} "
                f"({result.checked} row(s) verified before it)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"decision log intact: {result.checked} row(s) verified, {result.unsealed} not sealed yet"
            )
        )
        for line in _details(result):
            self.stdout.write(line)

    def _broken(self, message: str) -> NoReturn:
        self.stderr.write(message)
        sys.exit(1)


def _details(result: ChainCheck) -> list[str]:
    lines = []
    if result.latest:
        latest = result.latest
        lines.append(
            f"{result.checkpoints} signed checkpoint(s) verified (key {latest.key_id}); the latest, "
            f"#{latest.seq} at {latest.at}, covers position {latest.position} (decisions up to #{latest.last_id})"
        )
    else:
        lines.append("no signed checkpoint yet: the chain is checked, nothing vouches for its head")
    if result.purged:
        lines.append(f"{result.purged} row(s) before the first kept one were removed by a retention purge")
    if result.numbers_checked or result.numbers_unchecked:
        lines.append(
            f"phone numbers checked against their hashes: {result.numbers_checked}; not checked: "
            f"{result.numbers_unchecked} (erased, logged before key ids, or their suppression key "
            "is not configured here)"
        )
    return lines
