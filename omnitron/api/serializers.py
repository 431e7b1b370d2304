from rest_framework import serializers

BASE_MODEL_FIELDS = (
    "uuid",
    "attributes",
    "attributes_kwargs",
    "localized_attributes",
    "localized_attributes_kwargs",
    "created_date",
    "modified_date",
)


class JSONObjectField(serializers.JSONField):
    """A JSON field that must hold an object (a dict), as Omnitron's `conf`, `attributes` and friends do."""

    default_error_messages = {"not_an_object": "A JSON object is required."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        return value
