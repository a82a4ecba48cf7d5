"""US ZIP codes: the time zone and state of each, for the engine's candidate
places and for validating addresses.

Compiled from the `zipcodes` package by `manage.py zip_places_build` (a test
keeps the file equal to the installed package). Importing `zipcodes` itself
costs every process 2 s and about 70 MB (its whole data set, decompressed);
this table is 1 MB of text and a few MB in memory.
"""

import sys
from functools import lru_cache
from pathlib import Path

ZIP_PLACES_FILE = Path(__file__).resolve().parent / "data" / "zip_places.tsv"


def zip_places_from_package() -> dict[str, tuple[str | None, str | None]]:
    """ZIP -> (zone, state) from the zipcodes data: the first entry of each
    ZIP, as `zipcodes.matching` answers it."""
    import zipcodes

    table: dict[str, tuple[str | None, str | None]] = {}
    for row in zipcodes.list_all():
        table.setdefault(row["zip_code"], (row.get("timezone") or None, row.get("state") or None))
    return table


def zip_places_write(table: dict[str, tuple[str | None, str | None]], path: Path = ZIP_PLACES_FILE) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(f"{zip5}\t{zone or ''}\t{state or ''}\n" for zip5, (zone, state) in sorted(table.items()))
    )
    return len(table)


@lru_cache(maxsize=1)
def zip_table() -> dict[str, tuple[str | None, str | None]]:
    """ZIP -> (IANA zone or None, state or None), read once per process."""
    table = {}
    with ZIP_PLACES_FILE.open() as lines:
        for line in lines:
            zip5, zone, state = line.rstrip("\n").split("\t")
            table[zip5] = (sys.intern(zone) if zone else None, sys.intern(state) if state else None)
    return table
