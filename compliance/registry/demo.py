"""Demo registry data, imported through the real service from generated
files, so that every screen (decisions, the number lookup, sync runs,
freshness) shows real registry data.

- National DNC Registry, area codes 212 305 312 415 512 206 801 401 860 602
  208 405 410 215 (the demo customers' places): in each, the numbers ending
  0000-0009 of exchange 555 and of exchanges 720-799. The demo customers
  have numbers `+1 AAA 7XX NNNN` with NNNN their index, so customers 0-9 are
  on the national registry (with or without an exemption, depending on
  their consent), the rest are not; `+1 AAA 555 0000`-`0009` are listed,
  `+1 AAA 555 0010` and above are not.
- The Texas (512) and Pennsylvania (215) state lists, whose rules ask for
  them: numbers ending 0000-0004 of the same exchanges.
- A litigator list holding one number: the first demo customer's
  (`litigator_demo_number`).

Idempotent: files identical to a run that succeeded in the last week are
not imported again; older ones are, which keeps a long-lived demo fresh.
"""

import tempfile
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from compliance.registry.formats import registry_files_checksum
from compliance.registry.models import SyncRun
from compliance.registry.selectors import e164_to_registry_int, sync_run_get_succeeded
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.registry.sources import LITIGATOR_KEY, NATIONAL_KEY, source_key
from customers.models import PhoneNumber

NATIONAL_AREA_CODES = (212, 305, 312, 415, 512, 206, 801, 401, 860, 602, 208, 405, 410, 215)
STATE_AREA_CODES = {source_key(state="TX"): (512,), source_key(state="PA"): (215,)}
EXCHANGES = (555, *range(720, 800))
REFRESH_AFTER = timedelta(days=7)


def registry_demo_numbers(*, area_codes, last_digits: range) -> list[int]:
    return sorted(
        area_code * 10_000_000 + exchange * 10_000 + suffix
        for area_code in area_codes
        for exchange in EXCHANGES
        for suffix in last_digits
    )


def litigator_demo_number() -> int | None:
    """The demo's one number on a litigator list: the first demo customer's,
    the first target of the informational demo campaigns (whose litigator
    policy is flag: its calls go ahead and it waits for review)."""
    first = PhoneNumber.objects.exclude(number=None).order_by("id").values_list("number", flat=True).first()
    return None if first is None else e164_to_registry_int(str(first))


def registry_demo_seed(*, by=None) -> list[SyncRun]:
    """Sync the demo's registry data; returns the runs it imported (none
    when everything was synced in the last week)."""
    plans: list[tuple[str, list[int]]] = [
        (NATIONAL_KEY, registry_demo_numbers(area_codes=NATIONAL_AREA_CODES, last_digits=range(10)))
    ]
    plans += [
        (key, registry_demo_numbers(area_codes=area_codes, last_digits=range(5)))
        for key, area_codes in STATE_AREA_CODES.items()
    ]
    litigated = litigator_demo_number()
    if litigated is not None:
        plans.append((LITIGATOR_KEY, [litigated]))
    runs = []
    with tempfile.TemporaryDirectory(prefix="consentdesk-registry-demo-") as directory:
        for key, numbers in plans:
            source = registry_source_ensure(key=key, by=by)
            path = Path(directory) / f"{key.replace(':', '-')}-demo.txt"
            path.write_text("".join(f"{number}\n" for number in numbers))
            previous = sync_run_get_succeeded(source=source, checksum=registry_files_checksum(paths=[path]))
            if previous and timezone.now() - previous.started_at < REFRESH_AFTER:
                continue
            runs.append(
                registry_file_import(source=source, paths=[path], by=by, trigger=SyncRun.Trigger.COMMAND)
            )
    return runs
