"""Writes that leave history with who and why, also outside requests.

django-simple-history takes the user from the request (middleware); services
pass it explicitly so that commands, tasks and the API record it too.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.db import models
from simple_history.utils import bulk_create_with_history

REASON_MAX = 100  # django-simple-history's history_change_reason column

_M = TypeVar("_M", bound=models.Model)


def reason_fit(reason: str) -> str:
    """The change reason as the history column holds it: one carrying a
    user's note (an opt-out's, a hold's) is cut with an ellipsis, not refused
    by the database."""
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


def history_user(by):
    """The user a record names for `by`: the user when one is signed in, None
    for no user or an anonymous one (a command, a task, a public form)."""
    return by if getattr(by, "is_authenticated", False) else None


def history_note(instance: models.Model, *, by, reason: str) -> None:
    """Who and why, for the history row that `instance`'s next save or delete
    writes (django-simple-history reads these two instance attributes)."""
    # simple-history sets and reads them by convention, not on the model class, and ships no types.
    instance._history_user = by  # type: ignore[attr-defined]
    instance._change_reason = reason_fit(reason)  # type: ignore[attr-defined]


def history_save(instance: _M, *, by, reason: str, **save_kwargs) -> _M:
    history_note(instance, by=by, reason=reason)
    instance.save(**save_kwargs)
    return instance


def history_bulk_create(
    model: type[_M], objs: Sequence[_M], *, by, reason: str, batch_size: int = 2000
) -> list[_M]:
    """bulk_create that also writes one history row per object (plain
    bulk_create writes none)."""
    return bulk_create_with_history(
        list(objs), model, batch_size=batch_size, default_user=by, default_change_reason=reason_fit(reason)
    )
