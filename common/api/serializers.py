import re
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.errors import ApplicationError

BASE_MODEL_FIELDS = (
    "uuid",
    "attributes",
    "attributes_kwargs",
    "localized_attributes",
    "localized_attributes_kwargs",
    "created_date",
    "modified_date",
)


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.JSONField):
    """A JSON field that must hold an object (a dict), as Omnitron's `conf`, `attributes` and friends do."""

    default_error_messages = {
        "not_an_object": "A JSON object is required.",
        "nul": "Text may not contain NUL (U+0000) characters.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_an_object")
        if has_nul(value):
            self.fail("nul")
        return value


# The largest id a bigint column holds: a bigger number is refused as input, never sent to the database.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that is refused as invalid before the lookup when it cannot be an id at all."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            value = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= value <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


def has_nul(value) -> bool:
    """PostgreSQL cannot store U+0000 in text or jsonb: refuse it at the door."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


PLAIN_MONEY = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$", "nullable": True}
)
class PlainMoneyField(serializers.Field):
    """Input money as the contract writes it: a plain decimal string (or number) with at most two places, no
    exponent, not negative; empty or null is None. A bad value is refused as a business rule, with a stable code
    (`<field>_invalid` or `<field>_negative`), not as generic invalid input."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", None)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal | None:
        if data is None or data == "":
            return None
        text = str(data).strip() if isinstance(data, str | int | float) and not isinstance(data, bool) else ""
        if not PLAIN_MONEY.fullmatch(text):
            raise ApplicationError(
                f'{self.field_name} must be a plain decimal with at most two places, e.g. "10.50".',
                code=f"{self.field_name}_invalid",
                field=self.field_name,
            )
        amount = Decimal(text).quantize(Decimal("0.01"))
        if amount < 0:
            raise ApplicationError(
                f"{self.field_name} cannot be negative.", code=f"{self.field_name}_negative", field=self.field_name
            )
        return amount

    def to_representation(self, value):
        return None if value is None else f"{value:.2f}"


class PlainDecimalField(serializers.DecimalField):
    """DRF's DecimalField without exponent notation: `"1e1"` is refused, not read as 10. Numbers in JSON and plain
    decimal strings are taken as DecimalField takes them."""

    default_error_messages = {"plain": 'A plain decimal is required, e.g. "10.50" (no exponent).'}

    def to_internal_value(self, data):
        if isinstance(data, str) and not PLAIN_DECIMAL.fullmatch(data.strip()):
            self.fail("plain")
        if isinstance(data, float) and not PLAIN_DECIMAL.fullmatch(repr(data)):
            self.fail("plain")
        return super().to_internal_value(data)


PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
