"""Two doors brought up to date for databases that ran earlier versions
(issue 15):

- compliance_rnd_erase(numbers, hashes): the RND ledger's erasure blanks a
  number only when its hash has a suppression entry (an erasure writes one
  first), as the decision log's door does since 0012; the one-argument
  version, which blanked any number, is dropped.
- compliance_decision_log_purge(ids): as 0009 defines it now (search_path
  pinned to pg_catalog; only rows with a chain link), replacing the version a
  database that ran 0009 before that change still has.
"""

from django.db import migrations

LEGAL_MINIMUM = "interval '1826 days'"  # as 0009: TSR record keeping, 16 CFR 310.5

DOORS = """
DROP FUNCTION IF EXISTS compliance_rnd_erase(text[]);

CREATE OR REPLACE FUNCTION compliance_rnd_erase(numbers text[], hashes text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    erased bigint;
BEGIN
    IF cardinality(numbers) IS DISTINCT FROM cardinality(hashes) THEN
        RAISE EXCEPTION 'one suppression hash per number' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE {schema}.compliance_rndquery q SET phone_number = '(erased)'
    FROM unnest(numbers, hashes) AS e(number, hash)
    JOIN {schema}.consent_suppressionentry s ON s.number_hash::text = e.hash
    WHERE q.phone_number::text = e.number AND q.phone_number::text <> '(erased)'::text
      AND (q.number_hash::text = e.hash OR q.number_key_id::text IS DISTINCT FROM s.key_id::text);
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN erased;
END;
$$;
REVOKE ALL ON FUNCTION compliance_rnd_erase(text[], text[]) FROM PUBLIC;

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


def doors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
    schema_editor.execute(DOORS.format(schema=schema, minimum=LEGAL_MINIMUM), params=None)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0013_rnd_policy")]

    operations = [migrations.RunPython(doors, migrations.RunPython.noop)]
