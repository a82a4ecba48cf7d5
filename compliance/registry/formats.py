"""Registry file formats: streaming readers that validate every line.

Full files (the FTC's flat text, and state lists in the same layout): one
number per line, `AAANNNNNNN` or `AAA,NNNNNNN`; surrounding whitespace, blank
lines and CRLF line ends are tolerated. No header line: a line that is not a
number is a bad line (a header would be indistinguishable from a damaged
file, and the FTC's files have none).

Change lists: `number,date,action` per line, where `number` is `AAANNNNNNN`
(or `AAA,NNNNNNN`, i.e. four fields), `date` is `YYYY-MM-DD`, `MM/DD/YYYY` or
`YYYYMMDD` (a real calendar date), and `action` is `A` (added to the
registry) or `D` (deleted from it), in either case. Whitespace around fields,
blank lines and CRLF are tolerated; no header line.

A number is valid when its area code and its exchange (the 4th digit) do not
start with 0 or 1 (NANP).

Files are read in 1 MiB blocks, never whole: memory stays flat whatever the
file size. Readers yield batches of normalised data and keep running totals
in a `FileScan` (SHA-256 of the bytes, lines, numbers per area code); the
first bad line raises `RegistryFileError` naming the file, the line and why.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.registry.models import SyncRun

BLOCK_SIZE = 1 << 20
MAX_LINE = 1 << 16
AREA_CODE_DIVISOR = 10_000_000  # number // AREA_CODE_DIVISOR is its area code

_DIGITS_NL = b"0123456789\n"
_DIGITS_COMMA_NL = b"0123456789,\n"
_TWO_TO_NINE = b"23456789"
_NUMBER = re.compile(rb"(\d{3}),?(\d{7})")


class RegistryFileError(Exception):
    """A registry file that cannot be imported, and where: `path`, `line_no`
    (1-based, or None when the file as a whole is at fault) and `reason`;
    `sync_run` is the failed run once an import has recorded it."""

    sync_run: "SyncRun | None" = None

    def __init__(self, *, path: Path, line_no: int | None, reason: str):
        self.path = Path(path)
        self.line_no = line_no
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line_no}" if self.line_no else str(self.path)
        return f"{where}: {self.reason}"


@dataclass
class FileScan:
    """Running totals of a read: what the import records about its files."""

    paths: Sequence[Path]
    sha256: Any = field(default_factory=hashlib.sha256)
    total_bytes: int = 0
    bytes_done: int = 0  # bytes of the lines checked so far
    lines: int = 0
    numbers: int = 0  # numbers (full files) or changes (change lists) read, duplicates included
    area_codes: Counter = field(default_factory=Counter)  # area code -> numbers or changes read

    def __post_init__(self):
        for path in map(Path, self.paths):
            try:
                self.total_bytes += path.stat().st_size
            except OSError as exc:
                raise RegistryFileError(
                    path=path, line_no=None, reason=f"cannot be read ({exc.strerror})"
                ) from exc

    @property
    def checksum(self) -> str:
        return self.sha256.hexdigest()

    @property
    def lines_estimate(self) -> int:
        """Total lines, extrapolated from the bytes checked so far (exact at the end)."""
        if not self.bytes_done:
            return self.total_bytes // 11
        if self.bytes_done >= self.total_bytes:
            return self.lines
        return max(self.lines, self.lines * self.total_bytes // self.bytes_done)


Progress = Callable[[FileScan], None]


def registry_files_checksum(*, paths: Sequence[Path]) -> str:
    """SHA-256 of the files' bytes concatenated in order (for one file, what
    `sha256sum` prints): the checksum a sync run records, computed without
    importing, e.g. to skip a file already imported."""
    digest = hashlib.sha256()
    for path in paths:
        with Path(path).open("rb") as handle:
            while block := handle.read(BLOCK_SIZE):
                digest.update(block)
    return digest.hexdigest()


def _blocks(path: Path, scan: FileScan) -> Iterator[tuple[int, bytes]]:
    """(number of the block's first line, block of whole lines, each ending
    with a newline), checksumming every byte read."""
    line_no = 1
    carry = b""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise RegistryFileError(path=path, line_no=None, reason=f"cannot be read ({exc.strerror})") from exc
    with handle:
        while True:
            try:
                block = handle.read(BLOCK_SIZE)
            except OSError as exc:
                raise RegistryFileError(
                    path=path, line_no=line_no, reason=f"cannot be read ({exc.strerror})"
                ) from exc
            scan.sha256.update(block)
            if not block:
                break
            data = carry + block if carry else block
            end = data.rfind(b"\n") + 1
            if not end:
                if len(data) > MAX_LINE:
                    raise RegistryFileError(
                        path=path, line_no=line_no, reason="line too long (no line break)"
                    )
                carry = data
                continue
            carry = data[end:]
            if len(carry) > MAX_LINE:
                raise RegistryFileError(
                    path=path,
                    line_no=line_no + data.count(b"\n", 0, end),
                    reason="line too long (no line break)",
                )
            whole = data[:end]
            yield line_no, whole
            line_no += whole.count(b"\n")
        if carry:
            yield line_no, carry + b"\n"


# --- full files -------------------------------------------------------------


def full_file_read(
    *, paths: Sequence[Path], scan: FileScan, progress: Progress | None = None
) -> Iterator[bytes]:
    """Validate full files, yielding their numbers as batches of canonical
    lines (`AAANNNNNNN\\n`, the text format of COPY) and counting numbers per
    area code in `scan`. Raises RegistryFileError at the first bad line."""
    for path in map(Path, paths):
        for first_line, block in _blocks(path, scan):
            canonical = _canonical_block(block)
            if canonical is None:
                canonical = _canonical_lines(block, path=path, first_line=first_line)
            scan.lines += block.count(b"\n")
            scan.bytes_done += len(block)
            count = len(canonical) // 11
            scan.numbers += count
            _count_area_codes(canonical, count, scan.area_codes)
            if progress:
                progress(scan)
            if count:
                yield canonical


def _canonical_block(block: bytes) -> bytes | None:
    """The block in canonical form if every line is a valid number in one
    layout, checked with a few C-speed passes; None if anything is unusual
    (blank lines, spaces, mixed layouts, bad lines): then the lines are
    checked one by one."""
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    lines = block.count(b"\n")
    if len(block) == 11 * lines:
        if (
            block[10::11] == b"\n" * lines
            and not block.translate(None, _DIGITS_NL)
            and not block[0::11].translate(None, _TWO_TO_NINE)
            and not block[3::11].translate(None, _TWO_TO_NINE)
        ):
            return block
    elif len(block) == 12 * lines and (
        block[11::12] == b"\n" * lines
        and block[3::12] == b"," * lines
        and block.count(b",") == lines
        and not block.translate(None, _DIGITS_COMMA_NL)
        and not block[0::12].translate(None, _TWO_TO_NINE)
        and not block[4::12].translate(None, _TWO_TO_NINE)
    ):
        return block.replace(b",", b"")
    return None


def _canonical_lines(block: bytes, *, path: Path, first_line: int) -> bytes:
    out = []
    for offset, raw in enumerate(block.split(b"\n")[:-1]):
        text = raw.strip()
        if not text:
            continue
        match = _NUMBER.fullmatch(text)
        if match is None:
            raise RegistryFileError(path=path, line_no=first_line + offset, reason=_why_not_a_number(text))
        number = match[1] + match[2]
        reason = _nanp_problem(number)
        if reason:
            raise RegistryFileError(path=path, line_no=first_line + offset, reason=reason)
        out.append(number)
    if not out:
        return b""
    out.append(b"")
    return b"\n".join(out)


EXCERPT_CHARS = 20
_EXCERPT_KEPT = frozenset("0123456789,-/.: ")


def line_excerpt(text: bytes | str) -> str:
    """A short, masked excerpt of a bad line, quoted, for error messages (the
    sync run's error, the log, the `.reason.txt` beside a rejected file).

    At most EXCERPT_CHARS (20) characters of the line, then `…` if it goes
    on. ASCII digits and the separators `,` `-` `/` `.` `:` and space are
    kept, so that a wrong number or date is recognisable; every other
    character (letters, anything non-ASCII, control characters) is shown as
    `*`. A file that is not a registry file at all (a password or key file
    dropped or pointed at by mistake) thus never has its content shown: the
    line number and the shape of the line say what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    shown = "".join(char if char in _EXCERPT_KEPT else "*" for char in text[:EXCERPT_CHARS])
    return f"'{shown}{'…' if len(text) > EXCERPT_CHARS else ''}'"


def _why_not_a_number(text: bytes) -> str:
    digits = text.replace(b",", b"")
    if digits.isdigit() and len(digits) != 10:
        return f"{line_excerpt(text)} has {len(digits)} digits; expected 10 (AAANNNNNNN or AAA,NNNNNNN)"
    return f"{line_excerpt(text)} is not a 10-digit phone number (AAANNNNNNN or AAA,NNNNNNN)"


def _nanp_problem(number: bytes) -> str | None:
    """Why a 10-digit number is not a valid NANP number, or None."""
    if number[0] in b"01":
        return f"{number.decode()} has area code {number[:3].decode()}: a NANP area code cannot start with 0 or 1"
    if number[3] in b"01":
        return (
            f"{number.decode()} has exchange {number[3:6].decode()}: a NANP exchange cannot start with 0 or 1"
        )
    return None


def _count_area_codes(canonical: bytes, count: int, counts: Counter) -> None:
    """Add the numbers per area code of canonical lines to `counts`.

    Registry files are sorted, so a batch holds a few runs of one area code:
    find each run's end by bisection and check it whole at C speed; fall back
    to counting line by line only where lines are not grouped by area code."""
    start = 0
    while start < count:
        area_code = canonical[start * 11 : start * 11 + 3]
        low, high = start + 1, count
        while low < high:  # first line after `start` with another area code, if grouped
            middle = (low + high) // 2
            if canonical[middle * 11 : middle * 11 + 3] == area_code:
                low = middle + 1
            else:
                high = middle
        run = low - start
        stop = low * 11
        if all(canonical[start * 11 + i : stop : 11] == area_code[i : i + 1] * run for i in range(3)):
            counts[int(area_code)] += run
            start = low
        else:
            for position in range(start * 11, count * 11, 11):
                counts[int(canonical[position : position + 3])] += 1
            return


# --- change lists -------------------------------------------------------------

ADD, DELETE = "A", "D"
_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"),
    re.compile(r"(?P<m>\d{2})/(?P<d>\d{2})/(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


@dataclass(frozen=True, slots=True)
class Change:
    number: int
    action: str  # ADD or DELETE
    on: date
    ordinal: int  # position in the files, for "the last change of a number wins"


def change_list_read(
    *, paths: Sequence[Path], scan: FileScan, progress: Progress | None = None
) -> Iterator[list[Change]]:
    """Validate change lists, yielding batches of changes in file order and
    counting changes per area code in `scan`. Raises RegistryFileError at the
    first bad line."""
    dates: dict[str, date] = {}
    for path in map(Path, paths):
        for first_line, block in _blocks(path, scan):
            batch = []
            for offset, raw in enumerate(block.split(b"\n")[:-1]):
                text = raw.strip()
                if not text:
                    continue
                line_no = first_line + offset
                number, action, on = _change_parse(text, dates, path=path, line_no=line_no)
                scan.numbers += 1
                scan.area_codes[number // AREA_CODE_DIVISOR] += 1
                batch.append(Change(number=number, action=action, on=on, ordinal=scan.numbers))
            scan.lines += block.count(b"\n")
            scan.bytes_done += len(block)
            if progress:
                progress(scan)
            if batch:
                yield batch


def _change_parse(text: bytes, dates: dict[str, date], *, path: Path, line_no: int) -> tuple[int, str, date]:
    def bad(reason: str) -> RegistryFileError:
        return RegistryFileError(path=path, line_no=line_no, reason=reason)

    try:
        fields = [part.strip() for part in text.decode("ascii").split(",")]
    except UnicodeDecodeError:
        raise bad(f"{line_excerpt(text)} is not a change record (number,date,action)") from None
    if len(fields) == 4 and len(fields[0]) == 3:
        fields = [fields[0] + fields[1], fields[2], fields[3]]
    if len(fields) != 3:
        raise bad(f"{line_excerpt(text)} is not a change record: expected number,date,action")
    raw_number, raw_date, raw_action = fields
    if not (raw_number.isdigit() and raw_number.isascii() and len(raw_number) == 10):
        raise bad(_why_not_a_number(raw_number.encode()))
    reason = _nanp_problem(raw_number.encode())
    if reason:
        raise bad(reason)
    action = raw_action.upper()
    if action not in (ADD, DELETE):
        raise bad(f"action {line_excerpt(raw_action)} is neither A (add) nor D (delete)")
    on = dates.get(raw_date)
    if on is None:
        on = _date_parse(raw_date)
        if on is None:
            raise bad(f"date {line_excerpt(raw_date)} is not a date (YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD)")
        dates[raw_date] = on
    return int(raw_number), action, on


def _date_parse(text: str) -> date | None:
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None
