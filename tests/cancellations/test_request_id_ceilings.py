"""The id ceilings that bound the request lists' upper date filters: kept by every insert, exact results."""

import importlib
import threading
import time
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cancellations.filters import CancellationRequestFilter
from cancellations.models import CancellationRequest, CancellationRequestStatus, RequestIdCeiling
from cancellations.selectors import cancellation_request_list
from cancellations.services import RequestInput, cancellation_request_create
from tests.concurrency import run_together
from tests.factories import CancellationReasonFactory, CancellationRequestFactory, ChannelFactory, order_with_items

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
UPPER_BOUNDS = ("date_placed__lt", "date_placed__lte", "date_placed__date__lt", "date_placed__date__lte")
# UTC, and the zones furthest from it: a local day then straddles two UTC days.
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago")


def covered(request: CancellationRequest) -> bool:
    day = request.date_placed.astimezone(UTC).date()
    return RequestIdCeiling.objects.filter(channel_id=request.channel_id, day=day, id_ceiling__gte=request.pk).exists()


def filtered_ids(query: str, *, channel_id: int | None) -> list[int]:
    requests = (
        cancellation_request_list(channel_id=channel_id) if channel_id else CancellationRequest.objects.order_by("-id")
    )
    filterset = CancellationRequestFilter(QueryDict(query), queryset=requests)
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("id", flat=True))


