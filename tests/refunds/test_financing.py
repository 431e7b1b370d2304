import json
import threading
import time
from decimal import Decimal

import pytest
from werkzeug import Response

from refunds.financing import FinancingClient, FinancingError, FinancingRail
from refunds.rails import refund_idempotency_key
from tests.factories import (
    CancellationPlanFactory,
    CancellationPlanItemFactory,
    ProductFactory,
    RefundFactory,
    order_with_items,
)

pytestmark = pytest.mark.django_db

API_KEY = "test-secret"
CANCEL_PATH = "/financing/v1/applications/APP-1/order/cancel"
RETURN_PATH = "/financing/v1/applications/APP-1/order/return"


@pytest.fixture
def provider(httpserver, settings):
    settings.FINANCING_BASE_URL = httpserver.url_for("/").rstrip("/")
    settings.FINANCING_API_KEY = API_KEY
    settings.FINANCING_TIMEOUT = 5.0
    return httpserver


def financing_order(*quantities):
    return order_with_items(
        payment_option="financing",
        financing_application_id="APP-1",
        lines=[(Decimal("10.00"), quantity) for quantity in quantities],
    )


def plan_of(order, lines, plan_type="cancel"):
    """A plan over (item, units) pairs; the item's cancelled_quantity follows, as order_cancel moves it."""
    plan = CancellationPlanFactory(order=order, plan_type=plan_type)
    for item, units in lines:
        CancellationPlanItemFactory(plan=plan, order_item=item, quantity=units, refund_amount=item.price * units)
        item.cancelled_quantity += units
        item.save(update_fields=["cancelled_quantity"])
    return plan


def items_refund(plan, kind="items"):
    return RefundFactory(plan=plan, method="financing", kind=kind, amount=Decimal("10.00"))


def requests_to(server):
    return [request for request, _ in server.log]


