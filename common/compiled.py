"""SELECTs of hot paths compiled once by the ORM, and the hot statements prepared once per connection.

Building and compiling a queryset costs more Python than reading its few rows (a locked order, a plan's items, an
order's response, a page of detailed requests): a `CompiledSelect` keeps what the compiler made of it once (the SQL,
where each model's columns sit, the converters, the `select_related` setters) and reads rows into instances as the
ORM's iterator would, or as `.values_list()` tuples. On PostgreSQL its statement, as the refund engine's, runs on
`prepared_cursor`: parsed and planned once per connection, then only bound and run.
"""

import re
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor
from django.db.models.query import ModelIterable
from django.db.transaction import TransactionManagementError
from psycopg.types.numeric import Int8Dumper

# The ids a statement is compiled with, in place of the real ones (`CompiledSelect.rows` takes the real ones by
# name): an id, or a list of them (`pk__in=[SENTINEL_IDS]`).
SENTINEL_IDS, SENTINEL_PLAN, SENTINEL_CHANNEL, SENTINEL_ORDER = -4, -3, -2, -1
SENTINELS = {SENTINEL_IDS: "ids", SENTINEL_PLAN: "plan", SENTINEL_CHANNEL: "channel", SENTINEL_ORDER: "order"}
# A placeholder of Django's SQL, or an escaped percent sign.
_PLACEHOLDER = re.compile(r"%%|%s")


_NEVER_BY_COUNT = 2**31 - 1


class _PreparingCursor(ServerBindingCursor):
    """Django's cursor binding on the server, preparing every statement it runs. A Python int is bound as a bigint
    whatever its size (psycopg would bind 7 as a smallint and 70000 as an integer: a prepared statement per type)."""

    def __init__(self, connection):
        super().__init__(connection)
        self.adapters.register_dumper(int, Int8Dumper)

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Query logging (DEBUG, tests) of a prepared statement's runs: psycopg keeps no text of them, so a statement is
    logged with its values written in, as Django's own cursors (binding on the client) would have sent it."""

    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        if not many:
            # A value psycopg cannot write as a literal leaves the statement as written, its values apart.
            with suppress(Exception):
                sql, params = self.db.ops.compose_sql(sql, params), None
        return super().debug_sql(sql, params, use_last_executed_query=False, many=many)


def prepared_cursor():
    """A cursor for the hot statements of fixed text: on PostgreSQL each is parsed and planned once per connection
    and then only bound and run (a prepared statement, its values bound by the server). Planning a join of seven
    tables costs more than running it for a page of rows. The ordinary cursor elsewhere, or with
    PREPARED_STATEMENTS off (a pooler in transaction mode that does not keep prepared statements). Query logging
    and `execute_wrapper`s see its statements as any other."""
    if connection.vendor != "postgresql" or not settings.PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off on its connections (poolers); its own cursors bind on the client and never
        # prepare, so a threshold no statement reaches turns it on for these cursors' `prepare=True` alone.
        raw.prepare_threshold = _NEVER_BY_COUNT
    with connection.wrap_database_errors:
        cursor = _PreparingCursor(raw)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return _PreparedDebugWrapper(cursor, connection)
    return connection.make_cursor(cursor)


@contextmanager
def prepared_statements():
    """The ORM's statements run in the block are prepared, as `prepared_cursor`'s are (PostgreSQL with
    PREPARED_STATEMENTS on; elsewhere nothing changes). For statements whose text repeats with other values and
    whose plan does not depend on them: a page's rows by id (the same text for every full page), a refund batch's
    bookkeeping by key. Never for a filter's query, whose plan must follow its values (PostgreSQL may settle on a
    generic plan for a prepared statement)."""
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's connection, which the compiler asks for its cursors
    if wrapper.vendor != "postgresql" or not settings.PREPARED_STATEMENTS or "cursor" in vars(wrapper):
        yield  # nothing to change, or a block around this one changed it already
        return
    wrapper.cursor = prepared_cursor
    try:
        yield
    finally:
        del wrapper.cursor


@dataclass(frozen=True)
class _Part:
    """One model of a row: the selected one, or one `select_related` joined to the part `parent`."""

    model: type
    names: tuple[str, ...]  # its columns' attribute names
    span: slice  # where its columns sit in the row
    pk: int  # its primary key's position in `names`: None there means no related row (a LEFT JOIN)
    parent: int | None
    local_setter: Callable | None  # caches the instance on its parent, as the ORM's RelatedPopulator does
    remote_setter: Callable | None  # and the parent on the instance, where the relation is one-to-one


