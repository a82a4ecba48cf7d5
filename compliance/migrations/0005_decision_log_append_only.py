"""The decision log is append-only in the database itself (PostgreSQL): a
trigger refuses every UPDATE and DELETE of compliance_decisionrecord except

- sealing: an unsealed row getting its chain position and hashes, nothing else;
- erasure: the row's phone number replaced by "(erased)", nothing else (the
  chain covers the number's hash, not the number);
- a DELETE by the retention purge, which sets `consentdesk.retention_purge`
  for its own transaction only.

Whoever can disable triggers (a superuser) can still tamper: the hash chain
and `verify_decision_log` catch that."""

from django.db import migrations

GUARD = """
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

CREATE TRIGGER compliance_decision_log_append_only
    BEFORE UPDATE OR DELETE ON compliance_decisionrecord
    FOR EACH ROW EXECUTE FUNCTION compliance_decision_log_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS compliance_decision_log_append_only ON compliance_decisionrecord;
DROP FUNCTION IF EXISTS compliance_decision_log_guard();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0004_retention")]

    operations = [migrations.RunPython(guard, unguard)]
