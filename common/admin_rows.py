"""The rows of a changelist page, rendered cell for cell as Django's admin renders them, with what does not change
from row to row worked out once per page.

Django's `items_for_result` finds each cell's field, its display rules, the empty value, the formats of the active
language and the row's change URL again for every cell of every row; at 100 rows that is most of a changelist's
time. `page_rows` compiles one renderer per column (the field and how it displays, the classes, whether the cell
links to the row) and then only reads and formats each row's values. Its output is the same HTML as Django's
(`tests/test_admin_rows.py` compares them); a page Django renders differently (editable rows, a popup) is left to
Django.

The rest is how common.admin.LargeTableMixin loads a page: its capped count and ids in one query
(`common.api.pagination.page_ids_and_count`), its rows without the columns no list shows (`lean_rows`), and their
channel or reason from the rows the page's filter already listed (`ListedRowsFilter`, `with_listed_rows`).
"""

import datetime
import html
from collections.abc import Callable

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import (
    _boolean_icon,
    _coerce_field_name,
    items_for_result,
    result_headers,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import Prefetch
from django.db.models.constants import LOOKUP_SEP
from django.db.models.query import ModelIterable
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, formats, numberformat, timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

# Django's label of a row's action checkbox (its translations apply).
ACTION_LABEL = "Select this object for an action - {}"
# Stands for the row's primary key in the change URL, reversed once per page.
PK_PLACEHOLDER = "8264017539"
NOWRAP_FIELDS = (models.DateField, models.TimeField, models.ForeignKey)


# Date format characters whose output depends on the date alone, or on the hour and minute alone (not on the
# seconds, the time zone or daylight saving time): a page keeps their outputs, by date and by clock time.
DATE_CHARACTERS = frozenset("bdDEFjlLmMnNoStwWyYz")
CLOCK_CHARACTERS = frozenset("aAfgGhHiP")


class _PageDateFormat(dateformat.DateFormat):
    """DateFormat with its "a.m."/"p.m." kept for the page: "P" (as in "1:13 p.m.") asks for it on every new minute."""

    def __init__(self, local: datetime.datetime, kept: dict):
        super().__init__(local)
        self.kept = kept

    def a(self):
        key = ("a", self.data.hour > 11)
        if key not in self.kept:
            self.kept[key] = super().a()
        return self.kept[key]


class _MomentFormat:
    """dateformat.format(value, format) of local datetimes, the pieces of its output kept by what they depend on:
    the month's name and the "p.m." are translated once a page, not once a value."""

    def __init__(self, format_string: str):
        self.format_string = format_string
        parts = dateformat.re_formatchars.split(str(format_string))
        self.literals = [dateformat.re_escaped.sub(r"\1", part) for part in parts[0::2]]
        self.characters = parts[1::2]
        self.is_kept = all(char in DATE_CHARACTERS or char in CLOCK_CHARACTERS for char in self.characters)
        self.kept = {}

    def __call__(self, local: datetime.datetime) -> str:
        if not self.is_kept:
            return dateformat.format(local, self.format_string)
        literals, kept = self.literals, self.kept
        day, clock = local.date(), (local.hour, local.minute)
        formatter = None
        output = [literals[0]]
        for index, char in enumerate(self.characters, start=1):
            key = (char, day if char in DATE_CHARACTERS else clock)
            piece = kept.get(key)
            if piece is None:
                formatter = formatter or _PageDateFormat(local, kept)
                piece = kept[key] = str(getattr(formatter, char)())
            output.append(piece)
            output.append(literals[index])
        return "".join(output)


class _Formats:
    """The active language's number and date formats and the current time zone, looked up once per page (Django
    looks them up per value)."""

    def __init__(self):
        language = get_language()
        self.decimal_separator = formats.get_format("DECIMAL_SEPARATOR", language)
        self.grouping = formats.get_format("NUMBER_GROUPING", language)
        self.thousand_separator = formats.get_format("THOUSAND_SEPARATOR", language)
        self.is_grouped = settings.USE_THOUSAND_SEPARATOR and self.grouping != 0
        self.datetime_format = _MomentFormat(formats.get_format("DATETIME_FORMAT", language))
        self.time_zone = timezone.get_current_timezone() if settings.USE_TZ else None
        self.icons = {}

    def number(self, value, decimal_places=None) -> str:
        """formats.number_format(value, decimal_places)."""
        if type(value) is int and not decimal_places and not self.is_grouped:
            return str(value)  # numberformat.format's own shortcut, without its checks for every value
        return numberformat.format(
            value, self.decimal_separator, decimal_places, self.grouping, self.thousand_separator, use_l10n=True
        )

    def moment(self, value: datetime.datetime) -> str:
        """formats.localize(timezone.template_localtime(value)) of a datetime."""
        if (
            self.time_zone is not None
            and value.utcoffset() is not None
            and getattr(value, "convert_to_local_time", True)
        ):
            value = value.astimezone(self.time_zone)
        return self.datetime_format(value)

    def icon(self, value) -> str:
        if value not in self.icons:
            self.icons[value] = _boolean_icon(value)
        return self.icons[value]

    def value(self, value, empty, boolean=False):
        """display_for_value(value, empty, boolean)."""
        if boolean:
            return self.icon(value)
        if type(value) is str:
            return value if value else empty
        if type(value) is int:
            return self.number(value)
        if isinstance(value, models.Model):
            return str(value)
        if isinstance(value, datetime.datetime):
            return self.moment(value)
        return display_for_value(value, empty, boolean)


def _field_display(field, empty, is_link: bool, page: _Formats) -> Callable[[object], object]:
    """display_for_field(value, field, empty, avoid_link=is_link), with the branch for the field chosen once."""
    if getattr(field, "flatchoices", None):
        try:
            choices = dict(field.flatchoices)
        except TypeError:  # list-like choices: Django's own way
            return lambda value: display_for_field(value, field, empty, avoid_link=is_link)
        return lambda value: choices.get(value, empty)
    if isinstance(field, models.BooleanField):
        return page.icon
    empty_values = field.empty_values

    def display(shown):
        return lambda value: empty if value in empty_values else shown(value)

    if isinstance(field, models.DateTimeField):
        return display(page.moment)
    if isinstance(field, models.DecimalField):
        return display(lambda value: page.number(value, field.decimal_places))
    if isinstance(field, (models.IntegerField, models.FloatField)):
        return display(page.number)
    if isinstance(field, (models.CharField, models.TextField)) and not isinstance(field, models.URLField):
        return display(lambda value: value if type(value) is str else display_for_value(value, empty))
    return lambda value: display_for_field(value, field, empty, avoid_link=is_link)


def _plain(value):
    # Django's cells turn a value of only spaces into the empty value.
    if isinstance(value, str) and value.strip() == "":
        return ""
    return value


def _column(cl, index: int, name, *, is_link: bool, tag: str, url: Callable | None, page: _Formats):
    """A function of a row that returns the column's cell, as items_for_result renders it."""
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    classes = f"field-{_coerce_field_name(name, index)}"
    try:
        field = _get_non_gfk_field(cl.model._meta, name)
    except (FieldDoesNotExist, FieldIsAForeignKeyColumnName):
        field = None

    if field is not None and not field.auto_created:
        plain_class = mark_safe(f' class="{classes}"')
        row_class = mark_safe(f' class="{classes} nowrap"') if isinstance(field, NOWRAP_FIELDS) else plain_class
        if isinstance(field.remote_field, models.ManyToOneRel):

            def represent(row):
                related = getattr(row, name)
                return empty if related is None else related

        else:
            shown = _field_display(field, empty, is_link, page)

            def represent(row):
                return shown(_plain(getattr(row, name)))

        def cell(row):
            try:
                return _wrap(tag, row_class, represent(row), url(row) if url else None)
            except ObjectDoesNotExist:
                return _wrap(tag, plain_class, empty, url(row) if url else None)

        return cell

    if name == "action_checkbox":
        classes = "action-checkbox"
        if getattr(getattr(model_admin, name, None), "is_common_checkbox", False):
            # The label translated once for the page.
            label = gettext(ACTION_LABEL)
            row_class = mark_safe(f' class="{classes}"')
            return lambda row: f"<{tag}{row_class}>{action_checkbox(row, label)}</{tag}>"
    # A field Django made (the primary key), a callable, a ModelAdmin method or anything else lookup_field finds.
    if field is not None:
        attr, read = None, (lambda row: getattr(row, name))
    elif callable(name):
        attr, read = name, name
    elif hasattr(model_admin, name) and name != "__str__":
        attr = getattr(model_admin, name)
        read = attr
    else:
        attr = read = None
    column_empty = getattr(attr, "empty_value_display", empty)
    boolean = getattr(attr, "boolean", False)

    def cell(row):
        row_empty, row_boolean = column_empty, boolean
        try:
            if read is not None:
                value = read(row)
            else:
                _, row_attr, value = lookup_field(name, row, model_admin)
                row_empty = getattr(row_attr, "empty_value_display", empty)
                row_boolean = getattr(row_attr, "boolean", False)
                if isinstance(row_attr, property) and hasattr(row_attr, "fget"):
                    row_boolean = getattr(row_attr.fget, "boolean", False)
        except ObjectDoesNotExist:
            result, dated = empty, False
        else:
            value = _plain(value)
            result = page.value(value, row_empty, row_boolean)
            dated = isinstance(value, (datetime.date, datetime.time))
        return _wrap(tag, nowrap_class if dated else plain_class, result, url(row) if url else None)

    plain_class, nowrap_class = f' class="{classes}"', f' class="{classes} nowrap"'
    return cell


def _escaped(value) -> str:
    """conditional_escape(value), without its detours for a plain string."""
    if type(value) is str:
        return html.escape(value)
    return conditional_escape(value)


def action_checkbox(obj, label: str | None = None) -> SafeString:
    """Django's action checkbox of a row, as its widget renders it; `label`: ACTION_LABEL translated, when the caller
    already has it."""
    label = gettext(ACTION_LABEL) if label is None else label
    return mark_safe(
        f'<input type="checkbox" name="{ACTION_CHECKBOX_NAME}" value="{_escaped(str(obj.pk))}" class="action-select" '
        f'aria-label="{label.format(_escaped(obj))}">'
    )


def _wrap(tag: str, row_class: str, result, url: str | None) -> str:
    shown = _escaped(result)
    if url is not None:
        shown = f'<a href="{url}">{shown}</a>'
    return f"<{tag}{row_class}>{shown}</{tag}>"


def _change_url(cl) -> Callable[[object], str | None]:
    """The row's change URL with the list's filters preserved, escaped for an attribute (None where it does not
    reverse). Reversed once for the page when the primary key is an integer."""
    preserved = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}

    def per_row(row):
        try:
            return escape(add_preserved_filters(preserved, cl.url_for_result(row)))
        except NoReverseMatch:
            return None

    if not isinstance(cl.lookup_opts.pk, models.AutoField | models.IntegerField):
        return per_row
    try:
        template = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(PK_PLACEHOLDER,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return lambda row: None
    before, _, after = escape(add_preserved_filters(preserved, template)).partition(PK_PLACEHOLDER)
    attname = cl.pk_attname
    return lambda row: f"{before}{getattr(row, attname)}{after}"


def _django_rows(cl) -> list[SafeString]:
    return [mark_safe("<tr>" + "".join(items_for_result(cl, row, None)) + "</tr>") for row in cl.result_list]


def page_rows(cl) -> list[SafeString]:
    """Each row of the page as the HTML of its <tr>."""
    if getattr(cl, "formset", None) or cl.is_popup or cl.to_field:
        return _django_rows(cl)
    page = _Formats()
    url = _change_url(cl)
    columns = []
    first = True
    for index, name in enumerate(cl.list_display):
        is_link = cl.list_display_links is not None and (
            (first and not cl.list_display_links) or name in cl.list_display_links
        )
        tag = "th" if is_link and first else "td"
        if is_link:
            first = False
        columns.append(_column(cl, index, name, is_link=is_link, tag=tag, url=url if is_link else None, page=page))
    return [mark_safe("<tr>" + "".join(cell(row) for cell in columns) + "</tr>") for row in cl.result_list]


def page_results(cl) -> dict:
    """What Django's `result_list` tag gives its template, with the rows as HTML: `rows`, and `body`, all of them
    as the template's loop over them would write them (a loop of 100 iterations in the template took longer)."""
    headers = list(result_headers(cl))
    rows = page_rows(cl)
    return {
        "result_headers": headers,
        "num_sorted_fields": sum(1 for header in headers if header["sortable"] and header["sorted"]),
        "rows": rows,
        "body": mark_safe("".join(f"{row}\n" for row in rows)),
    }


# Bookkeeping columns no list shows unless it names them: a datetime costs as much to load as a short JSON document.
RECORD_FIELDS = ("uuid", "created_date", "modified_date")


def unshown_fields(model, shown=(), *, related: bool = False) -> list[str]:
    """The columns of `model` a list page does not show, among those that cost most to load: JSON fields (every
    BaseModel has four), the record's uuid and dates and, on a related row (shown by its __str__ or a column that
    reads a few of its fields), text fields."""
    expensive = (models.JSONField, models.TextField) if related else (models.JSONField,)
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.name not in shown
        and not field.primary_key
        and (
            isinstance(field, expensive) or (field.name in RECORD_FIELDS and (related or field.name != "created_date"))
        )
    ]


