"""The call-history provider: how many times a number was called lately.

The compliance engine needs attempt counts (state caps such as Florida's 3 per
24 h on one subject, a campaign's own daily cap) but the calls are made by an
app above it. That app registers a provider here in its `AppConfig.ready()`;
the engine asks the registered provider and never imports the app's models.
No provider registered is an error, not zero attempts: fail closed.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

WINDOW = timedelta(hours=24)  # the rolling window every count is taken over


@dataclass(frozen=True, slots=True)
class AttemptCounts:
    """Calls handed out to a number in the window before an instant."""

    same_subject: int = 0  # across campaigns on the same subject (state caps)
    campaign: int = 0  # in this campaign (its own cap)


@dataclass(frozen=True, slots=True)
class SqlFragment:
    """An SQL expression yielding `ARRAY[same_subject, campaign]` (bigint),
    with its named parameters (pyformat, names unique to the provider)."""

    sql: str
    params: dict[str, Any]


class CallHistoryProvider(Protocol):
    """Attempts handed out to a number in the `WINDOW` before `at` (after
    `at - WINDOW`, up to and including `at`): on `subject` across campaigns,
    and in campaign `campaign_id` (0 when None)."""

    def attempts_24h(
        self, *, e164: str, subject: str, campaign_id: int | None, at: datetime
    ) -> AttemptCounts: ...

    def attempts_24h_many(
        self, *, numbers: Collection[str], subject: str, campaign_id: int | None, at: datetime
    ) -> dict[str, AttemptCounts]:
        """Counts per E.164 number, in one query whatever the count; a number
        never called may be absent (zero)."""
        ...

    def attempts_24h_sql(
        self, *, number_sql: str, subject_sql: str, campaign_sql: str, at: datetime
    ) -> SqlFragment | None:
        """The same counts as a scalar subquery of a larger SELECT, in which
        `number_sql`, `subject_sql` and `campaign_sql` are SQL expressions of
        that SELECT giving the E.164 number, the subject and the campaign id
        (a parameter, or a column of a row the same statement reads), so that
        a one-round-trip fact read takes them too; None when the provider
        cannot (one more query)."""
        ...


class CallHistoryMissing(RuntimeError):
    """No call-history provider is registered: attempts cannot be counted."""


_provider: CallHistoryProvider | None = None


def call_history_register(provider: CallHistoryProvider) -> None:
    """Register the provider (one per deployment; registering again replaces it)."""
    global _provider
    _provider = provider


def call_history_provider() -> CallHistoryProvider:
    """The registered provider; raises CallHistoryMissing when there is none."""
    if _provider is None:
        raise CallHistoryMissing(
            "No call-history provider is registered: attempt counts cannot be gathered, "
            "so no call can be decided. The app making calls registers one in AppConfig.ready()."
        )
    return _provider
