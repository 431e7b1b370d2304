from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    verbose_name = "Sales channels"

    def ready(self):
        from channels import throttle  # noqa: F401 - counts failed logins (user_login_failed)
