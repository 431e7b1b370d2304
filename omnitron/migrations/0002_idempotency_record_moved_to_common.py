from django.db import migrations


class Migration(migrations.Migration):
    """IdempotencyRecord now belongs to the `common` app; its table stays (state only)."""

    dependencies = [("omnitron", "0001_initial"), ("common", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="IdempotencyRecord")]),
    ]
