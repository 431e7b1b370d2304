import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0004_channel_webhook_events_db_default"),
        ("orders", "0005_storefront_sync_event"),
    ]

    operations = [
        # the composite index first: the customer's foreign key stays indexed throughout
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["customer", "channel", "id"], name="order_customer_channel_idx"),
        ),
        migrations.AlterField(
            model_name="order",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="orders.customer",
            ),
        ),
    ]
