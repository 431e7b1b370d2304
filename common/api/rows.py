"""List pages read with `.values()`: a FastReadMixin serializer's representation built from plain rows.

A page of 100 orders is some 800 model instances (orders, customers, items, products) made only to be read field by
field; making them, and decoding columns no serializer shows, is most of the page's time. `RowReader` derives from a
serializer the columns it shows (its nested serializers' through joins, its nested lists through one query each,
as `prefetch_related` would) and builds the same representation from the rows, value for value:

- a plain column: FastReadMixin's converter, else the field's own `to_representation`; a timestamp is read as the
  database's text and rewritten into the contract's (psycopg parses a timestamptz in Python, some 4 us a value:
  600 values, 2.5 ms, on a page of orders), a JSON document as its text, decoded here (`{}` without the decoder);
- a nested serializer over a foreign key: its columns joined (`customer__email`), None when the key is null;
- a nested list over a reverse foreign key: one query for the page, filtered, ordered and shaped by the list
  queryset's `Prefetch` of that name (else the related model's default ordering).

A field it cannot read from a row (a method field, a dotted source, a relation it does not know) is refused when
the reader is made, so a serializer that gains one fails loudly instead of answering differently.
"""

import json
import re
from datetime import UTC

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Prefetch, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from common.api.fast import FastReadMixin, _fast_reader, _model_columns, _plain_attribute

# The key every top-level row carries its primary key under (the paginator's deep pages read it too).
PK = "pk"
# A step's mark for a nested list.
_LIST = object()
# A timestamp's text in UTC: PostgreSQL's (the session's time zone is UTC), "2025-03-01 09:30:05.12+00", without
# trailing zeros in the fraction; SQLite's as Django stores it, without an offset.
_UTC_TIMESTAMP_TEXT = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?:\+00(?::00)?)?")
_CONTRACT_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%fZ", "%4Y-%m-%dT%H:%M:%S.%fZ")


class RowReader:
    """The representation of `serializer` (a FastReadMixin serializer instance), read from `.values()` rows."""

    def __init__(self, serializer, *, prefix: str = "", nested: bool = False):
        model = serializer.Meta.model
        columns = _model_columns(model)
        self.columns: list[str] = [] if nested else [PK]
        # columns read through an expression, by their alias in the row
        self.expressions: dict[str, models.Expression] = {}
        self.model = model
        # (name, path, converter, nested): a column's value not None goes through the converter; a nested
        # serializer's row is built when its key (at path) is not None; a nested list starts empty (`represent`)
        self.steps: list[tuple] = []
        # (name, reverse foreign key's attname on the child, child reader)
        self.lists: list[tuple[str, str, RowReader]] = []
        self.list_models = {}
        for field in serializer._readable_fields:
            name = field.field_name
            attribute = _plain_attribute(field)
            reader = _fast_reader(field, columns)
            if reader is not None:
                self._column(name, prefix + reader[0], reader[1], field)
            elif attribute is None:
                raise _unreadable(serializer, name)
            elif isinstance(field, FastReadMixin):
                relation = model._meta.get_field(attribute)
                if not (relation.concrete and (relation.many_to_one or relation.one_to_one)):
                    raise _unreadable(serializer, name)
                child = RowReader(field, prefix=f"{prefix}{attribute}__", nested=True)
                if child.lists:
                    raise _unreadable(serializer, name)
                self.columns.extend([prefix + relation.attname, *child.columns])
                self.expressions.update(child.expressions)
                self.steps.append((name, prefix + relation.attname, None, child))
            elif isinstance(field, serializers.ListSerializer) and isinstance(field.child, FastReadMixin):
                relation = model._meta.get_field(attribute)
                if nested or not relation.one_to_many:
                    raise _unreadable(serializer, name)
                child = RowReader(field.child, nested=True)
                if child.lists:
                    raise _unreadable(serializer, name)
                self.lists.append((name, relation.field.attname, child))
                self.list_models[name] = relation.related_model
                self.steps.append((name, None, None, _LIST))
            elif attribute in columns and not isinstance(field, serializers.RelatedField | serializers.BaseSerializer):
                self._column(name, prefix + attribute, field.to_representation, field)
            else:
                raise _unreadable(serializer, name)

    def _column(self, name, path, convert, field):
        text_convert = _text_converter(self.model, field, convert)
        if text_convert is not None:
            alias = f"{path}:text"
            self.expressions[alias] = Cast(path, TextField())
            self.steps.append((name, alias, text_convert, None))
            return
        self.columns.append(path)
        self.steps.append((name, path, convert, None))

    def values(self, queryset):
        """The list's queryset as rows of the columns the serializer shows (its joins, none of its prefetches)."""
        return queryset.prefetch_related(None).values(*dict.fromkeys(self.columns), **self.expressions)

    def represent(self, rows, queryset) -> list[dict]:
        """The representation of `rows` (from `values`), with their nested lists read as `queryset` prefetches
        them: one query per list, none for an empty page."""
        rows = list(rows)
        results = [self._build(row) for row in rows]
        if not rows:
            return results
        for name, parent_key, child in self.lists:
            by_parent = {row[PK]: result[name] for row, result in zip(rows, results, strict=True)}
            items = _list_queryset(queryset, name, self.list_models[name]).filter(**{f"{parent_key}__in": by_parent})
            for item in items.values(*dict.fromkeys([*child.columns, parent_key]), **child.expressions):
                by_parent[item[parent_key]].append(child._build(item))
        return results

    def _build(self, row) -> dict:
        representation = {}
        for name, path, convert, nested in self.steps:
            if nested is None:
                value = row[path]
                representation[name] = None if value is None else convert(value)
            elif nested is _LIST:
                representation[name] = []
            else:
                representation[name] = None if row[path] is None else nested._build(row)
        return representation


