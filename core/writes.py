"""Several rows written in one round trip, with the history they owe.

A hand-off writes a target, its history row and a call attempt. `WriteBatch`
collects such writes and sends them together: on PostgreSQL as one statement
(each write a data-modifying WITH of the SQL Django's own save() compiles),
elsewhere (the SQLite demo) one save after the other, as before. The writes of
one statement see the same snapshot and run in no set order, so a batch never
holds two writes of one row, nor a write that reads another's.

`save_with_history` writes the history row django-simple-history writes on
save (`core.history.history_save`: who, why, the row's values, history type
"~"); no model signal is sent, and the models batched here have no receiver
but simple-history's.

Each write is the SQL Django's save() sends, with the values save() sends
(each field's `pre_save` and `get_db_prep_save`), written out from the
model's fields rather than through Django's query compilers: compiling an
UPDATE and an INSERT cost a hand-off more than running them (issue 17). A
value that is an expression (a database default, an F()) and a field with a
placeholder of its own go through Django's compiler as before.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Field, Model, Q
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from core.history import history_save, reason_fit
from core.prepared import PreparedInsert


@dataclass
class _Write:
    sql: str
    params: list[Any]
    instance: Model
    inserted: bool  # an INSERT whose returned columns are set on `instance`


class WriteBatch:
    def __init__(self) -> None:
        self._writes: list[_Write] = []
        self._portable: list[tuple[Model, dict[str, Any]]] = []  # (instance, its save's arguments)

    def save_with_history(
        self, instance: Model, *, by, reason: str, update_fields: Sequence[str] | None = None
    ) -> None:
        """`history_save(instance, by=by, reason=reason)` of an existing row:
        its UPDATE (`update_fields`, or every field; auto_now ones set) and its
        history row."""
        _check_fields(type(instance), update_fields)
        if connection.vendor != "postgresql":
            self._portable.append((instance, {"by": by, "reason": reason, "update_fields": update_fields}))
            return
        self._update(instance, update_fields)
        history = _history_model(type(instance))
        row = history(
            history_date=getattr(instance, "_history_date", timezone.now()),
            history_type="~",
            history_user=by,
            history_change_reason=reason_fit(reason),
            **{field.attname: getattr(instance, field.attname) for field in history.tracked_fields},
        )
        self._insert(row)

    def update(self, instance: Model, *, update_fields: Sequence[str]) -> None:
        """`instance.save(update_fields=update_fields)` of a model without history."""
        assert not hasattr(instance._meta, "simple_history_manager_attribute"), "history: save_with_history"
        _check_fields(type(instance), update_fields)
        if connection.vendor != "postgresql":
            self._portable.append((instance, {"update_fields": update_fields}))
            return
        self._update(instance, update_fields)

    def _update(self, instance: Model, update_fields: Sequence[str] | None) -> None:
        model = type(instance)
        fields, sql = _update_of(model, None if update_fields is None else tuple(update_fields))
        values = [f.pre_save(instance, False) for f in fields]
        if sql is not None and not any(hasattr(value, "resolve_expression") for value in values):
            pk = model._meta.pk
            assert pk is not None
            params = [
                *(f.get_db_prep_save(value, connection) for f, value in zip(fields, values, strict=True)),
                pk.get_db_prep_value(instance.pk, connection),
            ]
        else:
            query = UpdateQuery(model)
            query.add_update_fields(list(zip(fields, [None] * len(fields), values, strict=True)))
            query.add_q(Q(pk=instance.pk))
            sql, compiled = query.get_compiler(connection=connection).as_sql()
            sql, params = f"{sql} RETURNING 1", list(compiled)
        self._writes.append(_Write(sql, params, instance, inserted=False))

    def insert(self, instance: Model) -> None:
        """`instance.save()` of a new row of a model without history; its
        primary key is set when the batch runs."""
        assert not hasattr(instance._meta, "simple_history_manager_attribute"), "history: save_with_history"
        if connection.vendor != "postgresql":
            self._portable.append((instance, {}))
            return
        self._insert(instance)

    def _insert(self, instance: Model) -> None:
        prepared = _insert_of(type(instance))
        # None: an expression, or a field that places its value: Django's compiler places them.
        statement = prepared.statement(instance, connection) or prepared.statement_compiled(
            instance, connection
        )
        self._writes.append(_Write(*statement, instance, inserted=True))

    def run(self) -> None:
        """Send the writes: one statement on PostgreSQL, one save after the other elsewhere."""
        for instance, saving in self._portable:
            if "reason" in saving:
                history_save(instance, **saving)
            else:
                instance.save(**saving)
        if not self._writes:
            return
        ctes = ",\n".join(f"w{i} AS ({write.sql})" for i, write in enumerate(self._writes))
        quote = connection.ops.quote_name
        results = [
            ", ".join(f"(SELECT {quote(f.column)} FROM w{i})" for f in _returned(write))
            if write.inserted
            else f"(SELECT count(*) FROM w{i})"
            for i, write in enumerate(self._writes)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {ctes}\nSELECT {', '.join(results)}",
                [param for write in self._writes for param in write.params],
            )
            values = iter(cursor.fetchone())
        for write in self._writes:
            if not write.inserted:
                if not next(values):
                    raise DatabaseError(f"{write.instance!r} was not updated: its row is gone.")
                continue
            returned = [next(values) for _field in _returned(write)]
            _insert_of(type(write.instance)).returned(write.instance, returned, connection)
        self._writes, self._portable = [], []


def _returned(write: _Write):
    return write.instance._meta.db_returning_fields


def _check_fields(model: type[Model], update_fields: Sequence[str] | None) -> None:
    """ValueError for an UPDATE that would write nothing (no fields named) or
    leave a named field unwritten (no such concrete field): on either
    database, before anything is sent."""
    if update_fields is None:
        return
    if not update_fields:
        raise ValueError(f"An update of {model.__name__} names no field to write.")
    names = {name for f in _updatable(model) for name in (f.name, f.attname)}
    unknown = set(update_fields) - names
    if unknown:
        raise ValueError(f"{model.__name__} has no field to update named {', '.join(sorted(unknown))}.")


@functools.cache
def _updatable(model: type[Model]) -> "tuple[Field[Any, Any], ...]":
    """The fields an UPDATE may set, as save() picks them: concrete, of this table, not the key, not generated."""
    return tuple(f for f in model._meta.local_concrete_fields if not f.primary_key and not f.generated)


@functools.cache
def _update_of(
    model: type[Model], update_fields: tuple[str, ...] | None
) -> "tuple[list[Field[Any, Any]], str | None]":
    """The fields an UPDATE of `update_fields` (None: all) sets, as save()
    picks them, and its SQL; None for the SQL when a field places its value
    itself (Django's compiler's work)."""
    meta = model._meta
    fields = [
        f
        for f in _updatable(model)
        if update_fields is None or f.name in update_fields or f.attname in update_fields
    ]
    if any(hasattr(f, "get_placeholder") for f in fields):
        return fields, None
    quote, table = connection.ops.quote_name, meta.db_table
    assert meta.pk is not None
    sql = (
        f"UPDATE {quote(table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
        f"WHERE {quote(table)}.{quote(meta.pk.column)} = %s RETURNING 1"
    )
    return fields, sql


@functools.cache
def _insert_of(model: type[Model]) -> PreparedInsert[Any]:
    return PreparedInsert(model)


_history_models: dict[type[Model], Any] = {}


def _history_model(model: type[Model]) -> Any:
    """The model's historical model (simple-history's descriptor builds a
    manager class on every access)."""
    found = _history_models.get(model)
    if found is None:
        found = _history_models[model] = model.history.model  # type: ignore[attr-defined]
    return found
