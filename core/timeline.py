"""Timeline sources: the contact record (compliance's timeline page) shows
what every app holds about a number or a customer, in time order. Apps that
sit above compliance (campaigns' calls, the help desk's ticket actions)
register a source here in their `AppConfig.ready()`; the timeline asks each
registered source and imports no app. They also register links to what an
entry of a lower app names by id only (a decision's campaign).

Each entry is placed at the instant it is about (a decision at the instant
decided for, a call when it was handed out), not when its row was written:
`logged_at` keeps the latter where the two differ (a past call entered later)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from core.words import person_name


@dataclass(frozen=True)
class TimelineLink:
    text: str
    url: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    who: str = ""
    via: str = ""
    link: str = ""  # the page of what the title names
    links: tuple[TimelineLink, ...] = ()  # the pages of other things the entry names
    logged_at: datetime | None = None  # when it was written, if not at `at`
    # Entries about one thing (a decision and the call it allowed) share a group:
    # at the same instant they stay together, in their sources' order.
    group: str = ""


@dataclass(frozen=True)
class TimelineQuery:
    """Whose record, and the period asked for."""

    customer_id: int | None
    phone_ids: list[int]  # the customer's PhoneNumber ids
    numbers: list[str]  # E.164
    since: datetime | None = None
    until: datetime | None = None

    def within(self, field_name: str) -> Q:
        """`field_name` (a datetime) in the period asked for."""
        condition = Q()
        if self.since:
            condition &= Q(**{f"{field_name}__gte": self.since})
        if self.until:
            condition &= Q(**{f"{field_name}__lt": self.until})
        return condition


@dataclass(frozen=True)
class TimelineSource:
    kind: str  # the filter's key, e.g. "call"
    label: str  # the filter's label, e.g. "Calls"
    order: int  # at the same instant, lower first (record changes 0, decisions 2)
    entries: Callable[[TimelineQuery], list[TimelineEntry]]


_SOURCES: dict[str, TimelineSource] = {}


def timeline_source_register(source: TimelineSource) -> None:
    _SOURCES[source.kind] = source


def timeline_sources() -> list[TimelineSource]:
    return sorted(_SOURCES.values(), key=lambda source: source.order)


# kind -> ids -> a link per id that still exists (one query whatever the count).
TimelineLinker = Callable[[Collection[int]], dict[int, TimelineLink]]
_LINKERS: dict[str, TimelineLinker] = {}


def timeline_linker_register(kind: str, linker: TimelineLinker) -> None:
    _LINKERS[kind] = linker


def timeline_links(kind: str, ids: Collection[int]) -> dict[int, TimelineLink]:
    """Links to the things of `kind` (e.g. "campaign") with these ids, from
    the app that registered them; none when no app did."""
    linker = _LINKERS.get(kind)
    return linker(ids) if linker and ids else {}


def timeline_who(user) -> str:
    """How an entry names who acted: the user's name, or "system"."""
    return person_name(user) if user else "system"
