"""The app's role owns nothing and creates nothing (issue 15's known gap).

Until now the app's role owned the registry's partitioned table and its
partitions, and could create tables in the schema, because the DNC sync
builds, swaps and drops partitions (compliance.registry.storage). What a role
owns can carry code: a trigger, a default, an index expression, a row
security policy, run as whoever writes or maintains the table, the owner's
`flush` and `migrate` included. So the sync's DDL moves behind the owner's
doors, SECURITY DEFINER with search_path pinned to pg_catalog, pg_temp, each
building every name itself from a source id (smallint) and an import run id
(bigint), never from text:

- registry_partition_ensure(source): the source's partition
  `registry_number_s<source>` and its unique index on `number`, if missing;
- registry_load_create(source, run): an empty load table
  `registry_number_s<source>_run<run>` for a full file's COPY (the fast path
  stays: the table is new in the import's transaction, so COPY FREEZE holds);
- registry_load_index(source, run): its unique index and ANALYZE; false when
  the file repeats numbers (the import drops the repeats and calls again);
- registry_load_swap(source, run): the old partition detached and dropped,
  the load table renamed and attached in its place.

Tables the doors create belong to the owner and get, from each role that
holds them on `registry_number`, the same SELECT, INSERT, UPDATE and DELETE
rights: the app loads and edits rows (change lists, small files in place),
never the tables. A load table lives only in its import's transaction.

A deployment whose registry tables the app's role owns gets them rebuilt
here by the owner: fresh tables with the same numbers, the app's dropped
with whatever it hung on them. Reading them must run none of the app's code,
so a column whose type changed, or a row security policy (refused with
row_security off), stops the migration.

Two of issue 15's doors narrow too:

- compliance_decision_log_erase(numbers, hashes) blanks only a number whose
  suppression entry exists (hashes[i] is numbers[i]'s, made by the erasure
  just before): rows logged under the entry's key must carry that very hash;
  rows logged under an earlier key (their hash cannot be recomputed here) are
  taken on the erasure's word. The one-argument door goes.
- compliance_ruleset_stamp_bump(), the rule table's trigger (0010), runs as
  the owner, so the app's role only reads the stamp and cannot touch its
  sequence (core.db_roles: a protected table with a protected sequence).
"""

import re

from django.db import migrations

