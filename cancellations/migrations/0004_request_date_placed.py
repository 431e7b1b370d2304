from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def date_placed_from_order(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    Request = apps.get_model("cancellations", "CancellationRequest")
    Request.objects.filter(date_placed__isnull=True).update(
        date_placed=Subquery(OrderItem.objects.filter(pk=OuterRef("order_item_id")).values("order__date_placed")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("cancellations", "0003_channel_on_requests_and_plans")]

    operations = [
        migrations.AddField(model_name="cancellationrequest", name="date_placed", field=models.DateTimeField(null=True)),
        migrations.RunPython(date_placed_from_order, migrations.RunPython.noop),
        migrations.AlterField(model_name="cancellationrequest", name="date_placed", field=models.DateTimeField()),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(fields=["channel", "date_placed"], name="request_channel_placed_idx"),
        ),
    ]
