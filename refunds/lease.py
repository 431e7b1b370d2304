"""Taking the leases of a batch of refunds in one round trip on PostgreSQL, and recording an outcome only under one.

The lease is the hot path of every refund attempt. Done with the ORM it is two statements per refund (a SELECT ...
FOR UPDATE of the refund with its order, then an UPDATE); on PostgreSQL one statement leases a whole batch (a plan's
refunds travel in one message): the rows are locked in id order, so two workers leasing overlapping batches cannot
deadlock; a row another worker holds locked is waited for, then re-checked by PostgreSQL against the conditions (the
same as `refunds_lease`), so two workers never lease the same attempt; the refunds and the orders the rails read
come back from it.
"""

from datetime import datetime
from functools import cache
from uuid import UUID

from django.db import connection

from common.compiled import prepared_cursor
from orders.models import Order
from refunds.models import Refund, RefundStatus


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def _instance(model, values):
    """A model instance from its columns as PostgreSQL returned them, converted as the ORM converts them."""
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, None, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


@cache
def _statement() -> str:
    refunds = Refund._meta.db_table
    orders = Order._meta.db_table
    return (
        f'WITH leasable AS (SELECT "id" FROM "{refunds}" '
        'WHERE "id" = ANY(%(ids)s) AND ('
        '("status" = %(pending)s AND ("next_attempt_at" IS NULL OR "next_attempt_at" <= %(now)s)) '
        'OR ("status" = %(processing)s AND "leased_until" IS NOT NULL AND "leased_until" <= %(now)s)) '
        'ORDER BY "id" FOR UPDATE) '
        f'UPDATE "{refunds}" AS r SET "status" = %(processing)s, "attempts" = r."attempts" + 1, '
        '"leased_until" = %(until)s, "lease_token" = %(token)s, "next_attempt_at" = NULL, "modified_date" = %(now)s '
        f'FROM leasable, "{orders}" AS o '
        'WHERE r."id" = leasable."id" AND o."id" = r."order_id" '
        f"RETURNING {_columns(Refund, 'r')}, {_columns(Order, 'o')}"
    )


def lease_in_one_statement(*, refund_ids: list[int], now: datetime, until: datetime, token: UUID) -> list[Refund]:
    """The refunds of `refund_ids` that are leasable now, leased until `until` under `token`, each with its order
    (one instance per order), in id order."""
    params = {
        "ids": list(refund_ids),
        "now": now,
        "until": until,
        "token": token,
        "pending": RefundStatus.PENDING.value,
        "processing": RefundStatus.PROCESSING.value,
    }
    with prepared_cursor() as cursor:
        cursor.execute(_statement(), params)
        rows = cursor.fetchall()
    width = len(Refund._meta.concrete_fields)
    orders = {}
    refunds = []
    for row in rows:
        refund = _instance(Refund, row[:width])
        if refund.order_id not in orders:
            orders[refund.order_id] = _instance(Order, row[width:])
        refund.order = orders[refund.order_id]
        refunds.append(refund)
    return sorted(refunds, key=lambda refund: refund.pk)


@cache
def _outcome_statement(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(Refund._meta.get_field(name).column)} = %s" for name in names)
    return (
        f"UPDATE {quote(Refund._meta.db_table)} SET {assignments} "
        f'WHERE "id" = %s AND "status" = %s AND "leased_until" IS NOT NULL AND "lease_token" = %s'
    )


def outcome_under_lease(*, refund_id: int, token: UUID, changes: dict) -> bool:
    """Write an attempt's outcome (`changes`: {field name: value}) to the refund only while it is processing under the
    lease `token` (the fencing token): a worker whose lease ran out and was taken over writes nothing. One UPDATE,
    its statement built once per set of fields (the ORM would compile it on every refund). True when written."""
    fields = [Refund._meta.get_field(name) for name in changes]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, changes.values(), strict=True)]
    token_field = Refund._meta.get_field("lease_token")
    params += [refund_id, RefundStatus.PROCESSING.value, token_field.get_db_prep_save(token, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_outcome_statement(tuple(changes)), params)
        return cursor.rowcount == 1


@cache
def _outcomes_statement(names: tuple[str, ...], rows: int) -> str:
    """The outcomes of `rows` refunds that change the same fields, in one UPDATE from a VALUES list (PostgreSQL). Its
    rows are locked in id order first, as the lease locks them, so it cannot deadlock with a lease of the same
    refunds (an UPDATE from a list locks in whatever order its join takes)."""
    quote = connection.ops.quote_name
    table = quote(Refund._meta.db_table)
    fields = [Refund._meta.get_field(name) for name in ("id", "lease_token", *names)]
    row = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in fields) + ")"
    columns = ", ".join(quote(field.column) for field in fields)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields[2:])
    return (
        f'WITH locked AS (SELECT "id" FROM {table} WHERE "id" = ANY(%s) ORDER BY "id" FOR UPDATE) '
        f"UPDATE {table} AS r SET {assignments} "
        f"FROM locked, (VALUES {', '.join([row] * rows)}) AS v ({columns}) "
        'WHERE r."id" = locked."id" AND r."id" = v."id" AND r."status" = %s AND r."leased_until" IS NOT NULL '
        'AND r."lease_token" = v."lease_token" RETURNING r."id"'
    )


def outcomes_under_lease(writes: list[tuple[int, UUID, dict]]) -> set[int]:
    """`outcome_under_lease` of several refunds (`writes`: refund id, lease token, changes): on PostgreSQL the ones
    that change the same fields (the plan's refunds that succeeded, say) go in one UPDATE, elsewhere one each. The
    ids written."""
    by_fields: dict[tuple[str, ...], list] = {}
    for write in writes:
        by_fields.setdefault(tuple(write[2]), []).append(write)
    written = set()
    token_field = Refund._meta.get_field("lease_token")
    for names, group in by_fields.items():
        if connection.vendor != "postgresql":
            for refund_id, token, changes in group:
                if outcome_under_lease(refund_id=refund_id, token=token, changes=changes):
                    written.add(refund_id)
            continue
        fields = [Refund._meta.get_field(name) for name in names]
        params = [sorted(refund_id for refund_id, _, _ in group)]
        for refund_id, token, changes in group:
            params += [refund_id, token_field.get_db_prep_save(token, connection)]
            params += [field.get_db_prep_save(changes[field.name], connection) for field in fields]
        params.append(RefundStatus.PROCESSING.value)
        with prepared_cursor() as cursor:
            cursor.execute(_outcomes_statement(names, len(group)), params)
            written.update(row[0] for row in cursor.fetchall())
    return written
