"""The decision log's chain moves out of the decision rows into an
insert-only table of links, with signed checkpoints beside it (issue 15):
sealing inserts and never updates, so the app's role needs only SELECT and
INSERT on the log. Existing chain data is copied as it is: those rows hash
as before (positions and hashes unchanged; `number_key_id` is empty on them
and left out of their content).

On PostgreSQL the append-only trigger loses its sealing exception (erasure
of a number and the purge's switch stay, until the purge moves behind an
owner's function); links and checkpoints refuse every UPDATE and DELETE;
`recorded_at` is stamped by the database whatever an INSERT sends."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

COPY_CHAIN = """
INSERT INTO compliance_decisionchainlink (position, decision_id, prev_hash, row_hash, sealed_at)
SELECT chain_position, id, prev_hash, row_hash, CURRENT_TIMESTAMP
FROM compliance_decisionrecord WHERE chain_position IS NOT NULL ORDER BY chain_position
"""

COPY_CHAIN_BACK = """
UPDATE compliance_decisionrecord SET chain_position = l.position, prev_hash = l.prev_hash, row_hash = l.row_hash
FROM compliance_decisionchainlink l WHERE l.decision_id = compliance_decisionrecord.id
"""

GUARD = """
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
        RETURN NEW;  -- erasure of the number
    END IF;
    RAISE EXCEPTION 'the decision log is append-only: decision % cannot be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION compliance_decision_log_stamp() RETURNS trigger AS $$
BEGIN
    NEW.recorded_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_decision_log_recorded_at
    BEFORE INSERT ON compliance_decisionrecord
    FOR EACH ROW EXECUTE FUNCTION compliance_decision_log_stamp();

CREATE OR REPLACE FUNCTION compliance_insert_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the decision log is append-only: % cannot be changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_chain_link_insert_only
    BEFORE UPDATE OR DELETE ON compliance_decisionchainlink
    FOR EACH ROW EXECUTE FUNCTION compliance_insert_only();

CREATE TRIGGER compliance_checkpoint_insert_only
    BEFORE UPDATE OR DELETE ON compliance_decisioncheckpoint
    FOR EACH ROW EXECUTE FUNCTION compliance_insert_only();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS compliance_checkpoint_insert_only ON compliance_decisioncheckpoint;
DROP TRIGGER IF EXISTS compliance_chain_link_insert_only ON compliance_decisionchainlink;
DROP FUNCTION IF EXISTS compliance_insert_only();
DROP TRIGGER IF EXISTS compliance_decision_log_recorded_at ON compliance_decisionrecord;
DROP FUNCTION IF EXISTS compliance_decision_log_stamp();
CREATE OR REPLACE FUNCTION compliance_decision_log_guard() RETURNS trigger AS $$
DECLARE
    chain_fields text[] := ARRAY['chain_position', 'prev_hash', 'row_hash'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('consentdesk.retention_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the decision log is append-only: decision % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL
       AND (to_jsonb(NEW) - chain_fields) = (to_jsonb(OLD) - chain_fields) THEN
        RETURN NEW;  -- sealing
    END IF;
    IF NEW.phone_number = '(erased)'
       AND (to_jsonb(NEW) - 'phone_number') = (to_jsonb(OLD) - 'phone_number') THEN
        RETURN NEW;  -- erasure of the number
    END IF;
    RAISE EXCEPTION 'the decision log is append-only: decision % cannot be changed', OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0007_task_heartbeat")]

    operations = [
        migrations.CreateModel(
            name="DecisionChainLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.BigIntegerField(unique=True)),
                (
                    "decision",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="chain_link",
                        to="compliance.decisionrecord",
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64)),
                ("row_hash", models.CharField(max_length=64)),
                ("sealed_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={"ordering": ["position"]},
        ),
        migrations.CreateModel(
            name="DecisionCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveBigIntegerField(unique=True)),
                ("position", models.BigIntegerField(help_text="The chain's last position it covers.")),
                (
                    "last_id",
                    models.BigIntegerField(help_text="Every decision id up to this one is in the chain."),
                ),
                ("head_hash", models.CharField(max_length=64)),
                ("made_at", models.DateTimeField()),
                ("key_id", models.CharField(max_length=16)),
                (
                    "document",
                    models.TextField(help_text="The signed checkpoint, byte for byte as in the store."),
                ),
            ],
            options={"ordering": ["-seq"]},
        ),
        migrations.RunSQL(COPY_CHAIN, COPY_CHAIN_BACK),
        migrations.RemoveIndex(model_name="decisionrecord", name="decision_unsealed_idx"),
        migrations.RemoveField(model_name="decisionrecord", name="chain_position"),
        migrations.RemoveField(model_name="decisionrecord", name="prev_hash"),
        migrations.RemoveField(model_name="decisionrecord", name="row_hash"),
        migrations.AddField(
            model_name="decisionrecord",
            name="number_key_id",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.AlterField(
            model_name="decisionrecord",
            name="recorded_at",
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
        migrations.RunPython(guard, unguard),
    ]
