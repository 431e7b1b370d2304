"""The financing provider through the whole refund engine: order_cancel -> refund task -> provider over HTTP."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from werkzeug import Response

from cancellations.models import CancellationPlan
from cancellations.services import order_cancel, plan_retry
from refunds.models import Refund
from refunds.services import refund_execute
from tests.factories import CancellationReasonFactory, order_with_items

pytestmark = pytest.mark.django_db

CANCEL = "/financing/v1/applications/APP-9/order/cancel"
RETURN = "/financing/v1/applications/APP-9/order/return"


@pytest.fixture
def provider(httpserver, settings):
    settings.FINANCING_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.FINANCING_API_KEY = "provider-key"
    settings.FINANCING_TIMEOUT = 2.0
    return httpserver


@pytest.fixture
def order(channel):
    return order_with_items(
        channel=channel,
        payment_option="financing",
        financing_application_id="APP-9",
        lines=[(Decimal("100.00"), 1), (Decimal("50.00"), 1)],
    )


def cancel(order, *items, reason_type="cancel"):
    reason = CancellationReasonFactory(cancellation_type=reason_type)
    return order_cancel(order_id=order.pk, item_ids=[i.pk for i in items], reasons={i.pk: reason.pk for i in items})


def run(refund):
    """One delivery of the refund's task, due now."""
    Refund.objects.filter(pk=refund.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    return refund


def ok():
    return Response(json.dumps({"id": "APP-9", "state": "READY"}), status=200, content_type="application/json")


def test_full_cancel_calls_the_provider_once_with_the_empty_request(provider, order):
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_response(ok())
    plan = cancel(order, *order.items.order_by("id"))

    refund = run(plan.refunds.get())
    run(refund)  # delivered again: nothing more is sent

    assert refund.status == "succeeded"
    assert len(provider.log) == 1
    request = provider.log[0][0]
    assert json.loads(request.data or b"{}") == {}
    assert request.headers["Authorization"] == "Bearer provider-key"
    assert request.headers["Idempotency-Key"] == f"refund-{refund.uuid}"
    plan.refresh_from_db()
    assert plan.status == "completed"


def test_partial_cancel_names_only_the_cancelled_item(provider, order):
    provider.expect_request(CANCEL, method="PUT").respond_with_response(ok())
    first = order.items.order_by("id").first()

    refund = run(cancel(order, first).refunds.get())

    assert refund.status == "succeeded"
    body = json.loads(provider.log[0][0].data)
    assert body == {"items": [{"code": first.product.sku, "ean": first.product.ean}]}


def test_a_return_uses_the_returned_operation(provider, channel):
    order = order_with_items(
        channel=channel, payment_option="financing", financing_application_id="APP-9", item_status="550"
    )
    provider.expect_request(RETURN, method="PUT").respond_with_response(ok())

    refund = run(cancel(order, order.items.get(), reason_type="refund").refunds.get())

    assert refund.status == "succeeded"
    assert provider.log[0][0].path == RETURN


def test_503_twice_then_200_is_three_calls_and_succeeds(provider, order):
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_data("busy", status=503)
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_json({"code": "UNAVAILABLE"}, status=503)
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_response(ok())
    refund = cancel(order, order.items.order_by("id").first()).refunds.get()

    assert run(refund).status == "pending"
    assert "503" in refund.last_error or "UNAVAILABLE" in refund.last_error
    assert run(refund).status == "pending"
    assert run(refund).status == "succeeded"

    assert len(provider.log) == 3
    assert {r.headers["Idempotency-Key"] for r, _ in provider.log} == {f"refund-{refund.uuid}"}
    assert refund.attempts == 3


def test_422_fails_the_plan_with_the_providers_code_and_a_retry_completes_it(provider, order):
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_json(
        {"code": "NOT_SUPPORTED", "message": "Resource is not supported for given financing type"}, status=422
    )
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_response(ok())
    plan = cancel(order, order.items.order_by("id").first())
    refund = plan.refunds.get()

    run(refund)
    run(refund)  # a failed refund is final: no second call

    plan.refresh_from_db()
    assert (refund.status, plan.status) == ("failed", "failed")
    assert refund.last_error.startswith("NOT_SUPPORTED")
    assert len(provider.log) == 1

    plan_retry(plan_id=plan.pk)
    run(refund)
    plan.refresh_from_db()
    assert (refund.status, refund.attempts, plan.status) == ("succeeded", 2, "completed")
    assert len(provider.log) == 2


def test_a_timeout_is_retried(provider, order, settings):
    settings.FINANCING_TIMEOUT = 0.3

    def slow(request):
        time.sleep(1.0)
        return ok()

    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_handler(slow)
    provider.expect_ordered_request(CANCEL, method="PUT").respond_with_response(ok())
    refund = cancel(order, order.items.order_by("id").first()).refunds.get()

    assert run(refund).status == "pending"
    assert refund.last_error.startswith("TIMEOUT")
    time.sleep(0.8)  # let the slow handler finish before the next request
    assert run(refund).status == "succeeded"
    assert CancellationPlan.objects.get().status == "completed"
