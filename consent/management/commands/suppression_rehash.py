from argparse import RawDescriptionHelpFormatter

from django.core.management.base import BaseCommand, CommandError

from consent.selectors import suppression_key_usage, suppression_rehash_candidates
from consent.services import suppression_rehash

HELP = """Re-key suppression entries to the current CONSENTDESK_SUPPRESSION_KEY and
report how many entries each key still holds.

An erased person's number survives only as HMAC(key, number). A hash cannot be
re-keyed without its input, and erasure removes the clear number everywhere, so
this re-keys only the entries whose number the database still holds (a
customer's number, a DNC request, an inbound text); every other entry keeps the
key that made it. Each entry stores the id of its key (a fingerprint, not the
key). Lookups try the current key and every key in
CONSENTDESK_SUPPRESSION_KEYS_OLD, so an old key must stay listed for as long as
this command shows entries for it: dropping it un-suppresses those numbers.

Rotation: 1) put the current key in CONSENTDESK_SUPPRESSION_KEYS_OLD and a new
key in CONSENTDESK_SUPPRESSION_KEY; restart; 2) run this command; 3) remove an
old key only when this command lists 0 entries for it.

Exit status: 0; 1 with --can-drop KEY_ID when entries still use that key (or
it is the current key); 2 when entries were made with a key that is not
configured ("missing": those numbers are not suppressed until it is put back)."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be re-keyed; change nothing"
        )
        parser.add_argument(
            "--report-only", action="store_true", help="only list the entries per key id; re-key nothing"
        )
        parser.add_argument(
            "--can-drop",
            metavar="KEY_ID",
            help="exit 1 unless no entry was made with this key id (check before removing an old key)",
        )

    def handle(self, *args, dry_run, report_only, can_drop, **options):
        if not report_only:
            done = suppression_rehash(numbers=suppression_rehash_candidates(), dry_run=dry_run)
            verb = "would re-key" if dry_run else "re-keyed"
            self.stdout.write(
                f"{verb} {done.rekeyed} entr{'y' if done.rekeyed == 1 else 'ies'} to the current key"
                + (f"; {done.identified} of unknown key matched the current key" if done.identified else "")
            )
        usage = suppression_key_usage()
        self.stdout.write("key id        entries  key")
        for row in usage:
            shown = row.key_id or "(none)"
            note = {
                "current": "current (CONSENTDESK_SUPPRESSION_KEY)",
                "old": "old (CONSENTDESK_SUPPRESSION_KEYS_OLD): "
                + ("can be removed" if not row.entries else "must stay"),
                "unknown": "made before key ids were stored: keep the key in use then configured",
                "missing": "NOT CONFIGURED: these numbers are not suppressed; put the key back",
            }[row.role]
            self.stdout.write(f"{shown:<12}  {row.entries:>7}  {note}")
        if can_drop is not None:
            held = sum(row.entries for row in usage if row.key_id == can_drop)
            current = any(row.key_id == can_drop and row.role == "current" for row in usage)
            if current:
                raise CommandError(f"{can_drop} is the current key; it cannot be dropped.")
            if held:
                raise CommandError(
                    f"{held} suppression entr{'y' if held == 1 else 'ies'} were made with key {can_drop}: "
                    "keep it in CONSENTDESK_SUPPRESSION_KEYS_OLD, or those numbers become callable again."
                )
            self.stdout.write(f"No entry uses key {can_drop}: it can be removed.")
        missing = sum(row.entries for row in usage if row.role == "missing")
        if missing:
            raise CommandError(
                f"{missing} suppression entr{'y' if missing == 1 else 'ies'} were made with a key that is not "
                "configured: add it back to CONSENTDESK_SUPPRESSION_KEYS_OLD.",
                returncode=2,
            )
