"""The decision log's doors for the owner's role (issue 15): with two
database roles (core.db_roles) the app's role may only read and append to the
log, so the erasure of a number and the purge of old rows go through
functions the owner defines, SECURITY DEFINER with search_path pinned to
pg_catalog (every table named with its schema, so nothing the app creates can
stand in for an operator or a function the body uses), each doing only that:

- compliance_decision_log_erase(numbers): replaces those clear numbers by
  '(erased)' (the chain covers the number's hash, not the number);
- compliance_decision_log_purge(ids): deletes those of the given decisions
  that are past the legal minimum it holds itself (5 years; only a migration
  changes it, whatever a retention policy says) and covered by a signed
  checkpoint, and records the run in compliance_decisionlogpurge.

The append-only trigger no longer reads the `consentdesk.retention_purge`
session variable (anyone could set it): a DELETE passes only for a row past
the legal minimum, whoever runs it. Purge runs are insert-only."""

import django.db.models.functions.datetime
from django.db import migrations, models

# The legal minimum: TSR record keeping, 16 CFR 310.5 (5 years; core.retention.FIVE_YEARS days).
LEGAL_MINIMUM = "interval '1826 days'"

DOORS = """
CREATE OR REPLACE FUNCTION compliance_decision_log_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.recorded_at < now() - {minimum} THEN
            RETURN OLD;  -- past the legal minimum: the purge
        END IF;
        RAISE EXCEPTION 'the decision log is append-only: decision % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.phone_number = '(erased)'
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;  -- erasure of the number
    END IF;
    RAISE EXCEPTION 'the decision log is append-only: decision % cannot be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_decision_log_purge_insert_only
    BEFORE UPDATE OR DELETE ON compliance_decisionlogpurge
    FOR EACH ROW EXECUTE FUNCTION compliance_insert_only();

CREATE OR REPLACE FUNCTION compliance_decision_log_erase(numbers text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    erased bigint;
BEGIN
    UPDATE {schema}.compliance_decisionrecord SET phone_number = '(erased)'
    WHERE phone_number::text = ANY(numbers) AND phone_number::text <> '(erased)'::text;
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN erased;
END;
$$;

CREATE OR REPLACE FUNCTION compliance_decision_log_purge(ids bigint[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    bound timestamptz := now() - {minimum};
    sealed_to bigint;
    purged bigint;
    lowest bigint;
    highest bigint;
BEGIN
    -- Signed: covered by a checkpoint and chained below its position. The app
    -- may insert checkpoints and links (the seal does), so the real guard is
    -- the age, stamped by the database; a forged checkpoint fails verify.
    SELECT max(last_id) INTO sealed_to FROM {schema}.compliance_decisioncheckpoint;
    WITH doomed AS (
        DELETE FROM {schema}.compliance_decisionrecord d
        WHERE d.id = ANY(ids) AND d.recorded_at < bound AND d.id <= coalesce(sealed_to, 0)
          AND EXISTS (SELECT 1 FROM {schema}.compliance_decisionchainlink l WHERE l.decision_id = d.id)
        RETURNING d.id
    )
    SELECT count(*), min(id), max(id) INTO purged, lowest, highest FROM doomed;
    IF purged > 0 THEN
        INSERT INTO {schema}.compliance_decisionlogpurge (bound, deleted, first_id, last_id, by_role)
        VALUES (bound, purged, lowest, highest, session_user);
    END IF;
    RETURN purged;
END;
$$;
"""

BACK = """
DROP FUNCTION IF EXISTS compliance_decision_log_purge(bigint[]);
DROP FUNCTION IF EXISTS compliance_decision_log_erase(text[]);
CREATE OR REPLACE FUNCTION compliance_decision_log_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('consentdesk.retention_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the decision log is append-only: decision % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.phone_number = '(erased)'
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the decision log is append-only: decision % cannot be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def doors(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DOORS.format(schema=_schema(schema_editor), minimum=LEGAL_MINIMUM), params=None)


def doors_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACK, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0008_decision_chain_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="DecisionLogPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("purged_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                (
                    "bound",
                    models.DateTimeField(
                        help_text="Rows recorded before this instant could go (5 years before the run)."
                    ),
                ),
                ("deleted", models.PositiveBigIntegerField()),
                ("first_id", models.BigIntegerField()),
                ("last_id", models.BigIntegerField()),
                (
                    "by_role",
                    models.CharField(help_text="The database role that called the function.", max_length=63),
                ),
            ],
            options={
                "ordering": ["-purged_at", "-id"],
            },
        ),
        migrations.RunPython(doors, doors_back),
    ]
