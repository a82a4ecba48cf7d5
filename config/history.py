"""Writes that leave history with who and why, also outside requests.

django-simple-history takes the user from the request (middleware); services
pass it explicitly so that commands, tasks and the API record it too.
"""

from collections.abc import Sequence

from django.db import models
from simple_history.utils import bulk_create_with_history


def history_save(instance: models.Model, *, by, reason: str, **save_kwargs) -> models.Model:
    instance._history_user = by
    instance._change_reason = reason
    instance.save(**save_kwargs)
    return instance


def history_bulk_create(
    model: type[models.Model], objs: Sequence[models.Model], *, by, reason: str, batch_size: int = 2000
) -> list[models.Model]:
    """bulk_create that also writes one history row per object (plain
    bulk_create writes none)."""
    return bulk_create_with_history(
        list(objs), model, batch_size=batch_size, default_user=by, default_change_reason=reason
    )