@dataclass(frozen=True)
class CompiledSelect:
    """A queryset's SELECT as the ORM compiled it once, with sentinels (SENTINELS) where its ids go: its model
    instances (`instance`), or its `.values_list()` tuples as lists. Run on `prepared_cursor`."""

    sql: tuple[str, ...]  # the SQL around its placeholders: one more part than there are placeholders
    slots: tuple[str, ...]  # the name of the value each placeholder takes, in order
    parts: tuple[_Part, ...]  # none for a `.values_list()`
    converters: tuple[tuple[int, tuple, object], ...]  # (position, converters, expression), as the ORM applies them
    ids: tuple[int, int]  # the ids' range here: an id outside it matches no row (as the ORM says), not an error
    locking: bool  # a SELECT ... FOR UPDATE: refused outside a transaction, as the ORM refuses it
    annotations: tuple[tuple[str, int], ...]  # each annotation's name and its column's position

    @classmethod
    def of(cls, queryset) -> "CompiledSelect":
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if any(param not in SENTINELS for param in params):
            raise ValueError(f"a statement to compile once takes parameters other than the sentinels: {params}")
        parts = _split(sql, params)
        columns = [column for column, _, _ in compiler.select]
        # The converters are the compiling connection's; they read nothing of it that differs between threads.
        converters = tuple((pos, tuple(c), expr) for pos, (c, expr) in compiler.get_converters(columns).items())
        return cls(
            sql=tuple(parts),
            slots=tuple(SENTINELS[param] for param in params),
            parts=_instance_parts(compiler, columns) if issubclass(queryset._iterable_class, ModelIterable) else (),
            converters=converters,
            ids=connection.ops.integer_field_range(queryset.model._meta.pk.get_internal_type()),
            locking=bool(queryset.query.select_for_update),
            annotations=tuple(compiler.annotation_col_map.items()),
        )

    def rows(self, **ids) -> list[list]:
        """The rows for the ids given by their sentinels' names (`order=`, `ids=[...]`), their values converted."""
        if self.locking and connection.features.has_select_for_update and connection.get_autocommit():
            # What the ORM's compiler says of a locking read outside a transaction: its lock would end at once.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        low, high = self.ids
        values = {}
        for name, value in ids.items():
            if name == "ids":
                # An id outside the range matches no row.
                values[name] = [int(one) for one in value if low <= int(one) <= high]
            elif not low <= int(value) <= high:
                return []
            else:
                values[name] = int(value)
        if set(values) != set(self.slots):
            raise TypeError(f"the statement takes {sorted(set(self.slots))}, not {sorted(values)}")
        if values.get("ids") == []:
            return []
        sql, params = self._statement(values)
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for pos, funcs, expression in self.converters:
                value = row[pos]
                for convert in funcs:
                    value = convert(value, expression, connection)
                row[pos] = value
        return rows

    def _statement(self, values: dict) -> tuple[str, list]:
        """The SQL and its parameters: a list of ids is one array parameter on PostgreSQL (one statement, prepared
        once, for any number of ids), a placeholder per id elsewhere."""
        as_array = connection.vendor == "postgresql"
        sql, params = [self.sql[0]], []
        for slot, after in zip(self.slots, self.sql[1:], strict=True):
            value = values[slot]
            if slot != "ids" or as_array:
                sql.append("%s")
                params.append(value)
            else:
                sql.append(", ".join(["%s"] * len(value)))
                params += value
            sql.append(after)
        return "".join(sql), params

    def instance(self, row: list):
        """The row's instance of the selected model, its `select_related` instances cached on it and its annotations
        set, as the ORM's iterator makes it."""
        instances = []
        for part in self.parts:
            values = row[part.span]
            parent = None if part.parent is None else instances[part.parent]
            if part.parent is not None and parent is None:
                instances.append(None)  # under a related row that is not there
                continue
            obj = None if values[part.pk] is None else part.model.from_db(connection.alias, part.names, values)
            if parent is not None:
                part.local_setter(parent, obj)
                if obj is not None:
                    part.remote_setter(obj, parent)
            instances.append(obj)
        for name, position in self.annotations:
            setattr(instances[0], name, row[position])
        return instances[0]


def _split(sql: str, params) -> list[str]:
    """The SQL around its placeholders. The one of a list of ids, `IN (%s)` as the ORM writes `pk__in=[SENTINEL_IDS]`,
    becomes `= ANY(%s)` on PostgreSQL and `IN (%s)` elsewhere, its placeholder left for `_statement` to write."""
    parts, start = [], 0
    for match in _PLACEHOLDER.finditer(sql):
        if match.group() == "%s":
            parts.append(sql[start : match.start()])
            start = match.end()
    parts.append(sql[start:])
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} parameters")
    for index, param in enumerate(params):
        if param != SENTINEL_IDS:
            continue
        before, after = parts[index], parts[index + 1]
        if not (before.endswith(" IN (") and after.startswith(")")):
            raise ValueError("a list of ids is compiled from `pk__in=[SENTINEL_IDS]`")
        if connection.vendor == "postgresql":
            parts[index] = before[: -len("IN (")] + "= ANY("
    return parts


def _instance_parts(compiler, columns) -> tuple[_Part, ...]:
    """Where each model of the row sits: the selected one, then its `select_related` ones (as the ORM's iterator
    reads them)."""
    parts, infos = [], [(compiler.klass_info, None)]
    while infos:
        info, parent = infos.pop(0)
        fields = info["select_fields"]
        span = slice(fields[0], fields[-1] + 1)
        names = tuple(column.target.attname for column in columns[span])
        model = info["model"]
        setters = (info.get("local_setter"), info.get("remote_setter"))
        parts.append(_Part(model, names, span, names.index(model._meta.pk.attname), parent, *setters))
        infos += [(related, len(parts) - 1) for related in info.get("related_klass_infos", [])]
    return tuple(parts)
