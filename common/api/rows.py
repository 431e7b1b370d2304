"""List pages read with `.values()`: a FastReadMixin serializer's representation built from plain rows.

A page of 100 orders is some 800 model instances (orders, customers, items, products) made only to be read field by
field; making them, and decoding columns no serializer shows, is most of the page's time. `RowReader` derives from a
serializer the columns it shows (its nested serializers' through joins, its nested lists through one query each,
as `prefetch_related` would) and builds the same representation from the rows, value for value:

- a plain column: FastReadMixin's converter, else the field's own `to_representation`;
- a nested serializer over a foreign key: its columns joined (`customer__email`), None when the key is null;
- a nested list over a reverse foreign key: one query for the page, filtered, ordered and shaped by the list
  queryset's `Prefetch` of that name (else the related model's default ordering).

A field it cannot read from a row (a method field, a dotted source, a relation it does not know) is refused when
the reader is made, so a serializer that gains one fails loudly instead of answering differently.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch
from rest_framework import serializers
from rest_framework.response import Response

from common.api.fast import FastReadMixin, _fast_reader, _model_columns, _plain_attribute

# The key every top-level row carries its primary key under (the paginator's deep pages read it too).
PK = "pk"
# A step's mark for a nested list.
_LIST = object()


class RowReader:
    """The representation of `serializer` (a FastReadMixin serializer instance), read from `.values()` rows."""

    def __init__(self, serializer, *, prefix: str = "", nested: bool = False):
        model = serializer.Meta.model
        columns = _model_columns(model)
        self.columns: list[str] = [] if nested else [PK]
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
                self._column(name, prefix + reader[0], reader[1])
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
                self._column(name, prefix + attribute, field.to_representation)
            else:
                raise _unreadable(serializer, name)

    def _column(self, name, path, convert):
        self.columns.append(path)
        self.steps.append((name, path, convert, None))

    def values(self, queryset):
        """The list's queryset as rows of the columns the serializer shows (its joins, none of its prefetches)."""
        return queryset.prefetch_related(None).values(*dict.fromkeys(self.columns))

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
            for item in items.values(*dict.fromkeys([*child.columns, parent_key])):
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


def _unreadable(serializer, name) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{type(serializer).__name__}.{name} cannot be read from a values() row")


def _list_queryset(queryset, name, model):
    for lookup in queryset._prefetch_related_lookups:
        if isinstance(lookup, Prefetch) and lookup.prefetch_to == name and lookup.queryset is not None:
            return lookup.queryset
    return model._default_manager.all()


_readers: dict[type, RowReader] = {}


def row_reader(serializer_class) -> RowReader:
    """The reader of a serializer class, made once."""
    reader = _readers.get(serializer_class)
    if reader is None:
        reader = _readers[serializer_class] = RowReader(serializer_class())
    return reader


class RowListMixin:
    """`list` reads its page with `.values()` and builds the serializer's representation from the rows
    (`RowReader`): the same body, without a model instance per row."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        reader = row_reader(self.get_serializer_class())
        if self.paginator is None:
            return Response(reader.represent(reader.values(queryset), queryset))
        self.paginator.read_rows = reader.values
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(reader.represent(page, queryset))