DOORS = """
CREATE OR REPLACE FUNCTION registry_partition_ensure(source smallint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text := 'registry_number_s' || source;
    acl record;
BEGIN
    IF source IS NULL OR NOT EXISTS (SELECT 1 FROM {schema}.registry_registrysource s WHERE s.id = source) THEN
        RAISE EXCEPTION 'no registry source %', source USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass(format('%I.%I', {schema_literal}, part)) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.registry_number FOR VALUES IN (%s)',
                   {schema_literal}, part, {schema_literal}, source);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (number)', part || '_number', {schema_literal}, part);
    FOR acl IN {parent_grants} LOOP
        EXECUTE format('GRANT %s ON TABLE %I.%I TO %I', acl.privilege_type, {schema_literal}, part, acl.grantee);
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION registry_load_create(source smallint, run bigint) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    load text := 'registry_number_s' || source || '_run' || run;
    acl record;
BEGIN
    IF source IS NULL OR NOT EXISTS (SELECT 1 FROM {schema}.registry_registrysource s WHERE s.id = source)
       OR run IS NULL OR run <= 0 THEN
        RAISE EXCEPTION 'no registry source % or import run %', source, run
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The CHECK constraint proves the partition bound when the table is attached: no validation scan.
    EXECUTE format('CREATE TABLE %I.%I (number bigint NOT NULL, source_id smallint NOT NULL DEFAULT %s '
                   'CONSTRAINT registry_number_source CHECK (source_id = %s))',
                   {schema_literal}, load, source, source);
    FOR acl IN {parent_grants} LOOP
        EXECUTE format('GRANT %s ON TABLE %I.%I TO %I', acl.privilege_type, {schema_literal}, load, acl.grantee);
    END LOOP;
    RETURN load;
END;
$$;

CREATE OR REPLACE FUNCTION registry_load_index(source smallint, run bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    load text := 'registry_number_s' || source || '_run' || run;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(format('%I.%I', {schema_literal}, load))
                   AND c.relkind = 'r' AND NOT c.relispartition AND c.relowner = current_user::regrole) THEN
        RAISE EXCEPTION 'no load table for source % run %', source, run USING ERRCODE = 'undefined_table';
    END IF;
    BEGIN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %I.%I (number)', load || '_number', {schema_literal}, load);
    EXCEPTION WHEN unique_violation THEN
        RETURN false;  -- the file repeats numbers
    END;
    EXECUTE format('ANALYZE %I.%I', {schema_literal}, load);
    RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION registry_load_swap(source smallint, run bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text := 'registry_number_s' || source;
    load text := 'registry_number_s' || source || '_run' || run;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(format('%I.%I', {schema_literal}, load))
                   AND c.relkind = 'r' AND NOT c.relispartition AND c.relowner = current_user::regrole)
       OR to_regclass(format('%I.%I', {schema_literal}, load || '_number')) IS NULL THEN
        RAISE EXCEPTION 'no indexed load table for source % run %', source, run USING ERRCODE = 'undefined_table';
    END IF;
    IF to_regclass(format('%I.%I', {schema_literal}, part)) IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %I.registry_number DETACH PARTITION %I.%I',
                       {schema_literal}, {schema_literal}, part);
        EXECUTE format('DROP TABLE %I.%I', {schema_literal}, part);
    END IF;
    EXECUTE format('ALTER TABLE %I.%I RENAME TO %I', {schema_literal}, load, part);
    EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', {schema_literal}, load || '_number', part || '_number');
    EXECUTE format('ALTER TABLE %I.registry_number ATTACH PARTITION %I.%I FOR VALUES IN (%s)',
                   {schema_literal}, {schema_literal}, part, source);
END;
$$;

DROP FUNCTION IF EXISTS compliance_decision_log_erase(text[]);

CREATE OR REPLACE FUNCTION compliance_decision_log_erase(numbers text[], hashes text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    erased bigint;
BEGIN
    IF cardinality(numbers) IS DISTINCT FROM cardinality(hashes) THEN
        RAISE EXCEPTION 'one suppression hash per number' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE {schema}.compliance_decisionrecord d SET phone_number = '(erased)'
    FROM unnest(numbers, hashes) AS e(number, hash)
    JOIN {schema}.consent_suppressionentry s ON s.number_hash::text = e.hash
    WHERE d.phone_number::text = e.number AND d.phone_number::text <> '(erased)'::text
      AND (d.number_hash::text = e.hash OR d.number_key_id::text IS DISTINCT FROM s.key_id::text);
    GET DIAGNOSTICS erased = ROW_COUNT;
    RETURN erased;
END;
$$;

CREATE OR REPLACE FUNCTION compliance_ruleset_stamp_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO {schema}.compliance_rulesetstamp (id, version)
    VALUES (1, nextval(format('%I.compliance_ruleset_stamp_seq', {schema_literal})::regclass))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END;
$$;
"""

# The roles (not PUBLIC, not the owner) that hold a row right on the parent, and which.
PARENT_GRANTS = """SELECT pg_get_userbyid(a.grantee) AS grantee, a.privilege_type
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = format('%I.registry_number', {schema_literal})::regclass
          AND a.grantee <> c.relowner AND a.grantee <> 0
          AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')"""

