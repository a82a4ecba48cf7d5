"""A source's inbox becomes a folder name below REGISTRY_INBOX_ROOT (it was a
path anyone with the change permission could point anywhere).

Existing values: a path directly under the root becomes its folder name; a
value that is already a valid name stays; anything else (another folder, a
nested path, a relative path) is reset to the source's default folder and
logged, so an operator can move its files."""

import logging
import re
from pathlib import Path

from django.conf import settings
from django.db import migrations

logger = logging.getLogger("compliance.registry")

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\Z")


def inbox_name_of(value: str, root: Path) -> str | None:
    """The folder name a stored inbox value stands for, or None."""
    value = value.strip()
    if NAME.match(value):
        return value
    path = Path(value)
    if not path.is_absolute():
        return None
    real = path.resolve()
    if real.parent == root and NAME.match(real.name):
        return real.name
    return None


def paths_to_names(apps, schema_editor):
    RegistrySource = apps.get_model("registry", "RegistrySource")
    root = Path(settings.REGISTRY_INBOX_ROOT).resolve()
    for source in RegistrySource.objects.exclude(inbox=""):
        default = "national" if source.kind == "national" else f"state-{source.state}"
        name = inbox_name_of(source.inbox, root)
        if name is None:
            logger.warning(
                "registry source %s: inbox %r is not a folder directly under %s; reset to the default "
                "folder %r (move any files waiting there by hand)",
                source.pk,
                source.inbox,
                root,
                default,
            )
        source.inbox = "" if name in (None, default) else name
        source.save(update_fields=["inbox"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_shrink_guard_and_inbox_names"),
    ]

    operations = [
        migrations.RunPython(paths_to_names, migrations.RunPython.noop),
    ]
