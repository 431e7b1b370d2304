"""The detailed list's rows, read from one values query, render byte for byte as the detailed serializer renders
the same requests read as models."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from cancellations.selectors import cancellation_request_list, with_channel
from cancellations.serializers import (
    CancellationRequestDetailedSerializer,
    _DetailedRows,
    cancellation_request_detailed_data,
)
from tests.factories import (
    CancellationReasonFactory,
    CancellationRequestFactory,
    CustomerFactory,
    EasyReturnFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests(channel):
    channel.conf = {"easy_return": {"shipping_company": "aras"}, "storefront_api_token": "s3cret"}
    channel.save()
    customer = CustomerFactory(channel=channel, attributes={"segment": "gold", "tags": ["a", "ğ"]})
    order = order_with_items(
        channel=channel, customer=customer, lines=[(Decimal("10.55"), 2), (Decimal("3.10"), 1), (Decimal("7"), 1)]
    )
    # A time off UTC with a microsecond, as a client may have sent it; whole seconds elsewhere.
    order.date_placed = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    order.created_date = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    order.save()
    first, second, third = order.items.order_by("id")
    first.attributes = {"gift": True, "note": {"text": "ä", "n": [1, 2.5, None]}}
    first.save()
    first.product.attributes = {"color": "red"}
    first.product.ean = None
    first.product.save()
    easy_return = EasyReturnFactory(
        # A year before 1000 is formatted by the field itself.
        start_date=datetime(999, 1, 2, 3, 4, 5, 60, tzinfo=UTC),
        end_date=datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        raw_request='{"sent": 1}',
        tracking_url="https://example.com/t/1",
        pickup_date={"from": "2026-01-01", "to": None},
    )
    untranslated = CancellationReasonFactory(cancellation_type="cancel", translations=None)
    translated = CancellationReasonFactory(cancellation_type="refund", translations={"tr": {"subject": "Hasarlü"}})
    return [
        CancellationRequestFactory(
            order_item=first,
            reason=translated,
            iban="TR330006100519786457841326",
            holder_name="Ayşe Yelmaz",
            description="Kutusu açek geldi",
            easy_return=easy_return,
            attributes={"source": "app", "deep": {"list": [{}, []]}},
            localized_attributes={"tr": "evet"},
        ),
        CancellationRequestFactory(order_item=second, reason=untranslated, iban="TR12", quantity=1),
        CancellationRequestFactory(order_item=third, reason=untranslated, iban="", holder_name=""),
    ]


def test_rows_render_as_the_serializer_renders_the_models(requests, channel):
    # given: ids in an order of the caller's own, not the table's
    ids = [requests[1].pk, requests[0].pk, requests[2].pk]
    models = cancellation_request_list(channel_id=channel.pk, detailed=True).in_bulk(ids)
    expected = CancellationRequestDetailedSerializer(with_channel([models[pk] for pk in ids], channel), many=True)

    # when
    data = cancellation_request_detailed_data(ids, channel=channel)

    # then
    assert JSONRenderer().render(data) == JSONRenderer().render(expected.data)
    assert [row["id"] for row in data] == ids
    masked, short, empty = data[1]["iban"], data[0]["iban"], data[2]["iban"]
    assert (masked, short, empty) == ("TR33******************1326", "****", "")
    assert data[1]["order_item"]["order"]["date_placed"] == "2025-03-01T09:30:05.123456Z"
    assert data[1]["order_item"]["order"]["created_date"] == "2025-03-01T09:00:00.000000Z"
    assert data[1]["easy_return"]["start_date"] == "0999-01-02T03:04:05.000060Z"
    assert data[0]["easy_return"] is None
    assert data[1]["channel"]["conf"] == {"easy_return": {"shipping_company": "aras"}}


def test_ids_of_another_channel_or_of_no_request_are_left_out(requests, channel):
    other = CancellationRequestFactory()

    data = cancellation_request_detailed_data([other.pk, requests[0].pk, 10**12], channel=channel)

    assert [row["id"] for row in data] == [requests[0].pk]


def test_a_field_no_row_holds_is_refused_when_the_plan_is_made():
    class WithMethodField(CancellationRequestDetailedSerializer):
        summary = serializers.SerializerMethodField()

        class Meta(CancellationRequestDetailedSerializer.Meta):
            fields = (*CancellationRequestDetailedSerializer.Meta.fields, "summary")

        def get_summary(self, request):
            return str(request)

    rows = _DetailedRows(WithMethodField, computed={"iban": "iban", "channel": "order_item__order__channel"})

    with pytest.raises(ImproperlyConfigured, match="summary"):
        rows.rows(channel=1, ids=[1])