def test_full_cancel_sends_the_empty_request_with_auth_and_idempotency_key(provider):
    # given
    order = financing_order(1, 2)
    first, second = order.items.all()
    refund = items_refund(plan_of(order, [(first, 1), (second, 2)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json(
        {"id": "APP-1", "state": "CANCELLED", "substate": "CANCELLED_BY_MERCHANT"}
    )

    # when
    outcome = FinancingRail().refund(refund)

    # then
    assert outcome.succeeded
    assert outcome.reference == "APP-1:CANCELLED"
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {}
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == f"refund-{refund.uuid}"


def test_partial_cancel_names_only_the_planned_item_by_sku_and_ean(provider):
    order = financing_order(1, 1)
    first, _ = order.items.select_related("product")
    refund = items_refund(plan_of(order, [(first, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})

    outcome = FinancingRail().refund(refund)

    assert outcome.succeeded
    assert outcome.reference == "APP-1"  # no id in the answer: the application we sent
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {"items": [{"code": first.product.sku, "ean": first.product.ean}]}


def test_one_unit_of_two_names_the_item(provider):
    order = financing_order(2)
    (item,) = order.items.select_related("product")
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})

    assert FinancingRail().refund(refund).succeeded
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {"items": [{"code": item.product.sku, "ean": item.product.ean}]}


def test_an_unknown_ean_is_left_out(provider):
    order = financing_order(1, 1)
    first, _ = order.items.all()
    first.product = ProductFactory(ean=None)
    first.save(update_fields=["product"])
    refund = items_refund(plan_of(order, [(first, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})

    assert FinancingRail().refund(refund).succeeded
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {"items": [{"code": first.product.sku}]}


def test_the_last_open_units_after_an_earlier_plan_go_as_the_empty_request(provider):
    order = financing_order(1, 2)
    first, second = order.items.all()
    plan_of(order, [(first, 1), (second, 1)])
    refund = items_refund(plan_of(order, [(second, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})

    assert FinancingRail().refund(refund).succeeded
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {}


def test_a_retry_after_a_later_plan_still_names_only_its_own_items(provider):
    # given: the plan took one item; a later plan took the other before this refund was (re)tried
    order = financing_order(1, 1)
    first, second = order.items.select_related("product")
    refund = items_refund(plan_of(order, [(first, 1)]))
    plan_of(order, [(second, 1)])
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})

    assert FinancingRail().refund(refund).succeeded
    (request,) = requests_to(provider)
    assert json.loads(request.get_data()) == {"items": [{"code": first.product.sku, "ean": first.product.ean}]}


def test_a_return_marks_the_items_returned(provider):
    order = financing_order(1, 1)
    first, _ = order.items.select_related("product")
    refund = items_refund(plan_of(order, [(first, 1)], plan_type="refund"))
    provider.expect_request(RETURN_PATH, method="PUT").respond_with_json({"id": "APP-1"})

    outcome = FinancingRail().refund(refund)

    assert outcome.succeeded
    (request,) = requests_to(provider)
    assert request.path == RETURN_PATH
    assert json.loads(request.get_data()) == {"items": [{"code": first.product.sku, "ean": first.product.ean}]}


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            422,
            {"code": "NOT_SUPPORTED", "message": "Resource is not supported for given financing type"},
            "NOT_SUPPORTED",
        ),
        (400, {"errors": [{"code": "INVALID_REQUEST", "message": "Malformed request"}]}, "INVALID_REQUEST"),
        (404, {"code": "OBJECT_NOT_FOUND", "message": "The requested resource could not be found"}, "OBJECT_NOT_FOUND"),
        (409, {"unexpected": True}, "HTTP_409"),
    ],
)
def test_a_refusal_is_final_and_sent_once(provider, status, body, code):
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json(body, status=status)

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert outcome.error.startswith(f"{code}: ")
    assert len(provider.log) == 1


def test_a_503_is_retryable(provider):
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json(
        {"code": "SERVICE_UNAVAILABLE", "message": "Try later"}, status=503
    )

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert outcome.retryable
    assert outcome.error == "SERVICE_UNAVAILABLE: Try later"


def test_a_500_that_is_not_json_is_retryable_with_the_status_as_code(provider):
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_data(
        "<html>Bad gateway hiccup</html>", status=500, content_type="text/html"
    )

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert outcome.retryable
    assert outcome.error == "HTTP_500: <html>Bad gateway hiccup</html>"


def test_a_slow_provider_times_out_and_is_retryable(provider, settings):
    settings.FINANCING_TIMEOUT = 0.2
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    released = threading.Event()

    def slow_handler(request):
        released.wait(timeout=5)
        return Response("{}", content_type="application/json")

    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_handler(slow_handler)

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert outcome.retryable
    assert outcome.error.startswith("TIMEOUT: ")
    # Let the handler finish here, so its late log entry cannot land in the next test's server log.
    released.set()
    deadline = time.monotonic() + 5
    while not provider.log and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_refused_connection_is_retryable(settings):
    settings.FINANCING_BASE_URL = "http://127.0.0.1:1"
    settings.FINANCING_API_KEY = API_KEY
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert outcome.retryable
    assert outcome.error.startswith("CONNECTION_ERROR: ")


def test_without_a_base_url_the_rail_is_not_configured(settings):
    settings.FINANCING_BASE_URL = ""
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert outcome.error.startswith("NOT_CONFIGURED: ")


def test_without_an_api_key_no_authorization_header_is_sent(provider, settings):
    # given
    settings.FINANCING_API_KEY = ""
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({"id": "APP-1", "state": "CANCELLED"})

    # when
    outcome = FinancingRail().refund(refund)

    # then
    assert outcome.succeeded, outcome.error
    (request,) = requests_to(provider)
    assert "Authorization" not in request.headers
    assert request.headers["Idempotency-Key"] == f"refund-{refund.uuid}"


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [
        ("FINANCING_API_KEY", "key with a\nnewline", "REQUEST_INVALID: "),
        ("FINANCING_API_KEY", "clé-non-ascii", "NOT_CONFIGURED: "),
    ],
)
def test_a_request_that_cannot_be_built_is_final_and_never_sent(provider, settings, setting, value, code):
    setattr(settings, setting, value)
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert outcome.error.startswith(code), outcome.error
    assert requests_to(provider) == []


def test_every_attempt_for_a_refund_carries_the_same_idempotency_key(provider):
    order = financing_order(1)
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({}, status=503)

    FinancingRail().refund(refund)
    FinancingRail().refund(refund)

    keys = [request.headers["Idempotency-Key"] for request in requests_to(provider)]
    assert keys == [refund_idempotency_key(refund)] * 2


def test_the_shipping_fee_alone_is_not_supported_and_sends_nothing(provider):
    order = financing_order(1)
    refund = items_refund(CancellationPlanFactory(order=order, is_cargo_refund=True), kind="cargo")

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert outcome.error.startswith("NOT_SUPPORTED: ")
    assert provider.log == []


def test_the_shipping_fee_of_a_whole_order_cancel_rides_on_the_items_refund(provider):
    order = financing_order(1)
    (item,) = order.items.all()
    plan = plan_of(order, [(item, 1)])
    items_refund(plan)
    cargo = items_refund(plan, kind="cargo")

    outcome = FinancingRail().refund(cargo)

    assert outcome.succeeded
    assert outcome.reference == "APP-1"
    assert provider.log == []


def test_an_order_without_application_id_fails_for_good(provider):
    order = financing_order(1)
    order.financing_application_id = None
    order.save(update_fields=["financing_application_id"])
    (item,) = order.items.all()
    refund = items_refund(plan_of(order, [(item, 1)]))

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert provider.log == []


def test_the_client_refuses_an_empty_item_list(provider):
    with (
        FinancingClient(provider.url_for("/"), API_KEY) as client,
        pytest.raises(ValueError, match="items=None"),
    ):
        client.cancel("APP-1", [], idempotency_key="k")
    assert provider.log == []


def test_the_client_error_carries_status_and_provider_code(provider):
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json(
        {"errors": [{"code": "NOT_SUPPORTED", "message": "Deferred payment only"}]}, status=422
    )

    with FinancingClient(provider.url_for("/"), API_KEY) as client, pytest.raises(FinancingError) as caught:
        client.cancel("APP-1", None, idempotency_key="k")

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (422, "NOT_SUPPORTED", False)
    assert caught.value.message == "Deferred payment only"
