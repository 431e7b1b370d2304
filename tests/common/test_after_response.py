"""A request's broker messages go out once its response has: the client never waits for the broker. Outside a
request, or with tasks in-process, they go at once."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path

from cancellations.views import OrderCancelView
from common.after_response import after_response
from common.request_id import get_request_id, reset_request_id, set_request_id
from omnitron.celery import app
from refunds import services as refund_services
from refunds.models import Refund
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db  # Django's request signals close stale connections

sent: list[tuple[str, str | None]] = []


def view(request):
    after_response(lambda: sent.append(("message", get_request_id())))
    sent.append(("view returns", get_request_id()))
    return HttpResponse("ok")


urlpatterns = [path("after/", view), path("", include("omnitron.urls"))]


@pytest.fixture
def broker():
    """Tasks sent to a broker (the suite runs them in-process otherwise)."""
    app.conf.task_always_eager = False
    sent.clear()
    yield
    app.conf.task_always_eager = True


@override_settings(ROOT_URLCONF=__name__)
def test_a_request_sends_its_messages_after_its_response_with_its_request_id(client, broker):
    response = client.get("/after/", HTTP_X_REQUEST_ID="req-after-1")

    assert response.status_code == 200
    assert [what for what, _ in sent] == ["view returns", "message"]
    assert sent[0][1] == sent[1][1] == response["X-Request-ID"]


def test_outside_a_request_or_in_process_a_message_goes_at_once(broker):
    after_response(lambda: sent.append(("outside", None)))
    assert sent == [("outside", None)]

    request_started.send(sender=None)
    app.conf.task_always_eager = True
    after_response(lambda: sent.append(("eager", None)))
    assert sent[-1] == ("eager", None)
    request_finished.send(sender=None)


def test_a_failing_message_is_logged_and_the_others_still_go(broker, caplog):
    request_started.send(sender=None)
    token = set_request_id("req-after-2")
    try:
        after_response(mock.Mock(side_effect=ConnectionError("broker gone")))
        after_response(lambda: sent.append(("second", get_request_id())))
    finally:
        reset_request_id(token)
    assert sent == []

    request_finished.send(sender=None)

    assert sent == [("second", "req-after-2")]
    assert "could not be sent" in caplog.text
    request_finished.send(sender=None)
    assert len(sent) == 1  # sent once


@pytest.mark.django_db(transaction=True)  # the refunds are queued on the real commit, inside the request
def test_a_cancel_queues_its_refunds_once_its_response_is_written(staff_client, broker):
    order = order_with_items(lines=[(Decimal("10.00"), 1)])
    reason = CancellationReasonFactory(cancellation_type="cancel")
    events = []
    respond = OrderCancelView.post

    def post(view, request, *args, **kwargs):
        response = respond(view, request, *args, **kwargs)  # the cancel has committed by now
        events.append("response")
        return response

    with (
        mock.patch.object(refund_services, "_send", side_effect=lambda ids, countdown=None: events.append(ids)),
        mock.patch.object(OrderCancelView, "post", post),
    ):
        response = staff_client.post(
            f"/api/i1/orders/{order.pk}/cancel/",
            {"is_all": True, "reasons": {str(item.pk): reason.pk for item in order.items.all()}},
            format="json",
        )

    assert response.status_code == 200
    refund_ids = sorted(Refund.objects.filter(order=order).values_list("pk", flat=True))
    assert events == ["response", refund_ids]
