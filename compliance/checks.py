"""`manage.py check --deploy` findings of the compliance app."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def ledger_key_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A secret that matters has no silent fallback: the checkpoint signing key."""
    if settings.LEDGER_KEY_CONFIGURED:
        return []
    return [
        Warning(
            "CONSENTDESK_LEDGER_KEY is not set: the decision log's checkpoints are signed with a key "
            f"created at {settings.LEDGER_KEY_PATH}.",
            hint="Create one with `manage.py ledger_keygen PATH` where the database's hosts cannot read it, "
            "set CONSENTDESK_LEDGER_KEY to it and give its .pub file to your auditors (README).",
            id="compliance.W001",
        )
    ]
