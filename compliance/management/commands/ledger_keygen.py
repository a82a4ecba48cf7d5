from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from compliance import ledger


class Command(BaseCommand):
    help = (
        "Create the Ed25519 key pair that signs the decision log's checkpoints: the private key "
        "(PEM PKCS#8, owner-only) and its public key beside it (PATH.pub), for auditors."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", help="Where to write the private key (default: CONSENTDESK_LEDGER_KEY's path)."
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="Leave an existing key as it is instead of failing."
        )

    def handle(self, *args, path: str | None, if_missing: bool, **options):
        target = Path(path) if path else Path(settings.LEDGER_KEY_PATH)
        if target.exists():
            if not if_missing:
                raise CommandError(
                    f"{target} exists: a new key would orphan every checkpoint signed with it."
                )
            public_key = ledger.public_key_load(target)
            self.stdout.write(f"kept the key at {target} (key id {ledger.key_id(public_key)})")
            return
        public_key = ledger.keypair_create(target).public_key()
        self.stdout.write(
            f"wrote {target} and {ledger.public_key_path(target)} (key id {ledger.key_id(public_key)})\n"
            + ledger.public_key_pem(public_key)
        )
