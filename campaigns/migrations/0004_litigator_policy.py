"""Each campaign's litigator policy (issue 18): stored when a campaign is
created (block for marketing, flag for informational); campaigns that exist
get the same, each with a history row saying why."""

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

REASON = "litigator policy set by migration 0004 (block for marketing, flag for informational)"


def policies_set(apps, schema_editor):
    Campaign = apps.get_model("campaigns", "Campaign")
    HistoricalCampaign = apps.get_model("campaigns", "HistoricalCampaign")
    now = timezone.now()
    fields = [field.attname for field in Campaign._meta.concrete_fields]
    rows = []
    for campaign in Campaign.objects.filter(litigator_policy=""):
        campaign.litigator_policy = "block" if campaign.purpose == "marketing" else "flag"
        campaign.save(update_fields=["litigator_policy"])
        rows.append(
            HistoricalCampaign(
                **{name: getattr(campaign, name) for name in fields},
                history_date=now,
                history_type="~",
                history_change_reason=REASON,
            )
        )
    HistoricalCampaign.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_campaign_scrub"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="litigator_policy",
            field=models.CharField(
                blank=True,
                choices=[
                    ("block", "Block the call"),
                    ("flag", "Allow, and flag for a compliance officer's review"),
                    ("ignore", "Ignore"),
                ],
                help_text="What a number on a litigator list means for this campaign's calls. Set when the campaign is created (block for marketing, flag for informational) unless chosen; missing or old litigator data never blocks a call.",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="historicalcampaign",
            name="litigator_policy",
            field=models.CharField(
                blank=True,
                choices=[
                    ("block", "Block the call"),
                    ("flag", "Allow, and flag for a compliance officer's review"),
                    ("ignore", "Ignore"),
                ],
                help_text="What a number on a litigator list means for this campaign's calls. Set when the campaign is created (block for marketing, flag for informational) unless chosen; missing or old litigator data never blocks a call.",
                max_length=10,
            ),
        ),
        migrations.RunPython(policies_set, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("litigator_policy__in", ["block", "flag", "ignore"])),
                name="campaign_litigator_policy_known",
                violation_error_message="A litigator policy is block, flag or ignore.",
            ),
        ),
    ]
