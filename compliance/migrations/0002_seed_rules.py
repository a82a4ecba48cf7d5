"""Seed the rule data from compliance/rules/rules.toml (new deployments only:
afterwards compliance officers edit the rules in the admin, with history)."""

from django.db import migrations


def seed_rules(apps, schema_editor):
    from compliance.rules import rules_seed

    rules_seed(apps, schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunPython(seed_rules, migrations.RunPython.noop)]