def test_a_request_the_service_creates_is_under_its_days_ceiling(channel):
    order = order_with_items(channel=channel, date_placed=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    reason = CancellationReasonFactory(cancellation_type="cancel")

    request = cancellation_request_create(
        channel=channel,
        fields=RequestInput(order_item=order.items.get(), reason=reason, cancellation_type="cancel"),
    )

    assert covered(request)
    assert filtered_ids("date_placed__date__lte=2026-03-01", channel_id=channel.pk) == [request.pk]
    assert filtered_ids("date_placed__date__lt=2026-03-01", channel_id=channel.pk) == []


def test_requests_saved_one_by_one_in_bulk_or_in_sql_are_all_under_their_ceilings():
    first = CancellationRequestFactory(date_placed=START)
    item, reason = first.order_item, first.reason
    rows = [
        CancellationRequest(
            id=5000 + 2000 * n,
            order_item=item,
            channel_id=first.channel_id,
            date_placed=START + timedelta(hours=7 * n),
            customer_id=first.customer_id,
            reason=reason,
            cancellation_type="cancel",
            status=CancellationRequestStatus.REJECTED,
            quantity=1,
        )
        for n in range(4)
    ]
    CancellationRequest.objects.bulk_create(rows[:3])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cancellations_cancellationrequest (id, created_date, modified_date, uuid, attributes, "
            "attributes_kwargs, localized_attributes, localized_attributes_kwargs, order_item_id, channel_id, "
            "date_placed, customer_id, reason_id, cancellation_type, status, quantity, fully_refund_as_loyalty_money) "
            "VALUES (%s, %s, %s, %s, '{}', '{}', '{}', '{}', %s, %s, %s, %s, %s, 'cancel', 'rejected', 1, false)",
            [
                *(rows[3].id, START, START, str(uuid.uuid4()), item.pk, first.channel_id, rows[3].date_placed),
                *(first.customer_id, reason.pk),
            ],
        )

    assert all(covered(request) for request in CancellationRequest.objects.all())


def test_without_its_ceiling_a_request_is_out_of_the_upper_bounded_lists_only(channel):
    request = CancellationRequestFactory(order_item__order__channel=channel, date_placed=START)

    RequestIdCeiling.objects.all().delete()

    assert filtered_ids("date_placed__lte=2026-03-02T00:00:00Z", channel_id=channel.pk) == []
    assert filtered_ids("date_placed__gte=2026-03-01T00:00:00Z", channel_id=channel.pk) == [request.pk]


def test_the_migration_backfills_the_ceilings_of_the_requests_already_there(channel):
    requests = [CancellationRequestFactory(date_placed=START + timedelta(hours=20 * n)) for n in range(3)]
    expected = set(RequestIdCeiling.objects.values_list("channel_id", "day"))
    RequestIdCeiling.objects.all().delete()

    migration = importlib.import_module("cancellations.migrations.0005_request_id_ceiling")
    migration.ceilings_backfill(apps, None)

    assert set(RequestIdCeiling.objects.values_list("channel_id", "day")) == expected
    assert all(covered(request) for request in requests)


@pytest.fixture
def template(db):
    """An order item and a reason the drawn requests all point at, and the two channels they are spread over."""
    request = CancellationRequestFactory()
    request.delete()
    return SimpleNamespace(
        order_item_id=request.order_item_id,
        reason_id=request.reason_id,
        customer_id=request.customer_id,
        channels=(request.channel_id, ChannelFactory().pk),
    )


requests_drawn = st.lists(
    st.tuples(
        st.integers(0, 1),  # the channel
        st.integers(0, 4 * 24 * 60 - 1).map(lambda minutes: START + timedelta(minutes=minutes)),  # date_placed
        st.booleans(),  # saved in a bulk_create rather than one by one
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drawn=requests_drawn,
    # ids in any order against the dates, over several of the trigger's blocks of 1024
    ids=st.lists(st.integers(1, 20_000), min_size=30, max_size=30, unique=True),
    bound=st.integers(-24 * 60, 5 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes)),
    zone=st.sampled_from(ZONES),
)
def test_upper_date_filters_return_exactly_the_requests_placed_before_the_bound(template, drawn, ids, bound, zone):
    # given
    CancellationRequest.objects.all().delete()
    RequestIdCeiling.objects.all().delete()
    rows = [
        CancellationRequest(
            id=request_id,
            order_item_id=template.order_item_id,
            channel_id=template.channels[channel],
            date_placed=placed,
            customer_id=template.customer_id,
            reason_id=template.reason_id,
            cancellation_type="cancel",
            status=CancellationRequestStatus.REJECTED,
            quantity=1,
        )
        for (channel, placed, _), request_id in zip(drawn, ids, strict=False)
    ]
    for row, (_, _, in_bulk) in zip(rows, drawn, strict=True):
        if not in_bulk:
            row.save(force_insert=True)
    CancellationRequest.objects.bulk_create([row for row, (_, _, in_bulk) in zip(rows, drawn, strict=True) if in_bulk])

    with timezone.override(zoneinfo.ZoneInfo(zone)):
        day = timezone.localtime(bound).date()
        expected = {
            "date_placed__lt": lambda row: row.date_placed < bound,
            "date_placed__lte": lambda row: row.date_placed <= bound,
            "date_placed__date__lt": lambda row: timezone.localtime(row.date_placed).date() < day,
            "date_placed__date__lte": lambda row: timezone.localtime(row.date_placed).date() <= day,
        }
        for name in UPPER_BOUNDS:
            value = day.isoformat() if "__date__" in name else bound.isoformat()
            for channel_id in (None, *template.channels):
                # when
                found = filtered_ids(f"{name}={value.replace('+', '%2B')}", channel_id=channel_id)
                # then
                wanted = sorted(
                    (row.pk for row in rows if expected[name](row) and channel_id in (None, row.channel_id)),
                    reverse=True,
                )
                assert found == wanted, (name, value, channel_id)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_committed_after_a_newer_one_of_the_same_day_keeps_the_newer_ones_ceiling():
    # given: a request of a later block is inserted first and held uncommitted while an older id is inserted
    template = CancellationRequestFactory(date_placed=START)
    inserted = threading.Event()

    def insert(request_id: int, *, hold: bool):
        with transaction.atomic():
            CancellationRequest.objects.create(
                id=request_id,
                order_item_id=template.order_item_id,
                channel_id=template.channel_id,
                date_placed=START,
                customer_id=template.customer_id,
                reason_id=template.reason_id,
                cancellation_type="cancel",
                status=CancellationRequestStatus.REJECTED,
                quantity=1,
            )
            if hold:
                inserted.set()
                time.sleep(0.5)  # the other insert now waits on this one's ceiling row

    def older():
        inserted.wait(timeout=30)
        insert(9000, hold=False)

    # when
    run_together(lambda: insert(50_000, hold=True), older)

    # then
    assert all(covered(request) for request in CancellationRequest.objects.all())
    assert filtered_ids("date_placed__lte=2026-03-01T00:00:00Z", channel_id=template.channel_id)[:2] == [50_000, 9000]


@pytest.mark.parametrize(
    ("query", "finds_the_request"),
    [
        ("date_placed__lt=0001-01-01T00:00:00Z", False),
        ("date_placed__date__lt=0001-01-01", False),
        ("date_placed__date__lte=0001-01-01", False),
        ("date_placed__date__lte=9999-12-31", True),
        ("date_placed__date__gt=9999-12-31", False),
        ("date_placed__lte=9999-12-31T23:59:59.999999Z", True),
    ],
)
def test_date_bounds_at_the_ends_of_the_calendar_filter_as_they_say(staff_client, query, finds_the_request):
    request = CancellationRequestFactory(date_placed=START)

    response = staff_client.get(f"/api/channel/{request.channel_id}/cancellation_requests/?{query}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == ([request.pk] if finds_the_request else [])


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00%2B05:00", "9999-12-31T23:59:59-05:00"])
def test_a_moment_outside_the_utc_calendar_is_refused(staff_client, moment):
    request = CancellationRequestFactory(date_placed=START)

    response = staff_client.get(f"/api/channel/{request.channel_id}/cancellation_requests/?date_placed__lt={moment}")

    assert response.status_code == 400
    assert "date_placed__lt" in response.json()


def test_a_request_moved_to_an_earlier_day_or_another_channel_is_under_its_new_ceiling(channel):
    # given: the only request, placed on a day after the one it is moved to
    request = CancellationRequestFactory(id=9000, date_placed=START + timedelta(days=2))
    other_channel = ChannelFactory()

    # when
    CancellationRequest.objects.filter(pk=request.pk).update(date_placed=START, channel=other_channel)

    # then
    request.refresh_from_db()
    assert covered(request)
    assert filtered_ids("date_placed__date__lte=2026-03-01", channel_id=other_channel.pk) == [request.pk]
