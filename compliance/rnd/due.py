"""What must be asked of the RND: the numbers that will be called on
consent, or called for marketing in Maine, and the date to send for each.

Who calls what is known by an app above compliance (campaigns). It registers
a provider here from its `AppConfig.ready()`; compliance asks the provider
and never imports the app. No provider registered is an error, not "nothing
due": fail closed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RndDue:
    """One query to send: the number, the date to send and which date it is
    (compliance.rnd.answers.DATE_KINDS), and the consent it is asked for."""

    number: str  # E.164
    date_sent: date
    date_kind: str
    consent_id: int | None = None


class RndDueProvider(Protocol):
    def rnd_due(self, *, campaign_id: int | None, at: datetime) -> Iterable[RndDue]:
        """Every (number, date) the calls planned at `at` rely on (of one
        campaign, or of every active one), answered or not: compliance drops
        those with a fresh answer and the duplicates."""
        ...


class RndDueProviderMissing(RuntimeError):
    """No provider is registered: what is due cannot be known."""


_providers: dict[str, RndDueProvider] = {}


def rnd_due_provider_register(name: str, provider: RndDueProvider) -> None:
    """Register (or, with the same name, replace) an app's provider."""
    _providers[name] = provider


def rnd_due_providers() -> list[RndDueProvider]:
    if not _providers:
        raise RndDueProviderMissing(
            "No RND due provider is registered: the numbers to query cannot be known. "
            "The app making calls registers one in AppConfig.ready()."
        )
    return [_providers[name] for name in sorted(_providers)]
