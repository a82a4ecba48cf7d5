"""Retention: how long each category of data is kept, and the purge that
enforces it (GDPR 5(1)(e) storage limitation; the TSR, the FCC and the CCPA
set the minimums).

Apps register their categories with core.retention (`retention_category_register`,
from their AppConfig.ready); compliance imports no app. A category names a
model, the date its age counts from, what may be done when it expires (delete
or anonymise), its legal minimum, and which rows are never touched (legal
holds, records still in force). A policy (RetentionPolicy, edited by compliance
officers in the admin, with history) sets the period and the action.

The purge works in batches by primary key, each in its own short
transaction, re-applying the category's conditions in the DELETE itself (a
row put on legal hold between two batches is not purged). Deletes are set-
based: a history-tracked model's history rows of the purged objects go with
them in the same transaction (the data must not survive in its history),
with no per-row signals. Every run is recorded (PurgeRun).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.history import history_note, history_user
from core.retention import (
    ANONYMISE,
    DELETE,
    RetentionCategory,
    legal_minimum_error,
    retention_categories,
    retention_category,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


def retention_policies_ensure(sender=None, *, using: str = "default", **kwargs) -> None:
    """A policy row per registered category, with its defaults, where none
    exists (post_migrate; never changes an existing policy)."""
    from compliance.models import RetentionPolicy

    for category in retention_categories().values():
        if not RetentionPolicy.objects.using(using).filter(category=category.key).exists():
            policy = RetentionPolicy(
                category=category.key,
                period_days=category.default_days,
                action=category.actions[0],
                active=category.default_active,
            )
            history_note(policy, by=None, reason="default policy of a new data category")
            policy.save(using=using)


@dataclass
class _Tally:
    examined: int = 0
    deleted: int = 0
    anonymised: int = 0
    batches: int = 0
    batch_ms: list[float] = field(default_factory=list)


def retention_purge(
    *,
    category: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    by=None,
    trigger: str = "task",
    batch_size: int = BATCH_SIZE,
):
    """Apply every active policy (or only `category`'s, active or not);
    returns the purge runs recorded."""
    from compliance.models import PurgeRun, RetentionPolicy

    now = now or timezone.now()
    policies = RetentionPolicy.objects.order_by("category")
    policies = policies.filter(category=category) if category else policies.filter(active=True)
    runs = []
    for policy in policies:
        spec = retention_category(policy.category)
        if spec is None:
            logger.warning("retention policy %s names no registered category; skipped", policy.category)
            continue
        run = PurgeRun.objects.create(
            category=policy.category,
            action=policy.action,
            period_days=policy.period_days,
            cutoff=now - timedelta(days=policy.period_days),
            dry_run=dry_run,
            started_at=timezone.now(),
            trigger=trigger,
            triggered_by=history_user(by),
        )
        started = time.monotonic()
        tally = _Tally()
        try:
            problem = legal_minimum_error(spec, policy.period_days)
            if problem:  # a policy edited outside the admin: refuse rather than purge too early
                raise ValueError(problem)
            if dry_run:
                tally.examined = spec.expired(run.cutoff).count()
            else:
                _purge(spec, policy.action, run.cutoff, by, batch_size, tally)
            run.status = PurgeRun.Status.SUCCEEDED
        except Exception as exc:
            run.status = PurgeRun.Status.FAILED
            run.error = str(exc)[:2000]
            logger.exception("retention purge of %s failed", policy.category)
        run.examined, run.deleted, run.anonymised = tally.examined, tally.deleted, tally.anonymised
        run.batches = tally.batches
        run.max_batch_ms = max(tally.batch_ms, default=None)
        run.finished_at = timezone.now()
        run.duration = timedelta(seconds=time.monotonic() - started)
        run.save()
        logger.info(
            "retention %s%s: %s examined, %s deleted, %s anonymised in %s batch(es), %.1f s",
            policy.category,
            " (dry run)" if dry_run else "",
            run.examined,
            run.deleted,
            run.anonymised,
            run.batches,
            run.duration.total_seconds(),
        )
        runs.append(run)
    return runs


def _purge(
    spec: RetentionCategory, action: str, cutoff: datetime, by, batch_size: int, tally: _Tally
) -> None:
    model = spec.model_class()
    history = getattr(model, "history", None) if spec.also_delete_history else None
    last = None
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # For this transaction only: its commit does not wait for the WAL flush
                    # (a crash may lose the last batches, which the next run purges
                    # again; the purge run's own record commits as usual); and no
                    # merge join is planned: estimating one reads the join keys'
                    # index ends, which the purge fills with dead entries until the
                    # next vacuum (planning took 0.4 s after 1M rows), and a batch
                    # of a few thousand rows never wants one.
                    cursor.execute(
                        "SELECT set_config('synchronous_commit', 'off', true), "
                        "set_config('enable_mergejoin', 'off', true)"
                    )
            expired = spec.expired(cutoff)
            page = (expired.filter(pk__gt=last) if last is not None else expired).order_by("pk")
            if action == DELETE and spec.purge is not None:
                ids = list(page.values_list("pk", flat=True)[:batch_size])
                count, last_pk = len(ids), ids[-1] if ids else None
                tally.deleted += spec.purge(ids)
            elif action == DELETE and spec.delete_dependents is None and connection.vendor == "postgresql":
                # One statement: the category's conditions in the DELETE itself
                # (the first `batch_size` expired rows past the last batch), and
                # the history rows of the rows it deleted.
                count, last_pk = _delete_batch(model, history, page.values("pk")[:batch_size])
                tally.deleted += count
            else:
                # Chosen under the conditions in this batch's transaction, so that
                # dependents go first; then deleted (or anonymised) by primary key.
                ids = list(page.values_list("pk", flat=True)[:batch_size])
                count, last_pk = len(ids), ids[-1] if ids else None
                if ids and action == ANONYMISE:
                    anonymise = spec.anonymise
                    assert anonymise is not None  # registering an anonymising category requires one
                    tally.anonymised += anonymise(ids, by)
                elif ids:
                    doomed = model._default_manager.filter(pk__in=ids)
                    if spec.delete_dependents is not None:
                        spec.delete_dependents(doomed)
                    if history is not None:
                        _history_delete(model, history, ids)
                    tally.deleted += doomed._raw_delete(doomed.db)
            if not count:
                return
        last = last_pk
        tally.batch_ms.append((time.perf_counter() - started) * 1000)
        tally.examined += count
        tally.batches += 1


def rows_unreferenced(rows: models.QuerySet, cutoff: datetime) -> models.QuerySet:
    """Rows no other table's foreign key still points at (a call attempt keeps
    its decision, PROTECT): the purge leaves them for a later run."""
    for relation in rows.model._meta.get_fields(include_hidden=True):
        if relation.one_to_many and relation.auto_created and getattr(relation.field, "db_constraint", False):
            referencing = relation.related_model._base_manager.filter(**{relation.field.name: OuterRef("pk")})
            rows = rows.filter(~Exists(referencing))
    return rows


def _delete_batch(model: type[models.Model], history, pks: models.QuerySet) -> tuple[int, object]:
    """PostgreSQL: DELETE the rows whose primary key `pks` selects, and their
    history rows, in one statement (no signals, no cascade, as _raw_delete);
    returns (rows deleted, their largest primary key). The subquery runs
    once (an InitPlan), then rows are found by primary key, whatever the
    table's size; no key travels to Python and back."""
    quote = connection.ops.quote_name
    sql, params = pks.query.sql_with_params()
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    statement = f"WITH doomed AS (DELETE FROM {table} WHERE {pk} = ANY(ARRAY({sql})) RETURNING {pk} AS pk)"
    if history is not None:
        history_table = quote(history.model._meta.db_table)
        history_pk = quote(history.model._meta.get_field(model._meta.pk.attname).column)
        statement += f", gone AS (DELETE FROM {history_table} WHERE {history_pk} IN (SELECT pk FROM doomed))"
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} SELECT count(*), max(pk) FROM doomed", params)
        return cursor.fetchone()


def _history_delete(model: type[models.Model], history, pks: list) -> None:
    """The history rows of these objects (the data must not survive in its history)."""
    rows = history.model._default_manager.filter(**{f"{model._meta.pk.attname}__in": pks})
    rows._raw_delete(rows.db)
