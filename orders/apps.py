from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from channels.models import SyncContentType
        from channels.sync import register_sync_content_type

        register_sync_content_type(name=SyncContentType.ORDER, model_label="orders.Order", channel_lookup="channel_id")
        register_sync_content_type(
            name=SyncContentType.ORDER_ITEM, model_label="orders.OrderItem", channel_lookup="order__channel_id"
        )
        # Products are shared by every channel: a product only has to exist.
        register_sync_content_type(name=SyncContentType.PRODUCT, model_label="orders.Product", channel_lookup=None)
