"""The access log's door (0005) narrowed: it rewrote any row the app named,
so the app's role could turn any row's target into some "hmac:..." and any
path into anything that holds "(erased ". Now it also takes the erasure's
search terms (accounts.erasure: the person's emails and the last four digits
of each number, plain and as a query string writes them) and changes a row
only where the old value holds one of them:

- a target only when it names the person, and only into "hmac:" and 64 hex
  digits (the keyed hash, which the database cannot recompute: it never
  holds the key);
- a path only when it names the person, and only into one with an erasure
  mark.

A term is four digits or holds an "@" (or its "%40"): no short word that
every row contains. The three-argument door goes."""

from django.db import migrations

DOOR = """
DROP FUNCTION IF EXISTS accounts_access_log_redact(bigint[], text[], text[]);

CREATE OR REPLACE FUNCTION accounts_access_log_redact(ids bigint[], targets text[], paths text[], terms text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(terms) AS t(term)
               WHERE t.term IS NULL OR NOT (t.term ~ '^[0-9]{{4}}$'::text OR strpos(t.term, '@'::text) > 0
                                            OR strpos(t.term, '%40'::text) > 0)) THEN
        RAISE EXCEPTION 'a search term is four digits or an email' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE {schema}.accounts_accesslog a SET target = r.target, path = r.path
    FROM unnest(ids, targets, paths) AS r(id, target, path)
    WHERE a.id = r.id
      AND (r.target::text = a.target::text
           OR (r.target::text ~ '^hmac:[0-9a-f]{{64}}$'::text AND a.target::text !~ '^hmac:'::text
               AND EXISTS (SELECT 1 FROM unnest(terms) AS t(term)
                           WHERE strpos(lower(a.target::text), lower(t.term)) > 0)))
      AND (r.path::text = a.path::text
           OR (strpos(r.path::text, '(erased '::text) > 0
               AND EXISTS (SELECT 1 FROM unnest(terms) AS t(term)
                           WHERE strpos(lower(a.path::text), lower(t.term)) > 0)));
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END;
$$;
"""

BACK = """
DROP FUNCTION IF EXISTS accounts_access_log_redact(bigint[], text[], text[], text[]);

CREATE OR REPLACE FUNCTION accounts_access_log_redact(ids bigint[], targets text[], paths text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    changed bigint;
BEGIN
    UPDATE {schema}.accounts_accesslog a SET target = r.target, path = r.path
    FROM unnest(ids, targets, paths) AS r(id, target, path)
    WHERE a.id = r.id
      AND (r.target::text = a.target::text
           OR (r.target::text LIKE 'hmac:%'::text AND a.target::text NOT LIKE 'hmac:%'::text))
      AND (r.path::text = a.path::text OR r.path::text LIKE '%(erased %'::text);
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END;
$$;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def door(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DOOR.format(schema=_schema(schema_editor)), params=None)


def door_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACK.format(schema=_schema(schema_editor)), params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_access_log_redact_door")]

    operations = [migrations.RunPython(door, door_back)]
