"""Erasure hooks: what each app must erase or anonymise when a customer is
erased (GDPR art. 17, CCPA 1798.105).

compliance.erasure.customer_erase is the one entry point; compliance registers
it here (`customer_eraser_register`) so that lower layers (the customers
app's retention category) reach it through `customer_erase_registered`
without importing compliance. It handles the customer, numbers, consents and
DNC requests itself, then, in the same transaction, runs every hook
registered here (apps register theirs in `AppConfig.ready()`), in the order
of their names, with an `ErasureContext`: who is erased, their numbers and
strings as they were before, who erases, how the erasure came (`via`), when,
and the keyed hash to use where a record must stay matchable without the
clear value (HMAC with the suppression key).

The context also finds and redacts the person's numbers (in any common
format) and email addresses in free text, for records that merely mention
them. A name alone is not the person (another customer, a staff member may
share it): it is redacted only in records about the customer
(`redact(..., names=True)`); their own free text is blanked whole instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import phonenumbers

# How an erasure came: the erase API, a help-desk erasure request, the
# retention purge's anonymise step, the admin, a management command.
ERASURE_VIAS = ("api", "ticket", "retention", "admin", "command")

NUMBER_MARK = "(erased number)"
EMAIL_MARK = "(erased email)"
NAME_MARK = "(erased name)"
TEXT_MARK = "(erased)"

# Between the digits of a written number: spaces, dots, dashes, brackets.
_SEPARATORS = r"[\s().\-]*"


def _digits_pattern(digits: str) -> str:
    return _SEPARATORS.join(re.escape(d) for d in digits)


def number_pattern(e164: str) -> str:
    """A regular expression for `e164` as people write it: +1 305 555 0177,
    (305) 555-0177, 1-305-555-0177, 3055550177, 00 44 20 7946 0018, 020 7946 0018."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return re.escape(e164)
    national = str(parsed.national_number)
    country = str(parsed.country_code)
    prefix = rf"(?:(?:(?:\+|00){_SEPARATORS})?{_digits_pattern(country)}{_SEPARATORS}|0{_SEPARATORS})?"
    return rf"(?<!\d){prefix}\(?{_digits_pattern(national)}(?!\d)"


@dataclass(frozen=True)
class ErasureContext:
    customer_id: int
    numbers: tuple[str, ...]  # the clear numbers being erased, E.164
    first_name: str  # as they were before the erasure
    last_name: str
    emails: tuple[str, ...]
    by: object  # the user erasing, or None (a task, a command)
    via: str  # one of ERASURE_VIAS
    at: datetime
    keyed_hash: Callable[[str], str] = field(repr=False)  # HMAC-SHA256 hex with the suppression key

    @property
    def reason(self) -> str:
        """The history change reason of every row an erasure writes."""
        return f"erasure ({self.via})"

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def _parts(self, *, names: bool) -> list[str]:
        parts = [number_pattern(n) for n in self.numbers]
        parts += [re.escape(e) for e in self.emails if e]
        if names:  # longest first: the full name before its parts
            words = sorted({w for w in (self.name, self.first_name, self.last_name) if len(w) > 1}, key=len)
            parts += [rf"(?<!\w){re.escape(w)}(?!\w)" for w in reversed(words)]
        return parts

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        parts = self._parts(names=False)
        return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None

    @cached_property
    def _pattern_with_names(self) -> re.Pattern[str] | None:
        parts = self._parts(names=True)
        return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None

    def search_terms(self) -> tuple[str, ...]:
        """Substrings (case-insensitive) that every text mentioning a number or
        an email of the person contains: the email, each number's last four
        digits (kept together in every common format). A cheap database
        pre-filter before `mentions`."""
        terms = {e.lower() for e in self.emails if e}
        terms |= {re.sub(r"\D", "", n)[-4:] for n in self.numbers}
        return tuple(sorted(t for t in terms if t))

    def mentions(self, text: str | None) -> bool:
        """Whether `text` holds one of the person's numbers or email addresses."""
        return bool(text and self._pattern is not None and self._pattern.search(text) is not None)

    def redact(self, text: str, *, names: bool = False) -> str:
        """`text` with the person's numbers and email addresses replaced by
        markers; with `names`, also their name (for records about them)."""
        pattern = self._pattern_with_names if names else self._pattern
        if not text or pattern is None:
            return text
        emails = {e.lower() for e in self.emails}

        def mark(match: re.Match[str]) -> str:
            found = match.group(0)
            if found.lower() in emails:
                return EMAIL_MARK
            return NUMBER_MARK if any(c.isdigit() for c in found) else NAME_MARK

        return pattern.sub(mark, text)


ErasureHook = Callable[[ErasureContext], None]

_HOOKS: dict[str, ErasureHook] = {}


def erasure_hook_register(name: str, fn: ErasureHook) -> None:
    """Register (or, with the same name, replace) what an app erases. Names
    are "app.what"; hooks run in the order of their names."""
    _HOOKS[name] = fn


def erasure_hooks() -> list[tuple[str, ErasureHook]]:
    return sorted(_HOOKS.items())


def erasure_hooks_run(context: ErasureContext) -> list[str]:
    """Run every hook, in order, inside the caller's transaction (a failing
    hook undoes the whole erasure). Returns the names of the hooks run."""
    if context.via not in ERASURE_VIAS:
        raise ValueError(f"unknown erasure via {context.via!r}")
    ran = []
    for name, hook in erasure_hooks():
        hook(context)
        ran.append(name)
    return ran


CustomerEraser = Callable[..., object]
_ERASER: dict[str, CustomerEraser] = {}


def customer_eraser_register(fn: CustomerEraser) -> None:
    """compliance registers customer_erase, the one entry point, here."""
    _ERASER["customer"] = fn


def customer_erase_registered(*, customer: object, by: object, via: str, reason: str) -> object:
    """Erase through the registered entry point (for apps below compliance)."""
    try:
        eraser = _ERASER["customer"]
    except KeyError:
        raise RuntimeError("no customer eraser registered (is compliance installed?)") from None
    return eraser(customer=customer, by=by, via=via, reason=reason)
