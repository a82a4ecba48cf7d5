"""Indexes for the admin's case-insensitive searches at 1M customers:
`email__iexact` is `UPPER(email::text) = UPPER(...)` and `last_name__istartswith`
is `UPPER(last_name::text) LIKE UPPER('...%')`, which a plain index cannot
serve. PostgreSQL only (text_pattern_ops serves LIKE prefixes under any
collation); the demo's small SQLite file needs none."""

from django.db import migrations

INDEXES = {
    "customer_email_upper_idx": 'ON customers_customer (UPPER("email"::text))',
    "customer_last_name_upper_idx": 'ON customers_customer (UPPER("last_name"::text) text_pattern_ops)',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
