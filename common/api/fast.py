"""Reading rows out through DRF serializers without DRF's per-field machinery where a field is a plain column.

A list page of 100 detailed cancellation requests is some 9,000 field values. DRF spends most of a page's time in
`Field.get_attribute` (source resolution, error handling for every attribute) and in per-type `to_representation`
(time zone enforcement for every datetime). `FastReadMixin` reads a plain column with one `getattr` and converts
it with a function chosen once per serializer; every other field (nested serializers, method fields, dotted sources,
custom field classes) goes the ordinary way, so the output is the same, value for value.
"""

import decimal
from datetime import UTC

from django.conf import settings
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings


def _identity(value):
    return value


# Formats that `datetime.isoformat` writes (without its "+00:00"), some three times faster than strftime, from the
# year given: "%4Y" pads the year to four digits as isoformat does; "%Y" writes four digits from the year 1000 on.
_ISOFORMAT_FROM_YEAR = {"%4Y-%m-%dT%H:%M:%S.%fZ": 1, "%Y-%m-%dT%H:%M:%S.%fZ": 1000}


def _datetime_converter(field: serializers.DateTimeField):
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() == ISO_8601 or getattr(field, "timezone", None) is not None:
        return None
    if not settings.USE_TZ or settings.TIME_ZONE != "UTC":
        return None
    isoformat_from_year = _ISOFORMAT_FROM_YEAR.get(output_format)

    def convert(value):
        if isinstance(value, str):
            return value
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        if isoformat_from_year is not None and value.year >= isoformat_from_year:
            text = value.isoformat()[:-6]
            return f"{text}Z" if value.microsecond else f"{text}.000000Z"
        return value.strftime(output_format)

    return convert


def _choice_converter(field: serializers.ChoiceField):
    lookup = field.choice_strings_to_values

    def convert(value):
        if value == "":
            return value
        return lookup.get(str(value), value)

    return convert


def _decimal_converter(field: serializers.DecimalField):
    coerce_to_string = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce_to_string or field.localize or field.normalize_output or field.decimal_places is None:
        return field.to_representation
    # DRF's quantize makes these on every call; the context is the default one (nothing here changes it).
    exponent = decimal.Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding = field.rounding

    def convert(value):
        if type(value) is not decimal.Decimal:
            return field.to_representation(value)
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

    return convert


# Field classes (exactly these, not subclasses: a subclass may represent values its own way) and how a value that
# is not None comes out.
FAST_CONVERTERS = {
    serializers.IntegerField: lambda field: int,
    serializers.BigIntegerField: lambda field: (
        str if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    ),
    serializers.BooleanField: lambda field: _identity,
    serializers.CharField: lambda field: str,
    serializers.EmailField: lambda field: str,
    serializers.URLField: lambda field: str,
    serializers.ReadOnlyField: lambda field: _identity,
    serializers.ModelField: None,
    serializers.UUIDField: lambda field: str if field.uuid_format == "hex_verbose" else None,
    serializers.JSONField: lambda field: None if field.binary else _identity,
    serializers.ChoiceField: _choice_converter,
    serializers.DateTimeField: _datetime_converter,
    serializers.DecimalField: _decimal_converter,
}


def _plain_attribute(field) -> str | None:
    """The model attribute a field reads, when it reads one attribute of the instance itself."""
    if len(field.source_attrs) != 1 or field.source == "*":
        return None
    return field.source_attrs[0]


def _model_columns(model) -> set[str]:
    """The names a row answers with a stored value (never a method or a property that computes)."""
    if model is None:
        return set()
    return {"pk"} | {field.name for field in model._meta.concrete_fields}


def _fast_reader(field, columns: set[str]):
    """(attribute, converter) for a field read with one getattr, or None for the ordinary way."""
    attribute = _plain_attribute(field)
    if attribute is None or attribute not in columns:
        return None
    if type(field) is serializers.PrimaryKeyRelatedField:
        if field.pk_field is not None or not field.use_pk_only_optimization():
            return None
        # The foreign key's column: no related row is loaded or needed.
        return f"{attribute}_id", _identity
    factory = FAST_CONVERTERS.get(type(field))
    converter = factory(field) if factory is not None else None
    if converter is None:
        return None
    return attribute, converter


def _reads_alone(reader, field) -> bool:
    """Whether a plan's entry reads a row without its serializer: a plain column, one of DRF's own fields but a
    method field (which calls a method of its parent) and a file field (which reads the request from the context),
    or a nested fast serializer (one row or a list of them). Another field may ask its serializer or the context."""
    if reader is not None or isinstance(field, FastReadMixin):
        return True
    if type(field).__module__ == serializers.Field.__module__:
        return not isinstance(field, (serializers.SerializerMethodField, serializers.FileField))
    return isinstance(field, serializers.ListSerializer) and isinstance(field.child, FastReadMixin)


class FastReadMixin:
    """For read serializers: the same representation as DRF's, built with a plan of readers made once.

    Once per class when every field reads a row alone (see `_reads_alone`): the plan of a serializer made for the
    purpose serves every later one, which then never builds its fields (working them out from the model is most of
    the cost of showing one row). Otherwise once per serializer."""

    def _read_plan(self):
        plan = self.__dict__.get("_fast_read_plan")
        if plan is None:
            cls = type(self)
            if "_shared_read_plan" not in cls.__dict__:
                # Worked out on a serializer of no row and no context, so the shared plan holds on to neither.
                shared = cls()._own_read_plan()
                cls._shared_read_plan = shared if all(_reads_alone(*entry[1:]) for entry in shared) else None
            plan = cls._shared_read_plan or self._own_read_plan()
            self._fast_read_plan = plan
        return plan

    def _own_read_plan(self):
        columns = _model_columns(getattr(getattr(self, "Meta", None), "model", None))
        return tuple((field.field_name, _fast_reader(field, columns), field) for field in self._readable_fields)

    def to_representation(self, instance):
        representation = {}
        for name, reader, field in self._read_plan():
            if reader is not None:
                attribute, convert = reader
                value = getattr(instance, attribute)
                representation[name] = None if value is None else convert(value)
                continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            representation[name] = None if check is None else field.to_representation(value)
        return representation
