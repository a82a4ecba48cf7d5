"""The rule set's stamp triggers again on SQLite (the demo): migration 0011
added a column to compliance_jurisdictionrule, and SQLite adds a column by
rebuilding the table, which drops its triggers, so a rule changed in the
demo's admin no longer moved the stamp and the engine kept deciding by the
rules it had parsed. Any later migration that rebuilds the table on SQLite
must create them again (tests/compliance/test_hot_path_statements.py fails
on SQLite until it does). PostgreSQL keeps its trigger through ALTER TABLE."""

from django.db import migrations

EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "INSERT OR REPLACE INTO compliance_rulesetstamp (id, version) VALUES (1, random())"


def triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in EVENTS:
        name = f"compliance_ruleset_stamp_{event.lower()}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON compliance_jurisdictionrule BEGIN {BUMP}; END"
        )
    schema_editor.execute(BUMP)  # the rules may have changed meanwhile: a new value


class Migration(migrations.Migration):
    dependencies = [("compliance", "0014_rnd_erase_door_and_purge_door")]

    operations = [migrations.RunPython(triggers, migrations.RunPython.noop)]
