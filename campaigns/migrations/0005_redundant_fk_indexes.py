"""Three foreign keys lose their own index, each the first column of another
index (a lookup by it alone reads that one): one index less to write on each
of a hand-off's two updates of its target, two less on its attempt's insert.
Only the indexes are dropped: Django's AlterField would also drop and re-add
each foreign key, checking every row again under a lock. On PostgreSQL each
is dropped CONCURRENTLY (core.schema.indexes_dropped), so hand-offs go on
while a long read holds the table."""

import django.db.models.deletion
from django.db import migrations, models

from core.schema import indexes_dropped

INDEXES = [  # (index, table, column), as Django named them
    ("campaigns_callattempt_campaign_id_8a56489d", "campaigns_callattempt", "campaign_id"),
    ("campaigns_callattempt_phone_number_id_d1ba0a5f", "campaigns_callattempt", "phone_number_id"),
    ("campaigns_campaigntarget_campaign_id_11c39793", "campaigns_campaigntarget", "campaign_id"),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("campaigns", "0004_litigator_policy"),
        ("customers", "0003_legal_hold_reason_help"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="callattempt",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="attempts",
                        to="campaigns.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="callattempt",
                    name="phone_number",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="attempts",
                        to="customers.phonenumber",
                    ),
                ),
                migrations.AlterField(
                    model_name="campaigntarget",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="targets",
                        to="campaigns.campaign",
                    ),
                ),
            ],
            database_operations=[indexes_dropped(INDEXES)],
        ),
    ]
