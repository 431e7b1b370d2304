from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "cancellations"
    verbose_name = "Cancellations"

    def ready(self):
        from cancellations.conf import validate_channel_conf
        from cancellations.services import PlanRefundOwner
        from channels.conf import register_conf_validator
        from channels.models import SyncContentType
        from channels.sync import register_sync_content_type
        from refunds.hooks import register_refund_owner

        register_conf_validator(validate_channel_conf)
        register_refund_owner(PlanRefundOwner())
        register_sync_content_type(
            name=SyncContentType.CANCELLATION_REQUEST,
            model_label="cancellations.CancellationRequest",
            channel_lookup="channel_id",
        )
