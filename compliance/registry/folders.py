"""Where registry files live: one root (REGISTRY_INBOX_ROOT, env
`CONSENTDESK_REGISTRY_INBOX`), a folder NAME per source below it.

A source's inbox name (`RegistrySource.inbox`, default `national`,
`state-XX`) is one path segment, never a path; and the resolved real path
of every folder used (symlinks followed) must lie inside the root, or
RegistryInboxError is raised and nothing is read or written there.
"""

import re
from pathlib import Path

from django.conf import settings

from compliance.registry.models import INBOX_NAME_PATTERN, RegistrySource

CHANGES = "changes"
PROCESSED = "processed"
REJECTED = "rejected"
PENDING = "pending"
_INBOX_NAME = re.compile(INBOX_NAME_PATTERN)


class RegistryInboxError(Exception):
    """A source's inbox that is not a folder inside the inbox root."""


def registry_inbox_root() -> Path:
    return Path(settings.REGISTRY_INBOX_ROOT).resolve()


def registry_inbox_path(source: RegistrySource) -> Path:
    """The source's inbox folder: its name below the root. Raises
    RegistryInboxError when the name is not one valid folder name or the
    folder resolves (through a symlink) outside the root."""
    name = source.inbox_name
    if not _INBOX_NAME.match(name):
        raise RegistryInboxError(f"The inbox of {source.key} is not a folder name below the inbox root.")
    root = registry_inbox_root()
    return inside_root(root, root / name)


def inside_root(root: Path, path: Path) -> Path:
    """`path`, if its real path (symlinks resolved) is strictly below `root`."""
    real = path.resolve()
    if real == root or not real.is_relative_to(root):
        raise RegistryInboxError(f"{path} resolves outside the registry inbox root {root}.")
    return path


def registry_inbox_subfolder(source: RegistrySource, name: str, *, create: bool = False) -> Path:
    """A subfolder (changes, processed, rejected, pending) of the source's
    inbox, checked like the inbox itself."""
    inbox = registry_inbox_path(source)
    folder = inside_root(registry_inbox_root(), inbox / name)
    if create:
        inbox.mkdir(parents=True, exist_ok=True)
        folder.mkdir(exist_ok=True)
        inside_root(registry_inbox_root(), folder)  # created meanwhile as a symlink
    return folder
