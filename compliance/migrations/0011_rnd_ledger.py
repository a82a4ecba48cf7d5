"""The RND query ledger (issue 18), append-only in the database itself
(PostgreSQL), as the decision log is (migrations 0005, 0008, 0009):

- a trigger stamps `recorded_at` with the database's clock on every INSERT,
  whatever the INSERT sends;
- a trigger refuses every UPDATE and DELETE, except the erasure of a clear
  number (replaced by '(erased)', nothing else changed: the chain covers the
  number's keyed hash, not the number);
- compliance_rnd_erase(numbers), the owner's door for that erasure, SECURITY
  DEFINER with search_path pinned to pg_catalog: the app's role may only
  SELECT and INSERT the ledger (core.db_roles, compliance/apps.py).

Also the rule value `rnd_fresh_hours` (how long an RND "no" stays fresh)."""

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION compliance_rnd_stamp() RETURNS trigger AS $$
BEGIN
    NEW.recorded_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_rnd_recorded_at
    BEFORE INSERT ON {schema}.compliance_rndquery
    FOR EACH ROW EXECUTE FUNCTION compliance_rnd_stamp();

CREATE OR REPLACE FUNCTION compliance_rnd_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.phone_number = '(erased)'
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;  -- erasure of the number
    END IF;
    RAISE EXCEPTION 'the RND query ledger is append-only: query % cannot be changed or deleted', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_rnd_append_only
    BEFORE UPDATE OR DELETE ON {schema}.compliance_rndquery
    FOR EACH ROW EXECUTE FUNCTION compliance_rnd_guard();

CREATE OR REPLACE FUNCTION compliance_rnd_erase(numbers text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    erased bigint;
BEGIN
    UPDATE {schema}.compliance_rndquery SET phone_number = '(erased)'
    WHERE phone_number::text = ANY(numbers) AND phone_number::text <> '(erased)'::text;
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN erased;
END;
$$;
"""

UNGUARD = """
DROP FUNCTION IF EXISTS compliance_rnd_erase(text[]);
DROP TRIGGER IF EXISTS compliance_rnd_append_only ON compliance_rndquery;
DROP FUNCTION IF EXISTS compliance_rnd_guard();
DROP TRIGGER IF EXISTS compliance_rnd_recorded_at ON compliance_rndquery;
DROP FUNCTION IF EXISTS compliance_rnd_stamp();
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD.format(schema=_schema(schema_editor)), params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0010_ruleset_stamp"),
        ("consent", "0003_suppression_key_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaljurisdictionrule",
            name="rnd_fresh_hours",
            field=models.PositiveIntegerField(
                default=720,
                help_text='How long a Reassigned Numbers Database "no" stays fresh after its query (federal row).',
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.AddField(
            model_name="jurisdictionrule",
            name="rnd_fresh_hours",
            field=models.PositiveIntegerField(
                default=720,
                help_text='How long a Reassigned Numbers Database "no" stays fresh after its query (federal row).',
                validators=[django.core.validators.MinValueValidator(1)],
            ),
        ),
        migrations.CreateModel(
            name="RndQuery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("phone_number", models.CharField(help_text="E.164; erasable.", max_length=40)),
                (
                    "number_hash",
                    models.CharField(help_text="HMAC-SHA256 of the E.164 number.", max_length=64),
                ),
                (
                    "number_key_id",
                    models.CharField(
                        help_text="The suppression key the hash was made with (consent.services).",
                        max_length=12,
                    ),
                ),
                ("date_sent", models.DateField(help_text="The date sent with the query.")),
                (
                    "date_kind",
                    models.CharField(
                        choices=[
                            ("consent", "The consent's date"),
                            ("contact", "A later contact with the person"),
                            ("manual", "Entered by hand or imported"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "answer",
                    models.CharField(
                        choices=[
                            ("yes", "Yes: disconnected on or after the date"),
                            ("no", "No: not disconnected since the date"),
                            ("no_data", "No data"),
                            ("error", "Error: no answer"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "provider",
                    models.CharField(
                        help_text='The adapter that asked ("dnc_com", "import", ...).', max_length=40
                    ),
                ),
                ("provider_request_id", models.CharField(blank=True, max_length=120)),
                ("queried_at", models.DateTimeField(help_text="When the RND answered.")),
                (
                    "rnd_update",
                    models.CharField(
                        blank=True,
                        help_text="The RND update the answer came from, where the provider says.",
                        max_length=40,
                    ),
                ),
                (
                    "response_sha256",
                    models.CharField(help_text="SHA-256 of the raw response (or line).", max_length=64),
                ),
                ("recorded_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
                ("prev_hash", models.CharField(max_length=64)),
                ("row_hash", models.CharField(max_length=64, unique=True)),
                (
                    "consent",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="consent.consentgrant",
                    ),
                ),
            ],
            options={
                "verbose_name": "RND query",
                "verbose_name_plural": "RND queries",
                "ordering": ["-id"],
                "indexes": [models.Index(fields=["phone_number", "date_sent"], name="rnd_number_date_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("answer__in", ("yes", "no", "no_data", "error"))),
                        name="rnd_answer_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("date_kind__in", ("consent", "contact", "manual"))),
                        name="rnd_date_kind_known",
                    ),
                ],
            },
        ),
        migrations.RunPython(guard, unguard),
    ]
