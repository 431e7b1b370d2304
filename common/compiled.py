"""SELECTs of hot paths compiled once by the ORM and run with a cursor.

Building and compiling a queryset costs more Python than reading its few rows (a locked order, a plan's items, an
order's response): a `CompiledSelect` keeps what the compiler made of it once (the SQL, where each model's columns
sit, the converters, the `select_related` setters) and reads rows into instances as the ORM's iterator would.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.transaction import TransactionManagementError

# The ids a statement is compiled with, in place of the real ones; they must appear in its SQL in this order
# (ascending), and `CompiledSelect.rows` takes the real ids in the same order.
SENTINEL_PLAN, SENTINEL_CHANNEL, SENTINEL_ORDER = -3, -2, -1


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
    sql: str
    parts: tuple[_Part, ...]
    converters: tuple[tuple[int, tuple, object], ...]  # (position, converters, expression), as the ORM applies them
    ids: tuple[int, int]  # the ids' range here: an id outside it matches no row (as the ORM says), not an error
    locking: bool  # a SELECT ... FOR UPDATE: refused outside a transaction, as the ORM refuses it
    annotations: tuple[tuple[str, int], ...]  # each annotation's name and its column's position

    @classmethod
    def of(cls, queryset) -> "CompiledSelect":
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if any(not isinstance(param, int) or param >= 0 for param in params) or list(params) != sorted(params):
            raise ValueError(f"a statement to compile once takes parameters other than the sentinels: {params}")
        columns = [column for column, _, _ in compiler.select]
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
        # The converters are the compiling connection's; they read nothing of it that differs between threads.
        converters = tuple((pos, tuple(c), expr) for pos, (c, expr) in compiler.get_converters(columns).items())
        return cls(
            sql,
            tuple(parts),
            converters,
            ids=connection.ops.integer_field_range(queryset.model._meta.pk.get_internal_type()),
            locking=bool(queryset.query.select_for_update),
            annotations=tuple(compiler.annotation_col_map.items()),
        )

    def rows(self, ids: list[int]) -> list[list]:
        """The rows for the ids given in place of the sentinels, their values converted."""
        if self.locking and connection.features.has_select_for_update and connection.get_autocommit():
            # What the ORM's compiler says of a locking read outside a transaction: its lock would end at once.
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = [int(value) for value in ids]
        low, high = self.ids
        if not all(low <= value <= high for value in params):
            return []
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for pos, funcs, expression in self.converters:
                value = row[pos]
                for convert in funcs:
                    value = convert(value, expression, connection)
                row[pos] = value
        return rows

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
