"""Schema changes a migration makes by hand where Django's operations would
lock a live table longer than the change needs."""

from collections.abc import Sequence

from django.db import migrations


def indexes_dropped(indexes: Sequence[tuple[str, str, str]]) -> migrations.RunPython:
    """Drop each (index, table, column) index, IF EXISTS (a database whose
    index has another name keeps it, harmless); reversed by creating it again.
    On PostgreSQL CONCURRENTLY, so writes to the table go on while a long read
    holds it: the migration must say `atomic = False`."""

    def run(schema_editor, statement: str) -> None:
        concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
        for index, table, column in indexes:
            schema_editor.execute(
                statement.format(concurrently=concurrently, index=index, table=table, column=column)
            )

    def drop(apps, schema_editor) -> None:
        run(schema_editor, "DROP INDEX{concurrently} IF EXISTS {index}")

    def create(apps, schema_editor) -> None:
        run(schema_editor, "CREATE INDEX{concurrently} IF NOT EXISTS {index} ON {table} ({column})")

    return migrations.RunPython(drop, create)
