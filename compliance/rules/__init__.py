"""The rule data: federal and state calling rules as flat records.

The records live in `rules.toml` next to this file and, once seeded, in the
database (`compliance.models.JurisdictionRule`, one field per key), where
compliance officers edit them. Both paths go through `rule_from_record`, which
validates a record and parses it into a `Rule`; `ruleset_build` turns records
into the `RuleSet` that `compliance.policy.decide` reads.

Semantics of the keys (REGULATIONS.md is the source of the values):

- `jurisdiction`: "US" (federal) or a two-letter state code.
- `effective_from` / `effective_to`: the rule applies on local dates in
  [effective_from, effective_to); `effective_to` empty = until changed.
- `applies_to`: "marketing" (marketing calls), "all" (every call) or
  "automated" (autodialed or prerecorded calls, any purpose).
- `weekday_window` (Monday to Friday), `saturday_window`, `sunday_window`:
  "HH:MM-HH:MM" local to the callee, start inclusive, end exclusive, or
  "closed" (no calls that day: `restricted_day`). Saturday and Sunday default
  to the weekday window.
- `holiday_ban`: "none", "all" (no calls on a legal holiday of the
  jurisdiction, from the `holidays` package) or "without_consent": the
  rule's day bans (its closed days and the holidays) do not apply when the
  callee gave prior express consent; on such a day the weekday window applies
  (Utah's "no Sunday, no legal holiday without prior express consent").
- `cap_per_24h`: calls to the number per rolling 24 h on the same subject.
- `written_consent_for_sales`: every marketing call needs written consent,
  manual calls included.
- `dnc_request_cooldown_days`: no call within that many days after a company
  DNC request, even a lifted one.
- `own_dnc_list`: the state keeps a DNC list, a registry source "state:XX";
  `dnc_list_max_age_days` is the age beyond which that list's data is stale
  (on the federal row: the national registry's, TSR 310.4(b)(3)(iv)).
- `ebr_purchase_months` / `ebr_inquiry_months`: the established business
  relationship after a purchase / an inquiry (federal row only).
- `rnd_fresh_hours`: how long a Reassigned Numbers Database "no" stays fresh
  after it was queried (federal row only; the RND is updated monthly, so
  30 x 24 h [S/?]; read through compliance.rnd.answers.rnd_fresh_window).
- `citation`, `certainty` ("P" primary text seen, "S" secondary source,
  "?" uncertain, as marked in REGULATIONS.md), `note`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Literal, overload

RULES_FILE = Path(__file__).with_name("rules.toml")

FEDERAL = "US"
# The states, DC and the territories (the jurisdictions a state rule may name).
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"
)
STATES = frozenset(_STATE_CODES.split())
APPLIES_TO = ("marketing", "all", "automated")
HOLIDAY_BANS = ("none", "all", "without_consent")
CERTAINTIES = ("P", "S", "?")
AUTOMATED_MODES = frozenset({"autodialed", "prerecorded"})
CLOSED = "closed"

RECORD_DEFAULTS: dict[str, object] = {
    "effective_to": None,
    "saturday_window": None,  # None: the weekday window
    "sunday_window": None,
    "holiday_ban": "none",
    "cap_per_24h": None,
    "written_consent_for_sales": False,
    "dnc_request_cooldown_days": 0,
    "own_dnc_list": False,
    "dnc_list_max_age_days": 31,
    "ebr_purchase_months": 0,
    "ebr_inquiry_months": 0,
    "rnd_fresh_hours": 720,
    "note": "",
}
REQUIRED_KEYS = ("jurisdiction", "effective_from", "applies_to", "weekday_window", "citation", "certainty")
RECORD_KEYS = (
    "jurisdiction",
    "effective_from",
    "effective_to",
    "applies_to",
    "weekday_window",
    "saturday_window",
    "sunday_window",
    "holiday_ban",
    "cap_per_24h",
    "written_consent_for_sales",
    "dnc_request_cooldown_days",
    "own_dnc_list",
    "dnc_list_max_age_days",
    "ebr_purchase_months",
    "ebr_inquiry_months",
    "rnd_fresh_hours",
    "citation",
    "certainty",
    "note",
)

Window = tuple[time, time] | None
_WINDOW_RE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


class RuleError(ValueError):
    """A record that is not a valid rule; `field` names the offending key
    (the admin attaches the message to that form field)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Rule:
    jurisdiction: str
    effective_from: date
    effective_to: date | None
    applies_to: str
    # Monday..Sunday (date.weekday() order): (start, end) local, end exclusive; None = closed.
    windows: tuple[Window, Window, Window, Window, Window, Window, Window]
    holiday_ban: str
    cap_per_24h: int | None
    written_consent_for_sales: bool
    dnc_request_cooldown_days: int
    own_dnc_list: bool
    dnc_list_max_age_days: int
    ebr_purchase_months: int
    ebr_inquiry_months: int
    rnd_fresh_hours: int
    citation: str
    certainty: str
    note: str

    def effective_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def applies(self, purpose: str, dialing_mode: str) -> bool:
        if self.applies_to == "all":
            return True
        if self.applies_to == "marketing":
            return purpose == "marketing"
        return dialing_mode in AUTOMATED_MODES

    def to_record(self) -> dict:
        """The canonical flat record (what `rule_from_record` accepts)."""
        return {
            "jurisdiction": self.jurisdiction,
            "effective_from": self.effective_from,
            "effective_to": self.effective_to,
            "applies_to": self.applies_to,
            "weekday_window": window_text(self.windows[0]),
            "saturday_window": window_text(self.windows[5]),
            "sunday_window": window_text(self.windows[6]),
            "holiday_ban": self.holiday_ban,
            "cap_per_24h": self.cap_per_24h,
            "written_consent_for_sales": self.written_consent_for_sales,
            "dnc_request_cooldown_days": self.dnc_request_cooldown_days,
            "own_dnc_list": self.own_dnc_list,
            "dnc_list_max_age_days": self.dnc_list_max_age_days,
            "ebr_purchase_months": self.ebr_purchase_months,
            "ebr_inquiry_months": self.ebr_inquiry_months,
            "rnd_fresh_hours": self.rnd_fresh_hours,
            "citation": self.citation,
            "certainty": self.certainty,
            "note": self.note,
        }