def lean_rows(queryset, shown=()):
    """The queryset with what its list does not show deferred (`unshown_fields`), on its model and on every
    relation it selects. A column that reads a deferred field costs a query per row, which the pinned query counts
    of tests/test_admin_scale.py catch."""
    deferred = unshown_fields(queryset.model, shown)
    related = queryset.query.select_related
    if isinstance(related, dict):
        deferred += _related_unshown_fields(queryset.model, related, prefix="")
    return queryset.defer(*deferred) if deferred else queryset


def _related_unshown_fields(model, tree: dict, prefix: str) -> list[str]:
    deferred = []
    for name, subtree in tree.items():
        related_model = model._meta.get_field(name).related_model
        path = f"{prefix}{name}__"
        deferred += [path + field for field in unshown_fields(related_model, related=True)]
        deferred += _related_unshown_fields(related_model, subtree, path)
    return deferred


def lean_prefetches(model, names) -> list:
    """Prefetches of the relations `names`, where a name is a foreign key of `model`, without what a list does not
    show of their rows."""
    lookups = []
    for name in names:
        try:
            related_model = model._meta.get_field(name).related_model
        except FieldDoesNotExist:
            related_model = None
        if related_model is None:
            lookups.append(name)
            continue
        rows = related_model._base_manager.defer(*unshown_fields(related_model, related=True))
        lookups.append(Prefetch(name, queryset=rows))
    return lookups


class ListedRowsFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter over a small table (channels, reasons), as Django's, that keeps the rows it lists: the
    page's rows take their related row from them (`with_listed_rows`), not from another query or join."""

    def field_choices(self, field, request, model_admin):
        if field.choices is not None:
            return super().field_choices(field, request, model_admin)
        # field.get_choices(include_blank=False, ordering=ordering), keeping the rows.
        ordering = self.field_admin_ordering(field, request, model_admin)
        model = field.remote_field.model
        # Shown by their __str__, as filter choices and in the page's rows: without their JSON documents.
        rows = model._default_manager.complex_filter(field.get_limit_choices_to()).defer(
            *unshown_fields(model, related=True)
        )
        if ordering:
            rows = rows.order_by(*ordering)
        self.listed_rows = list(rows)
        key = field.remote_field.get_related_field().attname
        return [(getattr(row, key), str(row)) for row in self.listed_rows]


def listed_rows_filter(model, spec):
    """The list_filter entry `spec`, with a ListedRowsFilter for a plain foreign key of `model`."""
    if not isinstance(spec, str) or LOOKUP_SEP in spec:
        return spec
    try:
        field = model._meta.get_field(spec)
    except FieldDoesNotExist:
        return spec
    if field.many_to_one and field.related_model is not None and field.choices is None:
        return (spec, ListedRowsFilter)
    return spec