BACK = """
DROP FUNCTION IF EXISTS registry_load_swap(smallint, bigint);
DROP FUNCTION IF EXISTS registry_load_index(smallint, bigint);
DROP FUNCTION IF EXISTS registry_load_create(smallint, bigint);
DROP FUNCTION IF EXISTS registry_partition_ensure(smallint);
DROP FUNCTION IF EXISTS compliance_decision_log_erase(text[], text[]);

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

CREATE OR REPLACE FUNCTION compliance_ruleset_stamp_bump() RETURNS trigger AS $$
BEGIN
    INSERT INTO compliance_rulesetstamp (id, version) VALUES (1, nextval('compliance_ruleset_stamp_seq'))
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

PARTITION_NAME = re.compile(r"registry_number_s[0-9]{1,5}")


def _schema(cursor) -> tuple[str, str]:
    cursor.execute("SELECT quote_ident(current_schema()), quote_literal(current_schema())")
    return cursor.fetchone()


def registry_tables_to_owner(cursor) -> list[str]:
    """Rebuild, as the owner (the current user), the registry's tables that
    another role owns; returns the partitions rebuilt. Nothing of theirs but
    the numbers survives: triggers, rules, policies, indexes, defaults,
    constraints and grants go with the old tables (grants_apply grants the
    new ones after migrate)."""
    cursor.execute(
        """SELECT c.oid::regclass::text, c.relname, c.relowner <> current_user::regrole
           FROM pg_class c WHERE c.oid = to_regclass('registry_number')
              OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('registry_number'))
           ORDER BY c.relname"""
    )
    tables = cursor.fetchall()
    if not any(foreign for _table, _name, foreign in tables):
        return []
    cursor.execute(
        """SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
           WHERE c.oid = ANY(%s::regclass[]) AND a.attnum > 0 AND NOT a.attisdropped
             AND (a.attname, a.atttypid) NOT IN (('number', 'int8'::regtype), ('source_id', 'int2'::regtype))
             AND a.attname IN ('number', 'source_id')""",
        [[table for table, _name, _foreign in tables]],
    )
    if changed := [column for (column,) in cursor.fetchall()]:
        raise RuntimeError(f"registry columns of another type than the schema's: {changed}; fix them by hand")
    partitions = [(table, name) for table, name, _foreign in tables if name != "registry_number"]
    for _table, name in partitions:
        if not PARTITION_NAME.fullmatch(name):
            raise RuntimeError(f"registry partition {name} has no source id in its name; fix it by hand")
    cursor.execute("SET LOCAL row_security = off")  # a policy of the app's would run its code: refuse
    cursor.execute(
        "CREATE TABLE registry_number_owned (number bigint NOT NULL, source_id smallint NOT NULL) "
        "PARTITION BY LIST (source_id)"
    )
    rebuilt = []
    for table, name in partitions:
        source = int(name.removeprefix("registry_number_s"))
        fresh = f"{name}_owned"
        cursor.execute(
            f"CREATE TABLE {fresh} (number bigint NOT NULL, source_id smallint NOT NULL DEFAULT {source} "
            f"CONSTRAINT registry_number_source CHECK (source_id = {source}))"
        )
        cursor.execute(
            f"INSERT INTO {fresh} (number) SELECT number FROM ONLY {table} WHERE source_id = {source}"
        )
        cursor.execute(f"CREATE UNIQUE INDEX {fresh}_number ON {fresh} (number)")
        rebuilt.append(name)
    cursor.execute("DROP TABLE registry_number CASCADE")
    cursor.execute("ALTER TABLE registry_number_owned RENAME TO registry_number")
    for name in rebuilt:
        source = int(name.removeprefix("registry_number_s"))
        cursor.execute(f"ALTER TABLE {name}_owned RENAME TO {name}")
        cursor.execute(f"ALTER INDEX {name}_owned_number RENAME TO {name}_number")
        cursor.execute(f"ALTER TABLE registry_number ATTACH PARTITION {name} FOR VALUES IN ({source})")
        cursor.execute(f"ANALYZE {name}")
    cursor.execute("RESET row_security")
    return rebuilt


def doors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        schema, schema_literal = _schema(cursor)
        registry_tables_to_owner(cursor)
    parent_grants = PARENT_GRANTS.format(schema_literal=schema_literal)
    schema_editor.execute(
        DOORS.format(schema=schema, schema_literal=schema_literal, parent_grants=parent_grants), params=None
    )


def doors_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        schema, _literal = _schema(cursor)
    schema_editor.execute(BACK.format(schema=schema), params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0011_rnd_ledger"),
        ("consent", "0003_suppression_key_id"),
        ("registry", "0005_inbox_paths_to_names"),
    ]

    operations = [migrations.RunPython(doors, doors_back)]
