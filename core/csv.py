"""The one CSV writer of every download (timeline, reports, any export).

A spreadsheet opening a CSV runs a cell that starts with `=`, `+`, `-` or `@`
(and, in some, a tab or carriage return before one) as a formula: a customer
named `=HYPERLINK(...)` would become a live link in a compliance officer's
export (OWASP "CSV injection"). Such text cells get a leading `'`, which
spreadsheets show as text. Only strings are touched: numbers, dates and None
are written as they are, so a count of -5 stays a number.
"""

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """The value as it may be written to a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter:
    """csv.writer with every cell neutralised."""

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file, **options) -> CsvWriter:
    return CsvWriter(file, **options)


def csv_response(*, filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    """A CSV download named `filename` (quotes and path separators dropped)."""
    safe_name = "".join(ch for ch in filename if ch not in '"\\/\r\n') or "export.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    writer = csv_writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response
