"""`AnyOf(F("field"), values)`: the field's value is one of `values`, the
whole set sent as one parameter.

Django's `field__in=[...]` prepares each value through the field (a phone
number field parses every one again), builds an expression per value and
sends one placeholder per value: for 25,000 numbers that costs more than the
query. Here PostgreSQL gets `field = ANY(%s)` with one array (an index probe
per value) and SQLite `field IN (SELECT value FROM json_each(%s))` with one
JSON array; PostgreSQL's array goes as one comma-joined text (psycopg dumps
a 25,000-item list slower than PostgreSQL splits a string). Values must
already be in the column's stored form (E.164 text, hex hashes, integers):
they are compared as they are, and text values may not hold a comma.

    PhoneNumber.objects.filter(AnyOf(F("number"), ["+13055550123", ...]))
"""

import json
from collections.abc import Collection
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Lookup
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # stored form already: no per-value preparation

    def __init__(self, lhs: Any, values: Collection[str | int]):
        super().__init__(lhs, list(values))

    @property
    def output_field(self) -> BooleanField:
        return BooleanField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor != "postgresql":
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]
        if all(isinstance(value, int) for value in values):
            return f"{lhs} = ANY(string_to_array(%s, ',')::bigint[])", [
                *lhs_params,
                ",".join(map(str, values)),
            ]
        if any(not isinstance(value, str) or "," in value for value in values):
            raise ValueError("AnyOf takes integers, or text without commas")
        return f"{lhs} = ANY(string_to_array(%s, ','))", [*lhs_params, ",".join(values)]
