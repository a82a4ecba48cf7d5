"""The access log's door for the owner's role (issue 15): with two database
roles (core.db_roles) the app's role may only read and append to the access
log, so a customer's erasure rewrites the rows that name them through this
SECURITY DEFINER function, with a pinned search_path. It touches only
`target` and `path`, and only towards erasure: a target becomes a keyed hash
("hmac:...") or stays as it is; a path gets erasure marks ("(erased ...)")
or stays. Who, what action, when and from where never change."""

from django.db import migrations

DOOR = """
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


def door(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT quote_ident(current_schema())")
            schema = cursor.fetchone()[0]
        schema_editor.execute(DOOR.format(schema=schema), params=None)


def door_back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS accounts_access_log_redact(bigint[], text[], text[])")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_access_log_login_events")]

    operations = [migrations.RunPython(door, door_back)]