def _text_converter(model, field, convert):
    """For a column cheaper to read as its text (a timestamp, a JSON document) whose field FastReadMixin converts
    (`convert`): the converter of its text, else None."""
    if convert == field.to_representation or field.source == "pk":
        return None
    column = model._meta.get_field(field.source)
    if type(field) is serializers.DateTimeField and isinstance(column, models.DateTimeField):
        return _timestamp_text_converter(field, convert)
    if type(field) is serializers.JSONField and isinstance(column, models.JSONField) and column.decoder is None:
        return _json_text
    return None


def _json_text(text):
    """A JSON document's text decoded as Django's JSONField decodes it; most are `{}`."""
    return {} if text == "{}" else json.loads(text)


def _timestamp_text_converter(field, convert):
    """A timestamp's text to the contract's format, when the field writes it (FastReadMixin's converter). A text
    not in UTC (or a year the format would not pad) is parsed and converted the ordinary way."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format not in _CONTRACT_DATETIME_FORMATS:
        return None
    pads_year = output_format.startswith("%4Y")

    def from_text(text):
        if text[-3:] == "+00" and text[10] == " " and text[0] != "0":
            # PostgreSQL's text, "2025-03-01 09:30:05+00" up to "2025-03-01 09:30:05.123456+00", by slicing
            size = len(text)
            if size == 22:
                return f"{text[:10]}T{text[11:19]}.000000Z"
            if 24 <= size <= 29 and text[19] == ".":
                return f"{text[:10]}T{text[11 : size - 3]}{'0' * (29 - size)}Z"
        match = _UTC_TIMESTAMP_TEXT.fullmatch(text)
        if match is None or not (pads_year or text[0] != "0"):
            moment = parse_datetime(text)
            return convert(timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment)
        day, time, fraction = match.groups()
        return f"{day}T{time}.{(fraction or '').ljust(6, '0')}Z"

    return from_text


def _unreadable(serializer, name) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{type(serializer).__name__}.{name} cannot be read from a values() row")


def _list_queryset(queryset, name, model):
    for lookup in queryset._prefetch_related_lookups:
        if isinstance(lookup, Prefetch) and lookup.prefetch_to == name and lookup.queryset is not None:
            return lookup.queryset
    return model._default_manager.all()


_readers: dict[type, RowReader] = {}


def row_reader(serializer_class) -> RowReader:
    """The reader of a serializer class, made once (its fields must not depend on the request)."""
    reader = _readers.get(serializer_class)
    if reader is None:
        reader = _readers[serializer_class] = RowReader(serializer_class())
    return reader


class RowListMixin:
    """`list` reads its page with `.values()` and builds the serializer's representation from the rows
    (`RowReader`): the same body, without a model instance per row. Another list action answers with
    `rows_response`."""

    def list(self, request, *args, **kwargs):
        return self.rows_response(self.filter_queryset(self.get_queryset()))

    def rows_response(self, queryset):
        """The page of `queryset` the request asks for, as the view's serializer represents it."""
        reader = row_reader(self.get_serializer_class())
        if self.paginator is None:
            return Response(reader.represent(reader.values(queryset), queryset))
        self.paginator.read_rows = reader.values
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(reader.represent(page, queryset))
