"""The rule set's stamp (issue 17): one row in compliance_rulesetstamp that
the database gives a new `version` whenever the rule table changes, in the
same transaction as the change and whoever makes it (a compliance officer in
the admin, a seed after `flush`, the owner in SQL). A decision reads it
inside its facts query and parses the rules again only when it moved
(compliance.ruleset), instead of asking the rule table on every decision.

A value is never given twice, so a rule set parsed under a value that a
rolled-back transaction saw cannot pass for another: PostgreSQL takes it from
a sequence of its own (no table owns it, so a `flush` that restarts the
tables' sequences leaves it alone); SQLite, which has no sequences, takes a
random 64-bit value. The row is written with an upsert: a `flush` empties the
stamp's table too, and the rules seeded after it put the row back."""

from django.db import migrations, models

POSTGRESQL = """
CREATE SEQUENCE compliance_ruleset_stamp_seq;

CREATE FUNCTION compliance_ruleset_stamp_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO compliance_rulesetstamp (id, version) VALUES (1, nextval('compliance_ruleset_stamp_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_ruleset_stamp
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON compliance_jurisdictionrule
    FOR EACH STATEMENT EXECUTE FUNCTION compliance_ruleset_stamp_bump();

INSERT INTO compliance_rulesetstamp (id, version) VALUES (1, nextval('compliance_ruleset_stamp_seq'));
"""

POSTGRESQL_REVERSE = """
DROP TRIGGER IF EXISTS compliance_ruleset_stamp ON compliance_jurisdictionrule;
DROP FUNCTION IF EXISTS compliance_ruleset_stamp_bump();
DROP SEQUENCE IF EXISTS compliance_ruleset_stamp_seq;
"""

# SQLite: row triggers only, one per kind of change.
SQLITE_BUMP = "INSERT OR REPLACE INTO compliance_rulesetstamp (id, version) VALUES (1, random())"
SQLITE = [
    *(
        f"CREATE TRIGGER compliance_ruleset_stamp_{event.lower()} AFTER {event} ON compliance_jurisdictionrule "
        f"BEGIN {SQLITE_BUMP}; END"
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
    SQLITE_BUMP,
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS compliance_ruleset_stamp_{event}" for event in ("insert", "update", "delete")
]


def stamp_keep(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def stamp_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0009_decision_log_owner_doors"),
    ]

    operations = [
        migrations.CreateModel(
            name="RuleSetStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("id", 1)), name="ruleset_stamp_one_row")
                ],
            },
        ),
        migrations.RunPython(stamp_keep, stamp_drop),
    ]
