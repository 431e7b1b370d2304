from django.apps import AppConfig


class CancellationsConfig(AppConfig):
    name = "cancellations"
    verbose_name = "Cancellations"

    def ready(self):
        from cancellations import receivers  # noqa: F401 - connects the refund outcome signals
        from cancellations.conf import validate_channel_conf
        from channels.conf import register_conf_validator

        register_conf_validator(validate_channel_conf)
