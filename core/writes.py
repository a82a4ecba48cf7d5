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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import Field, Model, Q
from django.db.models.expressions import DatabaseDefault
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone

from core.history import history_save, reason_fit


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
        if connection.vendor != "postgresql":
            self._portable.append((instance, {"update_fields": update_fields}))
            return
        self._update(instance, update_fields)

    def _update(self, instance: Model, update_fields: Sequence[str] | None) -> None:
        meta = instance._meta
        fields = [
            f
            for f in meta.local_concrete_fields
            if not f.primary_key
            and not f.generated
            and (update_fields is None or f.name in update_fields or f.attname in update_fields)
        ]
        values = [f.pre_save(instance, False) for f in fields]
        if _plain(fields, values):
            quote = connection.ops.quote_name
            pk = meta.pk
            assert pk is not None
            sql = (
                f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
                f"WHERE {quote(meta.db_table)}.{quote(pk.column)} = %s"
            )
            params = [*_prepared(fields, values), pk.get_db_prep_value(instance.pk, connection)]
        else:
            query = UpdateQuery(type(instance))
            query.add_update_fields(list(zip(fields, [None] * len(fields), values, strict=True)))
            query.add_q(Q(pk=instance.pk))
            sql, compiled = query.get_compiler(connection=connection).as_sql()
            params = list(compiled)
        self._writes.append(_Write(f"{sql} RETURNING 1", params, instance, inserted=False))

    def insert(self, instance: Model) -> None:
        """`instance.save()` of a new row of a model without history; its
        primary key is set when the batch runs."""
        assert not hasattr(instance._meta, "simple_history_manager_attribute"), "history: save_with_history"
        if connection.vendor != "postgresql":
            self._portable.append((instance, {}))
            return
        self._insert(instance)

    def _insert(self, instance: Model) -> None:
        meta = instance._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        values = [f.pre_save(instance, True) for f in fields]
        # A column left to its database default is left out, as the database fills it (and returns it).
        fields, values = _without_defaults(fields, values)
        if _plain(fields, values):
            quote = connection.ops.quote_name
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"VALUES ({', '.join(['%s'] * len(fields))}) "
                f"RETURNING {', '.join(f'{quote(meta.db_table)}.{quote(f.column)}' for f in meta.db_returning_fields)}"
            )
            params = _prepared(fields, values)
        else:
            query = InsertQuery(type(instance))
            query.insert_values(fields, [instance])
            compiler = query.get_compiler(connection=connection)
            compiler.returning_fields = meta.db_returning_fields
            ((sql, compiled),) = compiler.as_sql()
            params = list(compiled)
        self._writes.append(_Write(sql, params, instance, inserted=True))

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
            for field in _returned(write):
                setattr(write.instance, field.attname, next(values))
            write.instance._state.adding, write.instance._state.db = False, connection.alias
        self._writes, self._portable = [], []


def _returned(write: _Write):
    return write.instance._meta.db_returning_fields


def _plain(fields: "Sequence[Field[Any, Any]]", values: list[Any]) -> bool:
    """Whether each value is sent as itself (a `%s`), as Django's compilers
    send a plain value of a field without a placeholder of its own."""
    return not any(
        hasattr(value, "resolve_expression") or hasattr(field, "get_placeholder")
        for field, value in zip(fields, values, strict=True)
    )


def _without_defaults(
    fields: "Sequence[Field[Any, Any]]", values: list[Any]
) -> "tuple[list[Field[Any, Any]], list[Any]]":
    kept = [(f, v) for f, v in zip(fields, values, strict=True) if not isinstance(v, DatabaseDefault)]
    return [f for f, _v in kept], [v for _f, v in kept]


def _prepared(fields: "Sequence[Field[Any, Any]]", values: list[Any]) -> list[Any]:
    return [field.get_db_prep_save(value, connection) for field, value in zip(fields, values, strict=True)]


_history_models: dict[type[Model], Any] = {}


def _history_model(model: type[Model]) -> Any:
    """The model's historical model (simple-history's descriptor builds a
    manager class on every access)."""
    found = _history_models.get(model)
    if found is None:
        found = _history_models[model] = model.history.model  # type: ignore[attr-defined]
    return found
