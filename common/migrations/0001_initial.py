import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """IdempotencyRecord moved here from the `omnitron` app: the table stays as it is (state only)."""

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("omnitron", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(help_text="SHA-256 of the method, path and body.", max_length=64)),
                        ("state", models.CharField(choices=[("in_flight", "In flight"), ("done", "Done")], default="in_flight", max_length=16)),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.TextField(blank=True)),
                        ("created_date", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "omnitron_idempotencyrecord",
                        "constraints": [models.UniqueConstraint(fields=("user", "key"), name="idempotency_key_unique_per_user")],
                    },
                ),
            ],
        ),
    ]
