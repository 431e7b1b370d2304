from django.apps import AppConfig


class CommonConfig(AppConfig):
    """The shared base every app may use: BaseModel and money fields, ApplicationError, the API plumbing, and
    the idempotency records behind `Idempotency-Key`."""

    name = "common"
    verbose_name = "Common"

    def ready(self):
        from common import after_response

        after_response.connect()
