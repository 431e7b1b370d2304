from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    """Telling the storefront an order came from that the order was cancelled here (`conf.storefront`)."""

    name = "storefront"
    verbose_name = "Storefront sync"

    def ready(self):
        from channels.conf import register_conf_validator, register_write_only_conf_key
        from common.outbox import register_outbox
        from storefront.conf import validate_storefront_conf
        from storefront.services import STOREFRONT_OUTBOX

        register_conf_validator(validate_storefront_conf)
        register_write_only_conf_key("storefront", "access_token")
        register_outbox(STOREFRONT_OUTBOX)