def listed_rows(changelist) -> dict:
    """{foreign key of the changelist's model: {key: row}} for each filter of the page that listed its rows."""
    listed = {}
    for spec in changelist.filter_specs:
        rows = getattr(spec, "listed_rows", None)
        if rows is not None and spec.field_path == spec.field.name and spec.field.model is changelist.model:
            key = spec.field.remote_field.get_related_field().attname
            listed[spec.field] = {getattr(row, key): row for row in rows}
    return listed


def with_listed_rows(queryset, listed: dict):
    """The queryset, its rows given their related rows from `listed` as they are loaded (one query for any a filter
    did not list)."""
    if not listed:
        return queryset

    class ListedRowsIterable(ModelIterable):
        def __iter__(self):
            rows = list(super().__iter__())
            for field, by_key in listed.items():
                missing = {getattr(row, field.attname) for row in rows} - by_key.keys() - {None}
                if missing:
                    target = field.remote_field.get_related_field()
                    found = field.related_model._base_manager.filter(**{f"{target.name}__in": missing})
                    by_key = {**by_key, **{getattr(row, target.attname): row for row in found}}
                for row in rows:
                    key = getattr(row, field.attname)
                    if key in by_key:
                        field.set_cached_value(row, by_key[key])
            yield from rows

    queryset = queryset.all()
    queryset._iterable_class = ListedRowsIterable
    return queryset


