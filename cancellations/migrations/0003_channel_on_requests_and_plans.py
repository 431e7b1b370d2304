import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def channel_from_order(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderItem = apps.get_model("orders", "OrderItem")
    Plan = apps.get_model("cancellations", "CancellationPlan")
    Request = apps.get_model("cancellations", "CancellationRequest")
    Plan.objects.filter(channel__isnull=True).update(
        channel_id=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("channel_id")[:1])
    )
    Request.objects.filter(channel__isnull=True).update(
        channel_id=Subquery(OrderItem.objects.filter(pk=OuterRef("order_item_id")).values("order__channel_id")[:1])
    )


def channel_field(null):
    return models.ForeignKey(
        db_index=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="channels.channel",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cancellations", "0002_cancellation_quote"),
        ("channels", "0002_integration_action_batch_request"),
        ("orders", "0003_extra_field_currency_lowercase"),
    ]

    operations = [
        migrations.AddField(model_name="cancellationplan", name="channel", field=channel_field(null=True)),
        migrations.AddField(model_name="cancellationrequest", name="channel", field=channel_field(null=True)),
        migrations.RunPython(channel_from_order, migrations.RunPython.noop),
        migrations.AlterField(model_name="cancellationplan", name="channel", field=channel_field(null=False)),
        migrations.AlterField(model_name="cancellationrequest", name="channel", field=channel_field(null=False)),
        migrations.AddIndex(
            model_name="cancellationplan",
            index=models.Index(fields=["channel", "-id"], name="plan_channel_id_idx"),
        ),
        migrations.AddIndex(
            model_name="cancellationplan",
            index=models.Index(fields=["channel", "status", "-id"], name="plan_channel_status_idx"),
        ),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(fields=["channel", "-id"], name="request_channel_id_idx"),
        ),
        migrations.AddIndex(
            model_name="cancellationrequest",
            index=models.Index(fields=["channel", "status", "-id"], name="request_channel_status_idx"),
        ),
    ]
