from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "cancellations"
    verbose_name = "Cancellations"

    def ready(self):
        from cancellations import receivers  # noqa: F401 - connects the refund outcome signals
        from cancellations.conf import validate_channel_conf
        from channels.conf import register_conf_validator
        from channels.models import SyncContentType
        from channels.sync import register_sync_content_type

        register_conf_validator(validate_channel_conf)
        register_sync_content_type(
            name=SyncContentType.CANCELLATION_REQUEST,
            model_label="cancellations.CancellationRequest",
            channel_lookup="order_item__order__channel_id",
        )
