"""CSV import of customers, each with one phone number and optionally one consent.

One row is one customer with one number: rows are never merged, not even
when they share an email (an email is not an identity, and merging would
guess). A number that is already in the database, or that appears twice in
the file, makes its row (the later one) bad.

The whole file is validated, and by default nothing is written if any row is
bad: the report names every bad row (line in the file, column, message).
With `skip_invalid` the good rows are imported and the bad ones reported. A
bad header, or a file that cannot be read to its end, always writes nothing.

The file is streamed, never held in memory: rows are validated and written
in chunks inside one transaction, and that transaction is rolled back at the
end when a bad row turned up and `skip_invalid` is off (writing stops at the
first bad row; validation goes on to report the rest). Every write is a bulk
insert that also writes one history row per object, naming the importing
user and the change reason "import <file name>".
"""

import csv
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from phonenumber_field.modelfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber as ParsedNumber
from psycopg.types.json import Jsonb
from simple_history.utils import get_history_model_for_model

from consent.models import ConsentGrant, SuppressionEntry
from consent.services import evidence_validate, suppression_hashes
from core.history import history_bulk_create, history_user
from core.phones import phone_normalize
from customers.models import Customer, PhoneNumber
from customers.places import zip_table

CUSTOMER_COLUMNS = ("first_name", "last_name", "email", "state", "postal_code")
REQUIRED_COLUMNS = (*CUSTOMER_COLUMNS, "phone_number", "phone_kind")
CONSENT_COLUMNS = (
    "consent_purpose",
    "consent_channel",
    "consent_written",
    "consent_source",
    "consent_disclosure_text",
    "consent_granted_at",
)
ALL_COLUMNS = (*REQUIRED_COLUMNS, *CONSENT_COLUMNS)

PHONE_KINDS = frozenset(PhoneNumber.Kind.values)
CHUNK_SIZE = 5000
# PostgreSQL writes with COPY; off, or on another database, the ORM's
# history_bulk_create writes the same rows (the tests run both).
COPY_ENABLED = True
HEADER_LINE = 1
WRITTEN_VALUES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# consent_grant allows the same small clock skew.
FUTURE_TOLERANCE = timedelta(minutes=5)

_M = TypeVar("_M", bound=models.Model)


class RowError(NamedTuple):
    line: int  # 1 is the header; 0 the file as a whole
    column: str  # "" when the message is about the whole row or file
    message: str


@dataclass
class ImportReport:
    source_name: str
    dry_run: bool = False
    skip_invalid: bool = False
    rows: int = 0  # data rows read
    valid_rows: int = 0
    customers: int = 0  # written (and committed)
    phone_numbers: int = 0
    consents: int = 0
    errors: list[RowError] = field(default_factory=list)
    # The header is bad or the file could not be read to its end: nothing written.
    file_rejected: bool = False

    @property
    def rejected_rows(self) -> int:
        return len({e.line for e in self.errors if e.line > HEADER_LINE})

    @property
    def rejected(self) -> bool:
        """Something in the file was refused."""
        return bool(self.errors)

    @property
    def written(self) -> bool:
        return self.customers > 0


class _CheckedNumber(ParsedNumber):
    """A number `phone_normalize` has just validated. PhoneNumberField
    re-validates a number each time it is written or looked up, and for a
    +1 number that means trying every NANP region: three times per row, it
    was a third of the import's time."""

    def is_valid(self) -> bool:
        return True


@dataclass
class _Row:
    """A row that passed every check that needs no database."""

    line: int
    customer: Customer
    number: _CheckedNumber
    kind: str
    consent: ConsentGrant | None


class _Rejected(Exception):
    """Ends the import; its transaction rolls back."""