def shown_rows(changelist, rows):
    """`rows` with only the columns the page reads: the admin's `list_only` where it names them (a related row
    shown by its __str__ needs no more than that reads), else all but those no list shows (`lean_rows`). A list
    that edits its rows, or a popup that returns another field than the primary key, loads them whole."""
    list_only = changelist.model_admin.list_only
    if list_only and not changelist.to_field and not changelist.list_editable:
        return rows.only(*list_only)
    return lean_rows(rows, shown=changelist.list_display)


def page_queryset(changelist, page_ids: list):
    """The page's rows, by their ids, in the list's order, with what the columns read: the relations
    `list_select_related` joins and `list_prefetch_related` fetches, but those a filter already listed (channels,
    reasons), which are taken from it; only the columns the page reads (`shown_rows`)."""
    model_admin = changelist.model_admin
    select = changelist.list_select_related
    listed = listed_rows(changelist) if isinstance(select, list | tuple) else {}
    # A relation the page follows further (channel__owner) is joined as declared.
    paths = [*(select if listed else ()), *model_admin.list_prefetch_related]
    listed = {field: rows for field, rows in listed.items() if not any(p.startswith(f"{field.name}__") for p in paths)}
    names = {field.name for field in listed}
    rows = changelist.root_queryset
    if isinstance(select, list | tuple):
        rows = rows.select_related(*[name for name in select if name not in names])
    else:
        rows = changelist.apply_select_related(rows)
    prefetched = [name for name in model_admin.list_prefetch_related if name not in names]
    return (
        with_listed_rows(shown_rows(changelist, rows), listed)
        .prefetch_related(*lean_prefetches(changelist.model, prefetched))
        .filter(pk__in=page_ids)
        .order_by(*changelist.queryset.query.order_by)
    )
