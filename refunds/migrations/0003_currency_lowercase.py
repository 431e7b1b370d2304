from django.db import migrations
from django.db.models.functions import Lower


def currency_to_lowercase(apps, schema_editor):
    """Money rows carry their order's currency, which is now stored in lowercase as Omnitron returns it."""
    for model in ("Refund", "BankTransfer", "LoyaltyTransaction"):
        rows = apps.get_model("refunds", model).objects
        rows.exclude(currency=Lower("currency")).update(currency=Lower("currency"))


class Migration(migrations.Migration):
    dependencies = [("refunds", "0002_refund_next_attempt"), ("orders", "0003_extra_field_currency_lowercase")]

    operations = [migrations.RunPython(currency_to_lowercase, migrations.RunPython.noop)]
