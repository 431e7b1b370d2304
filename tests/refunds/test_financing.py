import json
import threading
import time
from decimal import Decimal

import pytest
from werkzeug import Response

from cancellations.refund_instructions import refund_instructions
from cancellations.services import order_cancel
from orders.models import OrderItem
from refunds.financing import FinancingClient, FinancingError, FinancingRail
from refunds.rails import refund_idempotency_key
from refunds.services import refund_execute
from tests.factories import CancellationReasonFactory, ProductFactory, RefundFactory, order_with_items

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


def financing_order(*quantities, shipping=Decimal("0.00")):
    return order_with_items(
        payment_option="financing",
        financing_application_id="APP-1",
        lines=[(Decimal("10.00"), quantity) for quantity in quantities],
        shipping=shipping,
    )


def plan_of(order, lines, plan_type="cancel"):
    """A plan made as the service makes it (order_cancel) over (item, units) pairs; its refunds are written, with
    the instructions decided then, and not run (in a test transaction nothing is sent on commit)."""
    reason = CancellationReasonFactory(cancellation_type=plan_type)
    if plan_type == "refund":
        OrderItem.objects.filter(pk__in=[item.pk for item, _ in lines]).update(status="500")
    return order_cancel(
        order_id=order.pk,
        item_ids=[item.pk for item, _ in lines],
        quantities={item.pk: units for item, units in lines},
        reasons={item.pk: reason.pk for item, _ in lines},
    )


def items_refund(plan, kind="items"):
    return plan.refunds.get(kind=kind)


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
    provider.expect_request(CANCEL_PATH, method="PUT").respond_with_json({})
    earlier = plan_of(order, [(first, 1), (second, 1)])
    refund_execute(refund_id=items_refund(earlier).pk)  # the earlier plan completes
    refund = items_refund(plan_of(order, [(second, 1)]))

    assert FinancingRail().refund(refund).succeeded
    earlier_request, request = requests_to(provider)
    assert json.loads(earlier_request.get_data())["items"]
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
    # order_cancel refuses it up front (cargo_refund_not_supported); a refund written with these instructions
    # anyway (an operator, an older row) fails for good without a call
    order = financing_order(1)
    instructions = refund_instructions(
        method="financing", kind="cargo", plan_type="cancel", products=[], takes_rest_of_order=False,
        has_items_refund=False,
    )  # fmt: skip
    refund = RefundFactory(plan__order=order, method="financing", kind="cargo", instructions=instructions)

    outcome = FinancingRail().refund(refund)

    assert not outcome.succeeded
    assert not outcome.retryable
    assert outcome.error.startswith("NOT_SUPPORTED: ")
    assert provider.log == []


def test_a_refund_without_instructions_fails_for_good_without_a_call(provider):
    order = financing_order(1)
    refund = RefundFactory(plan__order=order, method="financing", kind="items", instructions={})

    outcome = FinancingRail().refund(refund)

    assert (outcome.succeeded, outcome.retryable) == (False, False)
    assert outcome.error.startswith("NO_INSTRUCTIONS: ")
    assert provider.log == []


def test_the_shipping_fee_of_a_whole_order_cancel_rides_on_the_items_refund(provider):
    order = financing_order(1, shipping=Decimal("5.00"))
    (item,) = order.items.all()
    plan = plan_of(order, [(item, 1)])
    cargo = items_refund(plan, kind="cargo")

    outcome = FinancingRail().refund(cargo)

    assert outcome.succeeded
    assert outcome.reference == "APP-1"
    assert provider.log == []
    assert items_refund(plan).instructions == {"action": "cancel", "items": None}


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
