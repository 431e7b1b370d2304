import django.db.models.deletion
from django.db import migrations, models


def order_from_plan(apps, schema_editor):
    Refund = apps.get_model("refunds", "Refund")
    for refund in Refund.objects.filter(order__isnull=True).select_related("plan").iterator():
        refund.order_id = refund.plan.order_id
        refund.save(update_fields=["order"])


def financing_instructions(apps, schema_editor):
    """Refunds of the financing rail not yet settled get the instructions their plan implied, as the rail used to
    work them out at each attempt (plans of the order with a lower id came before)."""
    Refund = apps.get_model("refunds", "Refund")
    PlanItem = apps.get_model("cancellations", "CancellationPlanItem")
    OrderItem = apps.get_model("orders", "OrderItem")
    open_refunds = Refund.objects.filter(method="financing").exclude(status="succeeded").select_related("plan")
    for refund in open_refunds.iterator():
        plan = refund.plan
        in_plan = dict(PlanItem.objects.filter(plan=plan).values_list("order_item_id", "quantity"))
        taken_before = {}
        for item_id, units in PlanItem.objects.filter(plan__order_id=plan.order_id, plan_id__lt=plan.pk).values_list(
            "order_item_id", "quantity"
        ):
            taken_before[item_id] = taken_before.get(item_id, 0) + units
        takes_rest = bool(in_plan) and all(
            in_plan.get(item_id, 0) == quantity - taken_before.get(item_id, 0)
            for item_id, quantity in OrderItem.objects.filter(order_id=plan.order_id).values_list("pk", "quantity")
            if quantity - taken_before.get(item_id, 0) > 0
        )
        if refund.kind == "cargo":
            has_items = Refund.objects.filter(plan=plan, kind="items").exists()
            instructions = (
                {"rides_on_items": True}
                if takes_rest and has_items
                else {"unsupported": "NOT_SUPPORTED: the financing provider cannot refund the shipping fee "
                      "without the whole order."}
            )
        elif not in_plan:
            instructions = {"unsupported": "NOT_SUPPORTED: the plan names no item to cancel or return."}
        else:
            products = OrderItem.objects.filter(pk__in=in_plan).select_related("product").order_by("pk")
            items = [
                {"code": item.product.sku, **({"ean": item.product.ean} if item.product.ean else {})}
                for item in products
            ]
            instructions = {
                "action": "return" if plan.plan_type == "refund" else "cancel",
                "items": None if takes_rest else items,
            }
        refund.instructions = instructions
        refund.save(update_fields=["instructions"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_extra_field_currency_lowercase"),
        ("cancellations", "0002_cancellation_quote"),
        ("refunds", "0003_currency_lowercase"),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="order",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="orders.order"
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="instructions",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(order_from_plan, migrations.RunPython.noop),
        migrations.RunPython(financing_instructions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="refund",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="orders.order"
            ),
        ),
    ]