@lru_cache(maxsize=1024)
def window_text(window: Window) -> str:
    if window is None:
        return CLOSED
    start, end = window
    return f"{start:%H:%M}-{end:%H:%M}"


def window_parse(value: object, field_name: str) -> Window:
    if not isinstance(value, str):
        raise RuleError(field_name, f'expected "HH:MM-HH:MM" or "{CLOSED}", got {value!r}')
    text = value.strip()
    if text.lower() == CLOSED:
        return None
    match = _WINDOW_RE.fullmatch(text)
    if not match:
        raise RuleError(field_name, f'expected "HH:MM-HH:MM" or "{CLOSED}", got {value!r}')
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise RuleError(field_name, f"not a time of day in {value!r}")
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise RuleError(field_name, f"the window must end after it starts, got {value!r}")
    return (start, end)


@overload
def _date(record: Mapping, key: str, *, required: Literal[True]) -> date: ...
@overload
def _date(record: Mapping, key: str, *, required: Literal[False]) -> date | None: ...
def _date(record: Mapping, key: str, *, required: bool) -> date | None:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise RuleError(key, "a date is required")
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise RuleError(key, f"expected a date YYYY-MM-DD, got {value!r}") from None
    if type(value) is not date:  # a datetime is a date too, but not a day
        raise RuleError(key, f"expected a date, got {value!r}")
    return value


@overload
def _int(record: Mapping, key: str, *, minimum: int, optional: Literal[False] = False) -> int: ...
@overload
def _int(record: Mapping, key: str, *, minimum: int, optional: Literal[True]) -> int | None: ...
def _int(record: Mapping, key: str, *, minimum: int, optional: bool = False) -> int | None:
    value = record.get(key, RECORD_DEFAULTS.get(key))
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(key, f"expected a whole number, got {value!r}")
    if value < minimum:
        raise RuleError(key, f"must be at least {minimum}, got {value}")
    return value


def _bool(record: Mapping, key: str) -> bool:
    value = record.get(key, RECORD_DEFAULTS[key])
    if not isinstance(value, bool):
        raise RuleError(key, f"expected true or false, got {value!r}")
    return value


