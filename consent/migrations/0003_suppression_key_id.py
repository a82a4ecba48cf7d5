from django.db import migrations, models


class Migration(migrations.Migration):
    """Each suppression entry names the key that made its hash (a fingerprint,
    not the key), so that a key still in use is never dropped. Entries made
    before keep an empty key id: the key in use then."""

    dependencies = [
        ("consent", "0002_consent_expiry_recorded"),
    ]

    operations = [
        migrations.AddField(
            model_name="suppressionentry",
            name="key_id",
            field=models.CharField(blank=True, db_default="", db_index=True, default="", max_length=12),
        ),
    ]
