import importlib

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

on_insert = importlib.import_module("cancellations.migrations.0005_request_id_ceiling")
on_update = importlib.import_module("cancellations.migrations.0006_request_id_ceiling_on_update")


def customer_from_order(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    Request = apps.get_model("cancellations", "CancellationRequest")
    Request.objects.filter(customer__isnull=True).update(
        customer_id=Subquery(OrderItem.objects.filter(pk=OuterRef("order_item_id")).values("order__customer_id")[:1])
    )


def sqlite_triggers_restore(apps, schema_editor):
    """SQLite makes a column NOT NULL by building the table anew, which drops its triggers: the id ceilings' two
    (0005, 0006) are made again. PostgreSQL alters the column in place and keeps them."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for module in (on_insert, on_update):
        schema_editor.execute(module.SQLITE_DROP.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS"), params=None)
        schema_editor.execute(module.SQLITE_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0006_request_id_ceiling_on_update"),
        ("orders", "0006_order_customer_channel_index"),
    ]

    operations = [
        # Undone last when the migration is reversed: the column's removal builds the table anew on SQLite too.
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers_restore),
        migrations.AddField(
            model_name="cancellationrequest",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.customer",
            ),
        ),
        migrations.RunPython(customer_from_order, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="cancellationrequest",
            name="customer",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="orders.customer"
            ),
        ),
        migrations.RunPython(sqlite_triggers_restore, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(fields=["channel", "customer", "-id"], name="request_channel_customer_idx"),
        ),
    ]