def _choice(record: Mapping, key: str, choices: tuple[str, ...]) -> str:
    value = record.get(key, RECORD_DEFAULTS.get(key))
    if value not in choices:
        raise RuleError(key, f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def _text(record: Mapping, key: str, *, required: bool) -> str:
    value = record.get(key, RECORD_DEFAULTS.get(key, ""))
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RuleError(key, f"expected text, got {value!r}")
    if required and not value.strip():
        raise RuleError(key, "is required")
    return value.strip()


def rule_from_record(record: Mapping) -> Rule:
    """Validate one flat record and parse it. Raises `RuleError` (a
    ValueError) naming the field. Keys other than the rule's are ignored."""
    jurisdiction = record.get("jurisdiction")
    if not isinstance(jurisdiction, str) or jurisdiction.strip().upper() not in STATES | {FEDERAL}:
        raise RuleError("jurisdiction", f'expected "US" or a two-letter state code, got {jurisdiction!r}')
    jurisdiction = jurisdiction.strip().upper()
    effective_from = _date(record, "effective_from", required=True)
    effective_to = _date(record, "effective_to", required=False)
    if effective_to is not None and effective_to <= effective_from:
        raise RuleError("effective_to", "must be after effective_from (it is exclusive)")
    weekday = window_parse(record.get("weekday_window"), "weekday_window")
    saturday = sunday = weekday
    if record.get("saturday_window") not in (None, ""):
        saturday = window_parse(record["saturday_window"], "saturday_window")
    if record.get("sunday_window") not in (None, ""):
        sunday = window_parse(record["sunday_window"], "sunday_window")
    holiday_ban = _choice(record, "holiday_ban", HOLIDAY_BANS)
    if holiday_ban == "without_consent" and weekday is None:
        raise RuleError("weekday_window", "a rule lifted by consent needs a weekday window to fall back on")
    return Rule(
        jurisdiction=jurisdiction,
        effective_from=effective_from,
        effective_to=effective_to,
        applies_to=_choice(record, "applies_to", APPLIES_TO),
        windows=(weekday, weekday, weekday, weekday, weekday, saturday, sunday),
        holiday_ban=holiday_ban,
        cap_per_24h=_int(record, "cap_per_24h", minimum=1, optional=True),
        written_consent_for_sales=_bool(record, "written_consent_for_sales"),
        dnc_request_cooldown_days=_int(record, "dnc_request_cooldown_days", minimum=0),
        own_dnc_list=_bool(record, "own_dnc_list"),
        dnc_list_max_age_days=_int(record, "dnc_list_max_age_days", minimum=1),
        ebr_purchase_months=_int(record, "ebr_purchase_months", minimum=0),
        ebr_inquiry_months=_int(record, "ebr_inquiry_months", minimum=0),
        rnd_fresh_hours=_int(record, "rnd_fresh_hours", minimum=1),
        citation=_text(record, "citation", required=True),
        certainty=_choice(record, "certainty", CERTAINTIES),
        note=_text(record, "note", required=False),
    )


def rule_records_from_toml(path: Path = RULES_FILE) -> list[dict]:
    """The records of a rules file as plain dicts with every key (defaults
    filled: Saturday and Sunday windows copy the weekday one), dates as
    `datetime.date`. Unknown keys are an error (a typo would silently drop a
    rule's effect)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    unexpected = set(data) - {"rule"}
    if unexpected:
        raise ValueError(f"{path}: unexpected top-level keys {sorted(unexpected)}; rules are [[rule]] tables")
    records = []
    for position, raw in enumerate(data.get("rule", []), start=1):
        unknown = set(raw) - set(RECORD_KEYS)
        if unknown:
            raise ValueError(f"{path}: rule #{position}: unknown keys {sorted(unknown)}")
        missing = [key for key in REQUIRED_KEYS if key not in raw]
        if missing:
            raise ValueError(f"{path}: rule #{position}: missing keys {missing}")
        record = {key: raw.get(key, RECORD_DEFAULTS.get(key)) for key in RECORD_KEYS}
        record["saturday_window"] = record["saturday_window"] or record["weekday_window"]
        record["sunday_window"] = record["sunday_window"] or record["weekday_window"]
        try:
            rule_from_record(record)
        except RuleError as error:
            raise ValueError(f"{path}: rule #{position} ({raw.get('jurisdiction')}): {error}") from None
        records.append(record)
    return records


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    version: str
    _by_jurisdiction: dict[str, tuple[Rule, ...]] = field(init=False, repr=False, compare=False)
    _effective: dict[tuple[str, date], tuple[Rule, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Rule]] = {}
        for rule in self.rules:
            index.setdefault(rule.jurisdiction, []).append(rule)
        object.__setattr__(self, "_by_jurisdiction", {key: tuple(value) for key, value in index.items()})
        object.__setattr__(self, "_effective", {})

    def rules_for(self, jurisdiction: str, on: date) -> tuple[Rule, ...]:
        """The rules of a jurisdiction in effect on a (local) date. Memoised:
        decide asks for the same few (jurisdiction, date) pairs all day."""
        key = (jurisdiction, on)
        found = self._effective.get(key)
        if found is None:
            if len(self._effective) > 50_000:
                self._effective.clear()
            found = tuple(
                rule for rule in self._by_jurisdiction.get(jurisdiction, ()) if rule.effective_on(on)
            )
            self._effective[key] = found
        return found

    def federal_rules(self, on: date) -> tuple[Rule, ...]:
        return self.rules_for(FEDERAL, on)

    def federal_rule(self, on: date) -> Rule | None:
        """The federal rule in effect on a date (the latest to start if
        several overlap), None if there is none."""
        found = self.rules_for(FEDERAL, on)
        return max(found, key=lambda rule: rule.effective_from) if found else None

    def state_rules(self, state: str, on: date) -> tuple[Rule, ...]:
        return self.rules_for(state, on)


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


def ruleset_version(rules: Iterable[Rule]) -> str:
    canonical = sorted(
        json.dumps({k: _jsonable(v) for k, v in rule.to_record().items()}, sort_keys=True) for rule in rules
    )
    return hashlib.sha256(("[" + ",".join(canonical) + "]").encode()).hexdigest()[:16]


def ruleset_build(records: Iterable[Mapping]) -> RuleSet:
    """Parse and validate records into a RuleSet. The version hashes the
    canonical form of every record, so the same rules give the same version
    whether they come from the file or the database, in any order."""
    rules = tuple(rule_from_record(record) for record in records)
    rules = tuple(sorted(rules, key=lambda rule: (rule.jurisdiction, rule.effective_from)))
    return RuleSet(rules=rules, version=ruleset_version(rules))


def ruleset_from_file(path: Path = RULES_FILE) -> RuleSet:
    return ruleset_build(rule_records_from_toml(path))


def rules_seed(apps, using: str) -> int:
    """Seed the rule table from rules.toml when it is empty (a new
    deployment, or a database just flushed), with a history row for each rule
    saying where it came from. Never touches existing rules: compliance
    officers own them. Returns how many rules were seeded."""
    from django.utils import timezone

    rule_model = apps.get_model("compliance", "JurisdictionRule")
    history_model = apps.get_model("compliance", "HistoricalJurisdictionRule")
    if rule_model.objects.using(using).exists():
        return 0
    now = timezone.now()
    # A migration's model may predate keys added since (0002 seeds before 0011's rnd_fresh_hours).
    known = {field.name for field in rule_model._meta.get_fields()}
    records = [
        {key: value for key, value in record.items() if key in known} for record in rule_records_from_toml()
    ]
    for record in records:
        rule = rule_model.objects.using(using).create(**record)
        history_model.objects.using(using).create(
            id=rule.pk,
            **record,
            updated_at=rule.updated_at,
            history_date=now,
            history_type="+",
            history_change_reason="seeded from compliance/rules/rules.toml",
        )
    return len(records)


def rules_seed_after_migrate(sender, *, using: str = "default", apps=None, **kwargs) -> None:
    """post_migrate also follows `flush`, which empties every table: the rules
    come back from the file, so the engine never runs without its rule data.
    (`flush` sends no migration state: the installed models serve then.)"""
    from django.apps import apps as global_apps

    rules_seed(apps or global_apps, using)
