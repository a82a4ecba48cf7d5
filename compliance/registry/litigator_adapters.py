"""Litigator screening by a provider's lookup (issue 18): one interface,
`query(numbers) -> matches`, chosen by CONSENTDESK_LITIGATOR_ADAPTER, beside
the list files `dnc_import --source litigator` loads. A screen asks about a
set of numbers and applies the answer to the litigator source as a change
list (the same import, sync run and evidence as a file): matched numbers
are added, numbers asked and not matched are removed. Of each match only
the flag, the provider's level, the provider and the date are kept
(`LitigatorListing`): no names or case titles.

- `recorded`: canned matches from a CSV `phone_number,level,listed_on`
  (`CONSENTDESK_LITIGATOR_RECORDED`), for tests, CI and the demo.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.registry.models import LitigatorListing, SyncRun
from compliance.registry.selectors import e164_to_registry_int, registry_listings
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.registry.sources import LITIGATOR_KEY
from consent.services import number_hash
from core.phones import phone_normalize

LEVEL_MAX = 40


@dataclass(frozen=True)
class LitigatorMatch:
    number: str  # E.164
    level: str  # the provider's word for the risk ("litigator", "serial filer", ...)
    provider: str
    listed_on: date | None


class LitigatorAdapter(Protocol):
    provider: str

    def query(self, numbers: Sequence[str]) -> list[LitigatorMatch]: ...


class LitigatorAdapterError(ValueError):
    """A provider's data this code cannot read; nothing was applied."""


class RecordedLitigatorAdapter:
    provider = "recorded"

    def __init__(self, rows: dict[str, tuple[str, date | None]]):
        self.rows = rows

    @classmethod
    def from_text(cls, text: str) -> RecordedLitigatorAdapter:
        """A CSV `phone_number,level,listed_on`; a bad line names itself."""
        rows: dict[str, tuple[str, date | None]] = {}
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header != ["phone_number", "level", "listed_on"]:
            raise LitigatorAdapterError("line 1: the header must be phone_number,level,listed_on")
        for line_no, row in enumerate(reader, start=2):
            try:
                number, level, listed_on = row
                e164 = phone_normalize(number)
                if not level.strip() or len(level) > LEVEL_MAX:
                    raise ValueError(f"a level of 1 to {LEVEL_MAX} characters")
                rows[e164] = (level.strip(), date.fromisoformat(listed_on) if listed_on else None)
            except ValidationError as exc:
                raise LitigatorAdapterError(f"line {line_no}: {' '.join(exc.messages)}") from exc
            except ValueError as exc:
                raise LitigatorAdapterError(f"line {line_no}: {exc}") from exc
        return cls(rows)

    def query(self, numbers: Sequence[str]) -> list[LitigatorMatch]:
        return [
            LitigatorMatch(number=n, level=self.rows[n][0], provider=self.provider, listed_on=self.rows[n][1])
            for n in numbers
            if n in self.rows
        ]


def litigator_adapter() -> LitigatorAdapter | None:
    """The configured adapter; None when none is (nothing is screened)."""
    name = settings.LITIGATOR_ADAPTER
    if not name:
        return None
    if name == "recorded":
        path = settings.LITIGATOR_RECORDED_FILE
        return RecordedLitigatorAdapter.from_text(
            Path(path).read_text() if path else "phone_number,level,listed_on\n"
        )
    raise ImproperlyConfigured(f"CONSENTDESK_LITIGATOR_ADAPTER: no adapter named {name!r} (recorded)")


@dataclass(frozen=True)
class LitigatorScreen:
    asked: int
    matched: int
    run: SyncRun | None  # the change list applied; None when nothing changed


def litigator_screen(*, numbers: Sequence[str], adapter: LitigatorAdapter, by=None) -> LitigatorScreen:
    """Ask `adapter` about `numbers` (E.164, +1 NANP) and apply the answer:
    matched numbers listed, asked numbers not matched unlisted, each match's
    level, provider and date kept. All or nothing."""
    as_int = {n: i for n in numbers if (i := e164_to_registry_int(n)) is not None}
    asked = sorted(as_int)
    matches = {m.number: m for m in adapter.query(asked)}
    source = registry_source_ensure(key=LITIGATOR_KEY, by=by)
    listings = registry_listings(numbers=list(as_int.values()))
    listed = {n for n in asked if LITIGATOR_KEY in listings.get(as_int[n], ())}
    today = timezone.now().date().isoformat()
    changes = [f"{as_int[n]},{today},A" for n in asked if n in matches and n not in listed]
    changes += [f"{as_int[n]},{today},D" for n in asked if n not in matches and n in listed]
    with transaction.atomic():
        run = None
        if changes:
            with tempfile.TemporaryDirectory(prefix="consentdesk-litigator-") as folder:
                path = Path(folder) / f"{adapter.provider}-screen.txt"
                path.write_text("".join(f"{line}\n" for line in changes))
                run = registry_file_import(
                    source=source, paths=[path], change_list=True, by=by, trigger=SyncRun.Trigger.COMMAND
                )
        now = timezone.now()
        LitigatorListing.objects.filter(
            number_hash__in=[number_hash(n) for n in asked if n not in matches]
        ).delete()
        LitigatorListing.objects.bulk_create(
            [
                LitigatorListing(
                    number_hash=number_hash(match.number),
                    level=match.level[:LEVEL_MAX],
                    provider=match.provider,
                    listed_on=match.listed_on,
                    checked_at=now,
                )
                for match in matches.values()
            ],
            update_conflicts=True,
            unique_fields=["number_hash"],
            update_fields=["level", "provider", "listed_on", "checked_at"],
        )
    return LitigatorScreen(asked=len(asked), matched=len(matches), run=run)
