"""The registry numbers table, whose physical design depends on the database
(see RegistryNumber's docstring): partitioned by source on PostgreSQL, one
WITHOUT ROWID table on SQLite. Partitions are created by the import service."""

from django.db import migrations

POSTGRES_CREATE = """
CREATE TABLE registry_number (
    number bigint NOT NULL,
    source_id smallint NOT NULL
) PARTITION BY LIST (source_id)
"""
SQLITE_CREATE = """
CREATE TABLE registry_number (
    number integer NOT NULL,
    source_id integer NOT NULL,
    PRIMARY KEY (number, source_id)
) WITHOUT ROWID
"""


def create_table(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    else:
        raise NotImplementedError(f"The registry numbers table has no design for {vendor}.")


def drop_table(apps, schema_editor):
    # On PostgreSQL this drops every source's partition with it.
    schema_editor.execute("DROP TABLE registry_number")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(create_table, drop_table)]
