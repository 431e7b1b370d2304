import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def channel_from_order(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Refund = apps.get_model("refunds", "Refund")
    Refund.objects.filter(channel__isnull=True).update(
        channel_id=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("channel_id")[:1])
    )


def channel_field(null):
    return models.ForeignKey(
        db_index=False, null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="channels.channel"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("refunds", "0004_refund_order_and_instructions"),
        ("channels", "0002_integration_action_batch_request"),
    ]

    operations = [
        migrations.AddField(model_name="refund", name="channel", field=channel_field(null=True)),
        migrations.RunPython(channel_from_order, migrations.RunPython.noop),
        migrations.AlterField(model_name="refund", name="channel", field=channel_field(null=False)),
        migrations.AddIndex(
            model_name="refund", index=models.Index(fields=["channel", "-id"], name="refund_channel_id_idx")
        ),
    ]
