"""Ways to ask the RND, behind one interface: `query(requests) -> results`,
one result per request the adapter could answer now.

- `RecordedAdapter`: canned answers, or a table of last-disconnect dates from
  which it answers the way the RND does (tests, CI, the demo);
- `FileAdapter`: writes upload files (10-digit number, date; at most 250,000
  rows) to an outbox and reads the result files dropped in an inbox through
  a configurable column and value map (the official result layout is not
  public); resumable by batch;
- `DncComAdapter`: DNC.com's RND Basic API (POST, up to 1,000 per call);
- `TwilioLookupAdapter`: Twilio Lookup v2's `reassigned_number` field (GET,
  one number per call).

Which one runs is a setting (`CONSENTDESK_RND_ADAPTER`, `adapter_configured`).
The HTTP clients use the standard library's opener, so a test replays
recorded responses at the transport (a urllib handler) and nothing else is
stubbed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from compliance.rnd.answers import (
    API_BATCH_MAX,
    ERROR,
    NO,
    NO_DATA,
    RND_ANSWERS,
    UPLOAD_FILE_MAX,
    YES,
    rnd_answer,
)


@dataclass(frozen=True, slots=True)
class RndRequest:
    number: str  # E.164
    date_sent: date


@dataclass(frozen=True, slots=True)
class RndResult:
    number: str  # E.164, as requested
    date_sent: date
    answer: str  # yes | no | no_data | error
    provider: str
    queried_at: datetime
    response_sha256: str
    provider_request_id: str = ""
    rnd_update: str = ""
    detail: str = ""  # why an error is one (logged, not chained)


class RndAdapter(Protocol):
    name: str
    batch_max: int  # requests per call of `query`

    def query(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        """Results for those of `requests` answered now (all of them, errors
        included, for a synchronous adapter; those whose result file arrived,
        for the file adapter)."""
        ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ten_digits(e164: str) -> str:
    """The 10-digit NANP number the RND takes (no +1)."""
    parsed = phonenumbers.parse(e164)
    if parsed.country_code != 1:
        raise ValueError(f"{e164} is not a North American number: the RND covers only those")
    return f"{parsed.national_number:010d}"


def e164_from(raw: str) -> str:
    """E.164 from E.164 or 10 (or 11 with a leading 1) digits; ValueError otherwise."""
    text = raw.strip()
    digits = text[1:] if text.startswith("+") else text
    if not digits.isdigit():
        raise ValueError(f"not a phone number: {raw!r}")
    if text.startswith("+"):
        candidate = text
    elif len(digits) == 10:
        candidate = "+1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        candidate = "+" + digits
    else:
        raise ValueError(f"expected E.164 or 10 digits, got {raw!r}")
    try:
        parsed = phonenumbers.parse(candidate)
    except phonenumbers.NumberParseException:
        raise ValueError(f"not a phone number: {raw!r}") from None
    if parsed.country_code != 1 or not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"not a valid North American number: {raw!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- recorded ---------------------------------------------------------------------------


@dataclass
class RecordedAdapter:
    """Answers from a table: `answers` {(E.164, date): answer} first, then
    `disconnects` {E.164: last permanent disconnection} the RND's way
    (compliance.rnd.answers.rnd_answer). Every answer is dated by `clock`."""

    answers: Mapping[tuple[str, date], str] = field(default_factory=dict)
    disconnects: Mapping[str, date] = field(default_factory=dict)
    clock: Callable[[], datetime] = timezone.now
    name: str = "recorded"
    batch_max: int = API_BATCH_MAX

    def query(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        now = self.clock()
        results = []
        for request in requests:
            answer = self.answers.get((request.number, request.date_sent))
            if answer is None:
                answer = rnd_answer(
                    date_sent=request.date_sent, last_disconnect=self.disconnects.get(request.number)
                )
            raw = f"{request.number},{request.date_sent.isoformat()},{answer}".encode()
            results.append(
                RndResult(
                    number=request.number,
                    date_sent=request.date_sent,
                    answer=answer,
                    provider=self.name,
                    queried_at=now,
                    response_sha256=sha256_hex(raw),
                )
            )
        return results

    @classmethod
    def from_file(cls, path: Path) -> RecordedAdapter:
        """A CSV `phone_number,last_disconnect` (dates YYYY-MM-DD; an empty
        date: in the database, never disconnected), for the demo."""
        disconnects = {}
        with open(path, newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    disconnects[e164_from(row["phone_number"])] = date.fromisoformat(row["last_disconnect"])
                except (KeyError, ValueError, TypeError) as error:
                    raise ValueError(f"{path}: line {line}: {error}") from None
        return cls(disconnects=disconnects)


# --- files ------------------------------------------------------------------------------


class ResultFileError(ValueError):
    """A result file that cannot be read whole; nothing of it is taken."""


@dataclass(frozen=True)
class ResultMap:
    """How a result file says things: the header names of the number, date
    and answer columns (and the RND update's, if any), the date format, and
    which cell value means which answer."""

    number_column: str = "phone_number"
    date_column: str = "date"
    answer_column: str = "answer"
    update_column: str = ""
    date_format: str = "%Y-%m-%d"
    values: Mapping[str, str] = field(
        default_factory=lambda: {"yes": YES, "no": NO, "no data": NO_DATA, "no_data": NO_DATA}
    )

    @classmethod
    def from_setting(cls, value: Mapping[str, object]) -> ResultMap:
        known = set(cls.__dataclass_fields__)
        unknown = set(value) - known
        if unknown:
            raise ImproperlyConfigured(f"CONSENTDESK_RND_RESULT_MAP: unknown keys {sorted(unknown)}")
        result = cls(**value)  # type: ignore[arg-type]
        bad = {answer for answer in result.values.values() if answer not in RND_ANSWERS}
        if bad:
            raise ImproperlyConfigured(
                f"CONSENTDESK_RND_RESULT_MAP: values map to unknown answers {sorted(bad)}"
            )
        return result


UPLOAD_PREFIX = "rnd-upload-"
RESULT_SUFFIX = ".result.csv"


@dataclass
class FileAdapter:
    """Upload files out, result files in, batch by batch.

    `query` first reads the result files of earlier batches waiting in the
    inbox (`<batch>.result.csv`, a batch being an upload file's name without
    `.csv`) and answers the requests they cover; the rest go into new upload
    files in the outbox (at most `file_max` rows each: `10-digit number,date`)
    unless a batch still waiting for its result holds them already. A batch
    is done when its result file was read: both files move to `done/`. A
    result file with any bad line is rejected whole (ResultFileError naming
    the file and the line) and stays where it is."""

    outbox: Path
    inbox: Path
    result_map: ResultMap = field(default_factory=ResultMap)
    clock: Callable[[], datetime] = timezone.now
    file_max: int = UPLOAD_FILE_MAX
    name: str = "rnd_file"
    batch_max: int = UPLOAD_FILE_MAX

    def _pending(self) -> dict[str, set[tuple[str, date]]]:
        pending: dict[str, set[tuple[str, date]]] = {}
        if not self.outbox.is_dir():
            return pending
        for path in sorted(self.outbox.glob(UPLOAD_PREFIX + "*.csv")):
            with open(path, newline="", encoding="utf-8") as handle:
                pending[path.stem] = {
                    ("+1" + row[0], date.fromisoformat(row[1])) for row in csv.reader(handle) if row
                }
        return pending

    def results_read(self, batch: str) -> list[RndResult]:
        """The result file of `batch`, read whole, or ResultFileError."""
        path = self.inbox / f"{batch}{RESULT_SUFFIX}"
        raw = path.read_bytes()
        queried_at = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
        queried_at = min(queried_at, self.clock())
        mapping = self.result_map
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ResultFileError(f"{path.name}: not UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(text, newline=""))
        wanted = [mapping.number_column, mapping.date_column, mapping.answer_column]
        if mapping.update_column:
            wanted.append(mapping.update_column)
        missing = [column for column in wanted if column not in (reader.fieldnames or [])]
        if missing:
            raise ResultFileError(f"{path.name}: line 1: missing columns {missing}")
        results = []
        for line, row in enumerate(reader, start=2):
            try:
                number = e164_from(row[mapping.number_column] or "")
                day = datetime.strptime((row[mapping.date_column] or "").strip(), mapping.date_format).date()
                cell = (row[mapping.answer_column] or "").strip()
                answer = mapping.values.get(cell, mapping.values.get(cell.lower()))
                if answer is None:
                    raise ValueError(f"unknown answer {cell!r}")
            except (ValueError, TypeError) as error:
                raise ResultFileError(f"{path.name}: line {line}: {error}") from None
            results.append(
                RndResult(
                    number=number,
                    date_sent=day,
                    answer=answer,
                    provider=self.name,
                    queried_at=queried_at,
                    response_sha256=sha256_hex(raw),
                    provider_request_id=batch,
                    rnd_update=(row.get(mapping.update_column) or "").strip()
                    if mapping.update_column
                    else "",
                )
            )
        return results

    def collect(self) -> list[RndResult]:
        """Every waiting batch's results; a bad file raises and nothing of it counts."""
        results = []
        for batch in self._pending():
            if (self.inbox / f"{batch}{RESULT_SUFFIX}").is_file():
                found = self.results_read(batch)
                self._done(batch)
                results += found
        return results

    def _done(self, batch: str) -> None:
        for folder, name in ((self.outbox, f"{batch}.csv"), (self.inbox, f"{batch}{RESULT_SUFFIX}")):
            (folder / "done").mkdir(parents=True, exist_ok=True)
            os.replace(folder / name, folder / "done" / name)

    def submit(self, requests: Sequence[RndRequest]) -> list[str]:
        """Write upload files for the requests no waiting batch holds; returns their batch names."""
        waiting = set().union(*self._pending().values()) if self.outbox.is_dir() else set()
        fresh = sorted({(r.number, r.date_sent) for r in requests} - waiting)
        batches = []
        self.outbox.mkdir(parents=True, exist_ok=True)
        for index, start in enumerate(range(0, len(fresh), self.file_max), start=1):
            chunk = fresh[start : start + self.file_max]
            body = "".join(f"{ten_digits(number)},{day.isoformat()}\n" for number, day in chunk).encode()
            batch = f"{UPLOAD_PREFIX}{self.clock():%Y%m%dT%H%M%S}-{index:03d}-{sha256_hex(body)[:12]}"
            temporary = self.outbox / f".{batch}.tmp"
            temporary.write_bytes(body)
            os.replace(temporary, self.outbox / f"{batch}.csv")  # whole or not at all
            batches.append(batch)
        return batches

    def query(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        results = self.collect()
        answered = {(r.number, r.date_sent) for r in results}
        self.submit([r for r in requests if (r.number, r.date_sent) not in answered])
        return results


# --- HTTP -------------------------------------------------------------------------------

Opener = urllib.request.OpenerDirector


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: Mapping[str, str]


def _send(opener: Opener, request: urllib.request.Request, timeout: float) -> HttpAnswer:
    try:
        with opener.open(request, timeout=timeout) as response:
            return HttpAnswer(response.status, response.read(), dict(response.headers.items()))
    except urllib.error.HTTPError as error:
        return HttpAnswer(
            error.code, error.read() or b"", dict(error.headers.items()) if error.headers else {}
        )


def _errors(
    requests: Iterable[RndRequest],
    *,
    provider: str,
    at: datetime,
    body: bytes,
    detail: str,
    request_id: str = "",
) -> list[RndResult]:
    return [
        RndResult(
            number=r.number,
            date_sent=r.date_sent,
            answer=ERROR,
            provider=provider,
            queried_at=at,
            response_sha256=sha256_hex(body),
            provider_request_id=request_id,
            detail=detail,
        )
        for r in requests
    ]


def dnc_com_answer(value: object) -> str:
    """DNC.com's `IsReassigned`: true or 1 "yes", false or 0 "no", null or
    blank "no data" (insufficient FCC data); anything else is no answer."""
    if value is True or value == 1 or value in ("1", "true", "True"):
        return YES
    if value is False or value == 0 or value in ("0", "false", "False"):
        return NO
    if value is None or value == "":
        return NO_DATA
    return ERROR


@dataclass
class DncComAdapter:
    """DNC.com (DNCScrub) RND Basic: POST {base}/v1.5/Data/RNDBasic with the
    `loginId` header and `{"data": [{"phoneNumber": "10 digits", "date":
    "YYYYMMDD"}, ...]}` (at most 1,000); the answer is a JSON array of
    `{"PhoneNumber", "IsReassigned", "HasSafeHarbor"}` in any order."""

    login_id: str
    base_url: str = "https://dataapi.dncscrub.com"
    opener: Opener = field(default_factory=urllib.request.build_opener)
    clock: Callable[[], datetime] = timezone.now
    timeout: float = 60.0
    name: str = "dnc_com"
    batch_max: int = API_BATCH_MAX

    def query(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        results = []
        for start in range(0, len(requests), self.batch_max):
            results += self._batch(requests[start : start + self.batch_max])
        return results

    def _batch(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        payload = {
            "data": [{"phoneNumber": ten_digits(r.number), "date": f"{r.date_sent:%Y%m%d}"} for r in requests]
        }
        http = urllib.request.Request(
            self.base_url.rstrip("/") + "/v1.5/Data/RNDBasic",
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "loginId": self.login_id,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            answer = _send(self.opener, http, self.timeout)
        except (urllib.error.URLError, OSError) as error:
            return _errors(requests, provider=self.name, at=self.clock(), body=b"", detail=str(error))
        at = self.clock()
        request_id = answer.headers.get("X-Request-Id", "") or answer.headers.get("Request-Id", "")
        if answer.status != 200:
            return _errors(
                requests,
                provider=self.name,
                at=at,
                body=answer.body,
                detail=f"HTTP {answer.status}",
                request_id=request_id,
            )
        try:
            rows = json.loads(answer.body)
            by_number = {str(row["PhoneNumber"]): row for row in rows}
        except (ValueError, TypeError, KeyError):
            return _errors(
                requests,
                provider=self.name,
                at=at,
                body=answer.body,
                detail="not the expected JSON",
                request_id=request_id,
            )
        digest = sha256_hex(answer.body)
        results = []
        for request in requests:
            row = by_number.get(ten_digits(request.number))
            value = dnc_com_answer(row.get("IsReassigned")) if isinstance(row, dict) else ERROR
            results.append(
                RndResult(
                    number=request.number,
                    date_sent=request.date_sent,
                    answer=value,
                    provider=self.name,
                    queried_at=at,
                    response_sha256=digest,
                    provider_request_id=request_id,
                    detail="" if value != ERROR else "no usable IsReassigned for the number",
                )
            )
        return results


# Twilio's `is_number_reassigned`.
TWILIO_ANSWERS = {"yes": YES, "no": NO, "no_data_available": NO_DATA}


@dataclass
class TwilioLookupAdapter:
    """Twilio Lookup v2: GET {base}/v2/PhoneNumbers/{E.164}?Fields=reassigned_number
    &LastVerifiedDate=YYYYMMDD with HTTP basic auth (account SID, auth token);
    the answer's `reassigned_number` object holds `is_number_reassigned`
    ("yes", "no", "no_data_available") and `error_code` (null when it worked).
    The request id is the `Twilio-Request-Id` header."""

    account_sid: str
    auth_token: str
    base_url: str = "https://lookups.twilio.com"
    opener: Opener = field(default_factory=urllib.request.build_opener)
    clock: Callable[[], datetime] = timezone.now
    timeout: float = 30.0
    name: str = "twilio"
    batch_max: int = API_BATCH_MAX

    def query(self, requests: Sequence[RndRequest]) -> list[RndResult]:
        return [self._one(request) for request in requests]

    def _one(self, request: RndRequest) -> RndResult:
        query = urllib.parse.urlencode(
            {"Fields": "reassigned_number", "LastVerifiedDate": f"{request.date_sent:%Y%m%d}"}
        )
        url = f"{self.base_url.rstrip('/')}/v2/PhoneNumbers/{urllib.parse.quote(request.number)}?{query}"
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        http = urllib.request.Request(url, method="GET", headers={"Authorization": f"Basic {credentials}"})
        try:
            answer = _send(self.opener, http, self.timeout)
        except (urllib.error.URLError, OSError) as error:
            return _errors([request], provider=self.name, at=self.clock(), body=b"", detail=str(error))[0]
        at = self.clock()
        request_id = answer.headers.get("Twilio-Request-Id", "")
        value, detail = ERROR, f"HTTP {answer.status}"
        if answer.status == 200:
            try:
                found = json.loads(answer.body).get("reassigned_number") or {}
                if found.get("error_code") is not None:
                    detail = f"Twilio error {found['error_code']}"
                else:
                    value = TWILIO_ANSWERS.get(str(found.get("is_number_reassigned")), ERROR)
                    detail = "" if value != ERROR else "no usable is_number_reassigned"
            except (ValueError, AttributeError):
                detail = "not the expected JSON"
        return RndResult(
            number=request.number,
            date_sent=request.date_sent,
            answer=value,
            provider=self.name,
            queried_at=at,
            response_sha256=sha256_hex(answer.body),
            provider_request_id=request_id,
            detail=detail,
        )


# --- the configured one -----------------------------------------------------------------

ADAPTERS = ("recorded", "file", "dnc_com", "twilio")


class RndNotConfigured(ImproperlyConfigured):
    """No adapter is configured: nothing can be asked (and nothing is made up)."""


def adapter_configured() -> RndAdapter:
    """The adapter the settings name (`CONSENTDESK_RND_ADAPTER`)."""
    kind = settings.RND_ADAPTER
    if kind == "recorded":
        path = settings.RND_RECORDED_FILE
        return RecordedAdapter.from_file(Path(path)) if path else RecordedAdapter()
    if kind == "file":
        return FileAdapter(
            outbox=Path(settings.RND_OUTBOX),
            inbox=Path(settings.RND_INBOX),
            result_map=ResultMap.from_setting(settings.RND_RESULT_MAP),
        )
    if kind == "dnc_com":
        if not settings.RND_DNC_COM_LOGIN_ID:
            raise RndNotConfigured("CONSENTDESK_RND_ADAPTER=dnc_com needs CONSENTDESK_RND_DNC_COM_LOGIN_ID.")
        return DncComAdapter(login_id=settings.RND_DNC_COM_LOGIN_ID)
    if kind == "twilio":
        if not (settings.RND_TWILIO_ACCOUNT_SID and settings.RND_TWILIO_AUTH_TOKEN):
            raise RndNotConfigured(
                "CONSENTDESK_RND_ADAPTER=twilio needs CONSENTDESK_RND_TWILIO_ACCOUNT_SID and "
                "CONSENTDESK_RND_TWILIO_AUTH_TOKEN."
            )
        return TwilioLookupAdapter(
            account_sid=settings.RND_TWILIO_ACCOUNT_SID, auth_token=settings.RND_TWILIO_AUTH_TOKEN
        )
    if not kind:
        raise RndNotConfigured(
            "No RND adapter is configured (CONSENTDESK_RND_ADAPTER): reassigned numbers cannot be queried."
        )
    raise RndNotConfigured(
        f"CONSENTDESK_RND_ADAPTER: unknown adapter {kind!r}; one of {', '.join(ADAPTERS)}."
    )
