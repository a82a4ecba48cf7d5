"""Target history keeps its indexes by target and time only (simple-history's
no_db_index for the copied campaign, number and lease agent): nothing reads
history by them, and a hand-off writes two history rows. Dropped as 0005
drops its indexes (core.schema.indexes_dropped)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.schema import indexes_dropped

TABLE = "campaigns_historicalcampaigntarget"
INDEXES = [  # (index, table, column), as Django named them
    ("campaigns_historicalcampaigntarget_campaign_id_8a9d1009", TABLE, "campaign_id"),
    ("campaigns_historicalcampaigntarget_lease_agent_id_883772b4", TABLE, "lease_agent_id"),
    ("campaigns_historicalcampaigntarget_phone_number_id_9d146750", TABLE, "phone_number_id"),
]


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("campaigns", "0005_redundant_fk_indexes"),
        ("customers", "0003_legal_hold_reason_help"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalcampaigntarget",
                    name="campaign",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="campaigns.campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcampaigntarget",
                    name="lease_agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcampaigntarget",
                    name="phone_number",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.phonenumber",
                    ),
                ),
            ],
            database_operations=[indexes_dropped(INDEXES)],
        ),
    ]
