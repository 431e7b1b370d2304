"""CompiledSelect reads rows into instances as the ORM's iterator does: every field converted, `select_related`
instances cached on their parent (None where a LEFT JOIN found no row), annotations set."""

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from cancellations.models import CancellationRequest
from common.compiled import SENTINEL_CHANNEL, SENTINEL_IDS, SENTINEL_ORDER, CompiledSelect, prepared_statements
from orders.models import OrderItem
from tests.factories import CancellationRequestFactory, EasyReturnFactory

pytestmark = pytest.mark.django_db


def values(instance) -> list:
    return [(field.attname, getattr(instance, field.attname)) for field in instance._meta.concrete_fields]


def test_related_rows_are_cached_on_their_parent_and_a_missing_one_is_none(channel):
    with_return = CancellationRequestFactory(order_item__order__channel=channel, easy_return=EasyReturnFactory())
    without = CancellationRequestFactory(order_item__order__channel=channel)
    queryset = CancellationRequest.objects.select_related("easy_return", "order_item__order").order_by("id")
    select = CompiledSelect.of(queryset.filter(channel_id=SENTINEL_CHANNEL))

    compiled = [select.instance(row) for row in select.rows(channel=channel.pk)]

    expected = list(queryset.filter(channel=channel))
    assert [request.pk for request in compiled] == [with_return.pk, without.pk]
    with CaptureQueriesContext(connection) as captured:
        for mine, theirs in zip(compiled, expected, strict=True):
            assert values(mine) == values(theirs)
            assert values(mine.order_item) == values(theirs.order_item)
            assert values(mine.order_item.order) == values(theirs.order_item.order)
        assert values(compiled[0].easy_return) == values(expected[0].easy_return)
        assert compiled[0].easy_return.cancellation_request is compiled[0]  # one-to-one: cached both ways
        assert compiled[1].easy_return is None
    assert captured.captured_queries == []


def test_annotations_are_set_and_ids_out_of_range_match_nothing(channel):
    request = CancellationRequestFactory(order_item__order__channel=channel)
    select = CompiledSelect.of(
        OrderItem.objects.filter(order_id=SENTINEL_ORDER).annotate(number=F("order__number")).order_by("id")
    )

    (item,) = [select.instance(row) for row in select.rows(order=request.order_item.order_id)]

    assert item.number == request.order_item.order.number
    assert select.rows(order=2**70) == []


def test_it_takes_no_parameter_but_the_sentinels():
    with pytest.raises(ValueError, match="sentinels"):
        CompiledSelect.of(OrderItem.objects.filter(order_id=5))


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_outside_a_transaction_is_refused_where_the_orm_refuses_it():
    with transaction.atomic():  # compiled where it is used, in a transaction (the compiler refuses it outside)
        locking = CompiledSelect.of(OrderItem.objects.select_for_update().filter(order_id=SENTINEL_ORDER))

    def outcome(read) -> str:
        try:
            read()
        except TransactionManagementError:
            return "refused"
        return "read"

    orm = outcome(lambda: list(OrderItem.objects.select_for_update().filter(order_id=1)))
    assert outcome(lambda: locking.rows(order=1)) == orm
    if connection.vendor == "postgresql":
        assert orm == "refused"


def test_a_values_list_with_a_list_of_ids_reads_the_rows_the_orm_reads(channel, other_channel):
    mine = CancellationRequestFactory.create_batch(3, order_item__order__channel=channel)
    theirs = CancellationRequestFactory(order_item__order__channel=other_channel)
    rows = CancellationRequest.objects.order_by("id").values_list(
        "id", "status", "created_date", "order_item__order_id"
    )
    select = CompiledSelect.of(rows.filter(channel_id=SENTINEL_CHANNEL, pk__in=[SENTINEL_IDS]))
    wanted = [mine[2].pk, mine[0].pk, theirs.pk, 2**70]  # another channel's and one no bigint holds match nothing

    compiled = select.rows(channel=channel.pk, ids=wanted)

    expected = list(rows.filter(channel=channel, pk__in=[mine[2].pk, mine[0].pk]))
    assert [tuple(row) for row in compiled] == expected
    assert select.rows(channel=channel.pk, ids=[]) == []
    with pytest.raises(TypeError, match="channel"):
        select.rows(ids=[mine[0].pk])


def test_the_sentinels_may_come_in_any_order_in_the_sql(channel):
    request = CancellationRequestFactory(order_item__order__channel=channel)
    select = CompiledSelect.of(
        CancellationRequest.objects.filter(pk__in=[SENTINEL_IDS], channel_id=SENTINEL_CHANNEL).values_list("id")
    )
    assert select.rows(channel=channel.pk, ids=[request.pk]) == [[request.pk]]
    assert select.rows(channel=channel.pk + 1, ids=[request.pk]) == []


@pytest.mark.postgres
def test_its_statement_is_prepared_once_per_connection_and_logged_with_its_values(channel, settings):
    request = CancellationRequestFactory(order_item__order__channel=channel)
    select = CompiledSelect.of(
        CancellationRequest.objects.filter(channel_id=SENTINEL_CHANNEL, pk__in=[SENTINEL_IDS]).values_list("id")
    )

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%= ANY($2)%"])
            return cursor.fetchone()[0]

    before = prepared()
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert select.rows(channel=channel.pk, ids=[request.pk]) == [[request.pk]]
    assert prepared() == before + 1
    logged = [query["sql"] for query in captured.captured_queries]
    assert len(logged) == 3
    assert len(set(logged)) == 1
    assert logged[0].startswith("SELECT")
    assert f"= ANY('{{{request.pk}}}'::" in logged[0]  # with its values, as a client-side cursor writes them

    settings.PREPARED_STATEMENTS = False
    other = CompiledSelect.of(CancellationRequest.objects.filter(pk__in=[SENTINEL_IDS]).values_list("id", "status"))
    assert other.rows(ids=[request.pk]) == [[request.pk, request.status]]
    assert prepared() == before + 1


@pytest.mark.postgres
def test_the_orms_statements_in_a_prepared_block_are_prepared_and_blocks_nest(channel):
    request = CancellationRequestFactory(order_item__order__channel=channel)

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ['%."id" IN ($1)%'])
            return cursor.fetchone()[0]

    rows = CancellationRequest.objects.filter(pk__in=[request.pk])
    before = prepared()
    with prepared_statements():
        with prepared_statements():
            assert list(rows.values_list("pk", flat=True)) == [request.pk]
        assert list(rows.values_list("pk", flat=True)) == [request.pk]
    assert prepared() == before + 1
    assert list(rows.values_list("pk", flat=True)) == [request.pk]  # outside the block: not prepared
    assert prepared() == before + 1
    assert "cursor" not in vars(connections["default"])
