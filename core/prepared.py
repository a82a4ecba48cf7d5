"""Statements the ORM compiles once and runs many times with new values.

Compiling a queryset with a join and a few EXISTS subqueries costs more
CPU than running it (about 1.7 ms against 0.3 ms for the token
authentication's query), and a hot path compiles the same statement on every
request. `PreparedSelect` compiles it the first time, with marks in place of
the values, and afterwards only swaps the values in: the statement, the
instances it builds (select_related objects and annotations set as the
queryset's own iteration sets them) and the database's answer are the same.
`PreparedInsert` does the same for `save()` of a new row (the decision log's
INSERT: about 0.5 ms of compiling for each decision logged).
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Model, QuerySet, signals
from django.db.models.expressions import DatabaseDefault
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


def _mark(name: str) -> str:
    return f"\x00prepared:{name}\x00"  # only ever compiled, never sent


_AT = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)  # the instant a statement is compiled for
_ID0 = -2_000_000_000  # the ids it is compiled for: _ID0, _ID0 - 1, ... (never a row's; in any integer range)


@dataclass(frozen=True)
class _Compiled:
    connection: Any  # the thread's connection wrapper it was compiled for
    locks: bool  # select_for_update: only inside a transaction, as the queryset would insist
    compiler: SQLCompiler  # kept for its converters
    sql: str
    params: tuple[Any, ...]
    slots: list[tuple[int, str]]  # (index in params, the value's name): a string or an id
    instants: list[tuple[int, timedelta]]  # (index in params, its offset from the instant)
    converters: dict[int, Any]
    model: type[Model]
    init_list: list[str]
    fields: slice
    related_populators: list[Any]
    annotations: dict[str, int]


class PreparedSelect(Generic[M]):
    """`build(**values)` returns the queryset; `first(**values)` runs its
    statement with the values and returns the first instance, or None.
    Compiled once per thread and connection (a connection's converters are
    its own), for stand-ins of the values:

    - each of `names`, a string, exactly one plain parameter (`filter(key=key)`);
    - each of `ids`, an integer, a plain parameter wherever it stands;
    - `at`, an instant: every instant among the statement's parameters is it
      or an offset from it (`now - LEASE`), each moved by the same offset when
      run. On PostgreSQL only (elsewhere a backend sends instants as text):
      elsewhere the queryset itself runs, the portable twin.
    """

    def __init__(
        self,
        build: Callable[..., QuerySet[M]],
        *names: str,
        ids: tuple[str, ...] = (),
        at: str | None = None,
    ) -> None:
        self._build = build
        self._names = names
        self._ids = ids
        self._at = at
        self._local = threading.local()
        self._alias: str | None = None  # the database the queryset reads (its router's answer)

    def _stand_ins(self) -> dict[str, Any]:
        stand_ins: dict[str, Any] = {name: _mark(name) for name in self._names}
        stand_ins.update({name: _ID0 - k for k, name in enumerate(self._ids)})
        if self._at:
            stand_ins[self._at] = _AT
        return stand_ins

    def _compile(self, alias: str) -> _Compiled:
        stand_ins = self._stand_ins()
        query = self._build(**stand_ins)[:1].query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # fills compiler.select, klass_info, annotation_col_map
        slots = []
        for name in (*self._names, *self._ids):
            found = [index for index, param in enumerate(params) if _same(param, stand_ins[name])]
            if not found or (name in self._names and len(found) != 1):
                raise ValueError(f"{name!r} must be one plain parameter of the statement, found {len(found)}")
            slots += [(index, name) for index in found]
        instants = [(i, p - _AT) for i, p in enumerate(params) if self._at and isinstance(p, datetime)]
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None, "a queryset of model instances"
        columns = klass_info["select_fields"]
        fields = slice(columns[0], columns[-1] + 1)
        return _Compiled(
            connection=connections[alias],
            locks=query.select_for_update and connections[alias].features.has_select_for_update,
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slots=slots,
            instants=instants,
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[fields]],
            fields=fields,
            related_populators=get_related_populators(klass_info, select, alias),
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def _compiled(self) -> _Compiled:
        alias = self._database()
        compiled: _Compiled | None = getattr(self._local, alias, None)
        if compiled is None or compiled.connection is not connections[alias]:
            compiled = self._compile(alias)
            setattr(self._local, alias, compiled)
        return compiled

    def _database(self) -> str:
        if self._alias is None:
            self._alias = self._build(**self._stand_ins()).db
        return self._alias

    def bind(self, **values: Any) -> "Bound[M]":
        """The statement with these values, to run later or to embed in another."""
        return Bound(self, values)

    def _portable(self) -> bool:
        """Whether the queryset itself runs (its instants are sent as text elsewhere)."""
        return bool(self._at) and connections[self._database()].vendor != "postgresql"

    def _params(self, compiled: _Compiled, values: dict[str, Any]) -> list[Any]:
        params = list(compiled.params)
        for index, name in compiled.slots:
            params[index] = values[name]
        for index, offset in compiled.instants:
            params[index] = values[self._at] + offset  # type: ignore[index]
        return params

    def first(self, **values: Any) -> M | None:
        if self._portable():
            return self._build(**values).first()
        compiled = self._compiled()
        if compiled.locks and not compiled.connection.in_atomic_block:
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = self._params(compiled, values)
        with compiled.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        instance = compiled.model.from_db(compiled.connection.alias, compiled.init_list, row[compiled.fields])
        for populator in compiled.related_populators:
            populator.populate(row, instance)
        for name, position in compiled.annotations.items():
            setattr(instance, name, row[position])
        return instance  # type: ignore[return-value]


@dataclass(frozen=True)
class Bound(Generic[M]):
    """A PreparedSelect with its values: `statement()` is its SELECT (the
    first row's: LIMIT 1) with them, compiled once, for a caller that embeds
    it in a statement of its own (`EXISTS (...)`); `exists()` runs it."""

    prepared: PreparedSelect[M]
    values: dict[str, Any]

    def statement(self) -> tuple[str, list[Any]]:
        prepared = self.prepared
        if prepared._portable():
            sql, params = prepared._build(**self.values)[:1].query.sql_with_params()
            return sql, list(params)
        compiled = prepared._compiled()
        return compiled.sql, prepared._params(compiled, self.values)

    def exists(self) -> bool:
        return self.prepared._build(**self.values).exists()


def _same(param: Any, stand_in: Any) -> bool:
    """A parameter is the stand-in itself (an id never matches a bool or a string that equals it)."""
    return type(param) is type(stand_in) and param == stand_in


class PreparedInsert(Generic[M]):
    """`instance.save()` of a new row, in an INSERT the ORM compiles once per
    thread, connection and set of columns (a column left to its `db_default`
    is left out, as the database fills it); each row's values are prepared as
    save() prepares them (`pre_save`, `get_db_prep_save`) and the columns the
    database returns (the primary key, `db_default`s) are set on the instance.
    Falls back to save() where that would do more than insert the row: a
    model with a parent, signal receivers, an expression or a custom
    placeholder for a value, a database that cannot return columns.
    `statement()` is the INSERT with its values, for a caller that sends it
    with others (core.writes.WriteBatch), and `returned()` sets what it
    returned."""

    def __init__(self, model: type[M]) -> None:
        meta = model._meta
        assert not meta.parents, "one table"
        self._model = model
        self._fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        self._placed = {f for f in self._fields if hasattr(f, "get_placeholder")}
        self._local = threading.local()

    def save(self, instance: M) -> None:
        model = self._model
        connection = connections[router.db_for_write(model, instance=instance)]
        statement = (
            None
            if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model)
            else self.statement(instance, connection)
        )
        if statement is None:
            instance.save(force_insert=True, using=connection.alias)
            return
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            row = cursor.fetchone()
        self.returned(instance, row, connection)

    def statement(self, instance: M, connection: Any) -> tuple[str, list[Any]] | None:
        """The INSERT ... RETURNING save() would send for the new `instance`,
        and its values, each prepared as save() prepares it; None when the
        database cannot return columns, or a value is an expression or a
        field places its value itself (Django's compiler's work)."""
        if not connection.features.can_return_columns_from_insert:
            return None
        instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]  # as save()
        fields, params = [], []
        for field in self._fields:
            value = field.pre_save(instance, True)
            if isinstance(value, DatabaseDefault):
                continue
            if field in self._placed or hasattr(value, "resolve_expression"):
                return None
            fields.append(field)
            params.append(field.get_db_prep_save(value, connection=connection))
        return self._sql(connection, instance, fields), params

    def statement_compiled(self, instance: M, connection: Any) -> tuple[str, list[Any]]:
        """The INSERT ... RETURNING Django's compiler makes for the new
        `instance`, compiled now: where `statement()` gives None for a value
        that is an expression or a field that places its value. The same
        columns (one left to its database default is left out)."""
        fields = [f for f in self._fields if not isinstance(f.pre_save(instance, True), DatabaseDefault)]
        sql, params = self._compile(connection, instance, fields, raw=False)
        return sql, list(params)

    def returned(self, instance: M, row: Sequence[Any], connection: Any) -> None:
        """Set the columns the INSERT returned (the primary key, `db_default`s) on `instance`, now saved."""
        for field, value in zip(self._model._meta.db_returning_fields, row, strict=True):
            column = field.cached_col
            for convert in (*connection.ops.get_db_converters(column), *column.get_db_converters(connection)):
                value = convert(value, column, connection)
            setattr(instance, field.attname, value)
        instance._state.adding, instance._state.db = False, connection.alias

    def _sql(self, connection: Any, instance: M, fields: list[Any]) -> str:
        compiled: tuple[Any, dict[tuple[str, ...], str]] | None = getattr(self._local, connection.alias, None)
        if compiled is None or compiled[0] is not connection:
            compiled = (connection, {})
            setattr(self._local, connection.alias, compiled)
        key = tuple(field.attname for field in fields)
        sql = compiled[1].get(key)
        if sql is None:
            # raw: the text only is kept, and compiling must not run pre_save again (an
            # auto_now field would be set later than the value sent).
            sql, _params = self._compile(connection, instance, fields, raw=True)
            compiled[1][key] = sql
        return sql

    def _compile(self, connection: Any, instance: M, fields: list[Any], *, raw: bool) -> tuple[str, Any]:
        """Django's INSERT ... RETURNING of `fields` for `instance`, and its values."""
        query = InsertQuery(self._model)
        query.insert_values(fields, [instance], raw=raw)
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = self._model._meta.db_returning_fields
        ((sql, params),) = compiler.as_sql()
        return sql, params
