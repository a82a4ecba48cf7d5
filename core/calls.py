"""The calls-made provider: the calls handed out to a customer's numbers, for
apps that do not make calls (the help desk links a complaint to them and
lists them in a data access answer; compliance's proof of a call shows one).

Calls belong to the app that makes them (campaigns), which registers a
provider here in its `AppConfig.ready()`; the readers never import its
models. No provider registered is an error, not "no calls": an access answer
or a complaint missing its calls would be wrong without saying so.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CallMade:
    """One call handed out, as the readers need it."""

    id: int
    number: str  # E.164
    campaign: str  # the campaign's name
    handed_at: datetime
    ended_at: datetime | None
    outcome: str  # "" until recorded
    notes: str
    decision_id: int | None


class CallsMadeProvider(Protocol):
    def calls_of_customer(self, *, customer_id: int, since: datetime | None = None) -> list[CallMade]:
        """The calls to the customer's numbers (handed out at or after
        `since` when given), oldest first; a fixed number of queries."""
        ...

    def call_get(self, *, call_id: int) -> Any | None:
        """One call as the making app records it, for display (its campaign,
        agent, number with its customer, and decision with its actor read
        with it); None when there is no such call."""
        ...

    def campaign_name(self, *, campaign_id: int) -> str | None:
        """The name of a campaign, for a reader that holds only its id (a
        decision names its campaign by id, and a check or a blocked
        hand-off made no call); None when there is no such campaign."""
        ...


class CallsMadeMissing(RuntimeError):
    """No calls-made provider is registered: the calls cannot be read."""


_provider: CallsMadeProvider | None = None


def calls_made_register(provider: CallsMadeProvider) -> None:
    """Register the provider (one per deployment; registering again replaces it)."""
    global _provider
    _provider = provider


def calls_made_provider() -> CallsMadeProvider:
    """The registered provider; raises CallsMadeMissing when there is none."""
    if _provider is None:
        raise CallsMadeMissing(
            "No calls-made provider is registered: the app making calls registers one in AppConfig.ready()."
        )
    return _provider