def customers_import(
    *,
    file: Iterable[str],
    source_name: str,
    by,
    skip_invalid: bool = False,
    dry_run: bool = False,
    consents_allowed: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> ImportReport:
    """Import customers from CSV text (`file`: an open text file, or any
    iterable of lines, opened with newline=""). `by` is the importing user
    (None from a command run without --user); `dry_run` validates everything,
    the database's numbers included, and writes nothing. Without
    `consents_allowed` (the user may not record consents) a file with consent
    columns is refused."""
    report = ImportReport(source_name=source_name, dry_run=dry_run, skip_invalid=skip_invalid)
    user = history_user(by)
    reason = f"import {source_name}"[:100]  # history_change_reason is a CharField(100)
    reader = csv.DictReader(file, restkey=None, restval=None)
    try:
        with transaction.atomic():
            header_ok = _header_check(reader, report, consents_allowed=consents_allowed)
            if not header_ok:
                raise _Rejected
            for chunk in _chunks(_rows_checked(reader, report), chunk_size):
                _numbers_not_taken(chunk, report)
                if dry_run or (report.errors and not skip_invalid):
                    continue  # keep validating, so that the report names every bad row
                _chunk_write(chunk, user=user, reason=reason, report=report)
            if report.errors and not skip_invalid:
                raise _Rejected
            if dry_run:
                raise _Rejected
    except _Rejected:
        report.customers = report.phone_numbers = report.consents = 0
    except IntegrityError as exc:
        # Someone added one of these numbers while the file was imported.
        report.customers = report.phone_numbers = report.consents = 0
        report.file_rejected = True
        report.errors.append(
            RowError(
                0, "", f"Nothing was imported: the database refused a row ({exc}). Run the import again."
            )
        )
    report.errors.sort(key=lambda e: e.line)
    return report


def _header_check(reader: csv.DictReader, report: ImportReport, *, consents_allowed: bool) -> bool:
    try:
        header = reader.fieldnames
    except (csv.Error, UnicodeDecodeError) as exc:
        return _file_error(report, reader, exc)
    if not header:
        report.errors.append(RowError(HEADER_LINE, "", "The file is empty: expected a header row."))
        report.file_rejected = True
        return False
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    reader.fieldnames = names
    errors = []
    for name in names:
        if name not in ALL_COLUMNS:
            errors.append(RowError(HEADER_LINE, name, f"Unknown column '{name}'."))
        elif names.count(name) > 1:
            errors.append(RowError(HEADER_LINE, name, f"Column '{name}' appears more than once."))
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(RowError(HEADER_LINE, name, f"Required column '{name}' is missing."))
    given_consent = [name for name in CONSENT_COLUMNS if name in names]
    if given_consent and not consents_allowed:
        errors.append(
            RowError(
                HEADER_LINE, given_consent[0], "You may not record consents: remove the consent columns."
            )
        )
    elif given_consent:
        for name in CONSENT_COLUMNS:
            if name not in names:
                errors.append(
                    RowError(HEADER_LINE, name, f"Consent columns come together: '{name}' is missing.")
                )
    # One message per column, in header order.
    unique = list(dict.fromkeys(errors))
    report.errors.extend(unique)
    report.file_rejected = bool(unique)
    return not unique


def _file_error(report: ImportReport, reader: csv.DictReader, exc: Exception) -> bool:
    if isinstance(exc, UnicodeDecodeError):
        # Decoding runs ahead of the csv reader by a block: no line to name.
        error = RowError(0, "", "The file is not UTF-8 text; save it as CSV UTF-8. Nothing was imported.")
    else:
        error = RowError(
            reader.line_num + 1, "", f"The file is not readable CSV ({exc}). Nothing was imported."
        )
    report.errors.append(error)
    report.file_rejected = True
    return False


def _rows_checked(reader: csv.DictReader, report: ImportReport) -> Iterator[_Row]:
    """The rows that pass every check that needs no database; the others go
    to the report. Reading stops, and the import with it, at a line that is
    not readable CSV."""
    seen: dict[str, int] = {}  # E.164 -> first line
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            _file_error(report, reader, exc)
            raise _Rejected from exc
        report.rows += 1
        line = reader.line_num
        row = _row_check(raw, line, report)
        if row is None:
            continue
        e164 = str(row.number)
        first = seen.setdefault(e164, line)
        if first != line:
            report.errors.append(RowError(line, "phone_number", f"{e164} is also on line {first}."))
            continue
        yield row


def _row_check(raw: dict, line: int, report: ImportReport) -> _Row | None:
    errors: list[RowError] = []
    if None in raw:
        header_count = len(raw) - 1
        errors.append(
            RowError(
                line,
                "",
                f"The row has {header_count + len(raw[None])} fields; the header has {header_count}.",
            )
        )
    if any(value is None for key, value in raw.items() if key is not None):
        errors.append(RowError(line, "", "The row has fewer fields than the header."))
    if errors:
        report.errors.extend(errors)
        return None
    values = {key: (value or "").strip() for key, value in raw.items()}
    for name, value in values.items():
        if "\x00" in value:  # PostgreSQL text cannot hold it
            errors.append(RowError(line, name, "Contains a NUL character."))
            values[name] = value.replace("\x00", "")

    customer = Customer(
        first_name=values["first_name"],
        last_name=values["last_name"],
        email=values["email"],
        state=values["state"].upper(),
        postal_code=values["postal_code"],
    )
    try:
        customer.clean_fields()
    except ValidationError as exc:
        errors.extend(RowError(line, name, " ".join(messages)) for name, messages in exc.message_dict.items())
    else:
        zip_message = _zip_mismatch(customer.postal_code, customer.state)
        if zip_message:
            errors.append(RowError(line, "postal_code", zip_message))

    number = None
    try:
        number = _CheckedNumber.from_string(phone_normalize(values["phone_number"]))
    except ValidationError as exc:
        errors.append(RowError(line, "phone_number", " ".join(exc.messages)))
    kind = values["phone_kind"].lower() or PhoneNumber.Kind.UNKNOWN
    if kind not in PHONE_KINDS:
        errors.append(
            RowError(line, "phone_kind", f"'{kind}' is not one of {', '.join(PhoneNumber.Kind.values)}.")
        )

    consent = None
    if any(values.get(name) for name in CONSENT_COLUMNS):
        consent, consent_errors = _consent_check(values, line)
        errors.extend(consent_errors)

    if errors:
        report.errors.extend(errors)
        return None
    assert number is not None  # a number that did not parse left an error above
    report.valid_rows += 1
    return _Row(line=line, customer=customer, number=number, kind=kind, consent=consent)


def _consent_check(values: dict, line: int) -> tuple[ConsentGrant | None, list[RowError]]:
    missing = [name for name in CONSENT_COLUMNS if not values.get(name)]
    if missing:
        return None, [
            RowError(line, name, "Required when the row has consent: fill every consent column or none.")
            for name in missing
        ]
    errors = []
    grant = ConsentGrant(
        purpose=values["consent_purpose"].lower(),
        channel=values["consent_channel"].lower(),
        source=values["consent_source"].lower(),
    )
    for column, name in (
        ("consent_purpose", "purpose"),
        ("consent_channel", "channel"),
        ("consent_source", "source"),
    ):
        model_field = ConsentGrant._meta.get_field(name)
        assert isinstance(model_field, models.Field)  # purpose, channel and source are plain fields
        try:
            model_field.clean(getattr(grant, name), grant)
        except ValidationError as exc:
            allowed = ", ".join(value for value, _label in model_field.flatchoices)
            errors.append(RowError(line, column, f"{' '.join(exc.messages)} Use one of: {allowed}."))

    written = WRITTEN_VALUES.get(values["consent_written"].lower())
    if written is None:
        errors.append(
            RowError(
                line, "consent_written", f"'{values['consent_written']}' is not true/false (or yes/no, 1/0)."
            )
        )
    grant.written = bool(written)

    try:
        grant.evidence = evidence_validate({"disclosure_text": values["consent_disclosure_text"]})
    except ValidationError as exc:
        errors.append(RowError(line, "consent_disclosure_text", " ".join(exc.messages)))

    granted_at = _aware_datetime(values["consent_granted_at"])
    if isinstance(granted_at, str):
        errors.append(RowError(line, "consent_granted_at", granted_at))
    else:
        grant.granted_at = granted_at
    return (None if errors else grant), errors


def _aware_datetime(text: str) -> datetime | str:
    """The instant, or a message saying what is wrong with it."""
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        return f"'{text}' is not an ISO 8601 date and time, e.g. 2026-01-05T10:00:00+00:00."
    if parsed.tzinfo is None:
        return f"'{text}' has no UTC offset; give one, e.g. 2026-01-05T10:00:00-05:00."
    if parsed > timezone.now() + FUTURE_TOLERANCE:
        return f"'{text}' is in the future; consent cannot be granted in the future."
    return parsed


@functools.cache
def _zip_states() -> dict[str, str]:
    return {zip5: state for zip5, (_zone, state) in zip_table().items() if state}


def _zip_mismatch(postal_code: str, state: str) -> str:
    """The address decides the callee's candidate time zone and state rules,
    so a ZIP must be a real one, and in the row's state when both are given."""
    if not postal_code:
        return ""
    zip_state = _zip_states().get(postal_code[:5])
    if zip_state is None:
        return f"{postal_code} is not a known US ZIP code."
    if state and zip_state != state:
        return f"ZIP {postal_code} is in {zip_state}, not {state}."
    return ""


def _chunks(rows: Iterator[_Row], size: int) -> Iterator[list[_Row]]:
    chunk: list[_Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _numbers_not_taken(chunk: list[_Row], report: ImportReport) -> None:
    """Drop (and report) the chunk's rows whose number is already in the
    database, or belongs to an erased person (a suppression hash): an old
    export must not bring an erased person back. One IN query each per chunk."""
    e164s = [str(row.number) for row in chunk]
    taken = {
        str(number)
        for number in PhoneNumber.objects.filter(number__in=[row.number for row in chunk]).values_list(
            "number", flat=True
        )
    }
    hashes = {h: e164 for e164 in e164s for h in suppression_hashes(e164)}
    suppressed = {
        hashes[h]
        for h in SuppressionEntry.objects.filter(number_hash__in=list(hashes)).values_list(
            "number_hash", flat=True
        )
    }
    if not taken and not suppressed:
        return
    kept = []
    for row, e164 in zip(chunk, e164s, strict=True):
        if e164 in taken:
            message = f"{e164} already belongs to a customer."
        elif e164 in suppressed:
            message = f"{e164} belonged to an erased person and stays suppressed; it cannot be imported."
        else:
            kept.append(row)
            continue
        report.valid_rows -= 1
        report.errors.append(RowError(row.line, "phone_number", message))
    chunk[:] = kept


def _chunk_write(chunk: list[_Row], *, user, reason: str, report: ImportReport) -> None:
    if not chunk:
        return
    customers = [row.customer for row in chunk]
    _insert_with_history(Customer, customers, user=user, reason=reason)
    phones = [
        PhoneNumber(customer=customer, number=row.number, kind=row.kind)
        for row, customer in zip(chunk, customers, strict=True)
    ]
    _insert_with_history(PhoneNumber, phones, user=user, reason=reason)
    grants = []
    for row, phone in zip(chunk, phones, strict=True):
        if row.consent is not None:
            grant = row.consent
            grant.phone_number = phone
            grant.recorded_by = user
            grant.evidence = {**grant.evidence, "import_file": report.source_name, "import_line": row.line}
            grants.append(grant)
    if grants:
        _insert_with_history(ConsentGrant, grants, user=user, reason=reason)
    report.customers += len(customers)
    report.phone_numbers += len(phones)
    report.consents += len(grants)


def _insert_with_history(model: type[_M], objs: list[_M], *, user, reason: str) -> None:
    """Insert `objs` (setting their ids) and one history row each ("+", `user`,
    `reason`), as `history_bulk_create` does. On PostgreSQL with COPY: the
    ORM's bulk_create spends ~150 µs a row preparing values, which made a
    100k-row import take a minute; COPY takes a few."""
    if connection.vendor != "postgresql" or not COPY_ENABLED:
        history_bulk_create(model, objs, by=user, reason=reason, batch_size=len(objs))
        return
    now = timezone.now()
    meta = model._meta
    with connection.cursor() as cursor:
        # Reserve the ids first: COPY cannot return them, and the history
        # rows and the next table's foreign keys need them.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding, obj._state.db = False, connection.alias
        for field in meta.concrete_fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                for obj in objs:
                    setattr(obj, field.attname, now)
        fields = meta.concrete_fields
        _copy(cursor, meta.db_table, fields, ([getattr(obj, f.attname) for f in fields] for obj in objs))

        history_model = get_history_model_for_model(model)
        history_meta = history_model._meta
        history_values = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user.pk if user is not None else None,
        }
        tracked = {f.attname for f in history_model.tracked_fields}
        history_fields = [f for f in history_meta.concrete_fields if not f.primary_key]
        unknown = [
            f.attname for f in history_fields if f.attname not in tracked and f.attname not in history_values
        ]
        if unknown:
            raise ImproperlyConfigured(
                f"{model.__name__}'s history has columns the import cannot fill: {unknown}"
            )
        _copy(
            cursor,
            history_meta.db_table,
            history_fields,
            (
                [
                    getattr(obj, f.attname) if f.attname in tracked else history_values[f.attname]
                    for f in history_fields
                ]
                for obj in objs
            ),
        )


def _copy(cursor, table: str, fields: Sequence[models.Field], rows: Iterable[list]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # The types COPY cannot adapt by itself.
    numbers = [i for i, f in enumerate(fields) if isinstance(f, PhoneNumberField)]
    documents = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            for i in numbers:
                row[i] = str(row[i]) if row[i] else None
            for i in documents:
                row[i] = Jsonb(row[i])
            copy.write_row(row)
