"""API.md's "Cancellation requests" and "Cancellation plans" end to end: plain HTTP to the gunicorn of `conftest.py`
on the pytest-django PostgreSQL database.

Refund tasks run in-process inside gunicorn (no broker), so an approval's refunds have run by the time its response
arrives. The sandbox gateway refuses refunds of purchases whose `payment_reference` starts with "sandbox-fail".
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.e2e.support import World, intake

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IBAN = "TR330006100519786457841326"
IBAN_SPACED = "TR33 0006 1005 1978 6457 8413 26"
MASKED = "TR33******************1326"
BAD_CHECKSUM_IBAN = "TR330006100519786457841327"

REQUEST_FIELDS = {
    "id", "pk", "order_item", "reason", "description", "cancellation_type", "status", "iban", "holder_name",
    "easy_return", "quantity", "fully_refund_as_loyalty_money", "uuid", "attributes", "attributes_kwargs",
    "localized_attributes", "localized_attributes_kwargs", "created_date", "modified_date",
}  # fmt: skip
PLAN_FIELDS = {
    "id", "order", "plan_type", "status", "refund_invoice_number", "forced_refund_amount", "is_cargo_refund",
    "items", "refunds", "created_date", "modified_date",
}  # fmt: skip
REFUND_FIELDS = {"id", "kind", "method", "amount", "status", "attempts", "last_error", "gateway_reference"}
EASY_RETURN_CONF = {"shipping_company": "yurtici", "valid_days": 14, "max_count": 1}


@pytest.fixture(autouse=True)
def _full_iban_never_in_a_response(http):
    """Every response body of every test here is checked: the full IBAN never leaves the service."""
    seen: list[httpx.Response] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        seen.append(response)

    http.event_hooks["response"].append(keep)
    yield
    leaks = [f"{r.request.method} {r.request.url}" for r in seen if IBAN in r.text or IBAN_SPACED in r.text]
    assert not leaks, f"the full IBAN was returned by {leaks}"


@pytest.fixture
def reasons(http, world) -> dict[str, int]:
    ids = {}
    for key, cancellation_type, subject in (
        ("cancel", "cancel", "Changed my mind"),
        ("cancel_other", "cancel", "Found it cheaper"),
        ("refund", "refund", "Damaged"),
    ):
        response = http.post(
            "/api/i1/cancellation_reasons/",
            headers=world.staff,
            json={"cancellation_type": cancellation_type, "subject": subject},
        )
        assert response.status_code == 201, response.text
        ids[key] = response.json()["id"]
    return ids


def order_body(
    number: str,
    lines: list[tuple[str, int, str]],
    *,
    payment_option: str = "credit_card",
    payment_reference: str | None = None,
    date_placed: str = "2026-03-10T09:00:00Z",
    email: str = "ayse@example.com",
    item_status: str | None = None,
) -> dict:
    """An order whose amounts add up: `lines` are (sku, quantity, unit price); no discount, no shipping."""
    items = [
        {
            "product": {"sku": sku, "name": sku.title()},
            "quantity": quantity,
            "price": price,
            "tax_rate": "20.00",
            **({"status": item_status} if item_status else {}),
        }
        for sku, quantity, price in lines
    ]
    body = {
        "number": number,
        "date_placed": date_placed,
        "currency": "TRY",
        "amount": str(sum((Decimal(price) * quantity for _, quantity, price in lines), Decimal("0.00"))),
        "shipping_amount": "0.00",
        "discount_amount": "0.00",
        "payment_option": payment_option,
        "customer": {"email": email, "first_name": "Ayse", "last_name": "Yilmaz", "phone_number": "+90555"},
        "items": items,
    }
    if payment_option == "credit_card":
        body["payment_reference"] = payment_reference or f"TX-{number}"
    return body


def requests_path(channel_id: int) -> str:
    return f"/api/channel/{channel_id}/cancellation_requests/"


def create_request(http, headers, channel_id, item_id, reason_id, cancellation_type="cancel", **extra):
    body = {"order_item": item_id, "reason": reason_id, "cancellation_type": cancellation_type, **extra}
    return http.post(requests_path(channel_id), headers=headers, json=body)


def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    assert set(response.json()) == REQUEST_FIELDS
    return response.json()


def order_state(http, world: World, order: dict) -> tuple:
    """Everything a refused call must leave untouched: the order detail, its requests and its plans."""
    detail = http.get(f"/api/i1/orders/{order['id']}/", headers=world.staff)
    assert detail.status_code == 200, detail.text
    listed = http.get(
        requests_path(order["channel"]), headers=world.staff, params={"order_id": order["id"], "limit": 100}
    )
    assert listed.status_code == 200, listed.text
    plans = http.get("/api/i1/cancellation_plans/", headers=world.staff, params={"order_id": order["id"]})
    assert plans.status_code == 200, plans.text
    return detail.json(), listed.json()["results"], plans.json()["results"]


def item_of(http, world: World, order: dict, index: int) -> dict:
    return http.get(f"/api/i1/orders/{order['id']}/", headers=world.staff).json()["items"][index]


def refused(response: httpx.Response, code: str) -> None:
    assert (response.status_code, response.json().get("code")) == (400, code), response.text


def test_create_refusals_and_masked_iban(http, world, reasons):
    shop, staff, channel_id = world.shop, world.staff, world.channel_id
    order = intake(http, shop, channel_id, order_body("REQ-1", [("RQ-JACKET", 3, "30.00"), ("RQ-CAP", 1, "20.00")]))
    jacket, cap = (item["id"] for item in order["items"])
    assert http.get("/api/i1/orders/", headers=staff, params={"cancel_status": "waiting"}).json()["count"] == 0

    # a channel user asks to cancel an unshipped item: waiting, for all of its open units by default
    first = created(create_request(http, shop, channel_id, jacket, reasons["cancel"], description="Wrong colour"))
    assert (first["order_item"], first["reason"], first["cancellation_type"], first["status"]) == (
        jacket,
        reasons["cancel"],
        "cancel",
        "waiting",
    )
    assert (first["quantity"], first["description"]) == (3, "Wrong colour")
    assert (first["iban"], first["holder_name"]) == (None, None)
    assert (first["easy_return"], first["fully_refund_as_loyalty_money"]) == (None, False)
    assert first["created_date"].endswith("Z")
    after = http.get(f"/api/channel/{channel_id}/orders/{order['id']}/", headers=shop).json()
    assert [(i["id"], i["cancel_status"], i["status"]) for i in after["items"]] == [
        (jacket, "waiting", "400"),
        (cap, None, "400"),
    ]
    assert after["cancel_status"] == "waiting"
    waiting = http.get("/api/i1/orders/", headers=staff, params={"cancel_status": "waiting"}).json()
    assert [row["id"] for row in waiting["results"]] == [order["id"]]
    retrieved = http.get(f"{requests_path(channel_id)}{first['id']}/", headers=shop)
    assert (retrieved.status_code, retrieved.json()) == (200, first)

    # refusals: each is 400 with its code and nothing changes
    before = order_state(http, world, order)
    refused(create_request(http, shop, channel_id, cap, reasons["refund"], "refund"), "type_does_not_fit_item")
    refused(create_request(http, shop, channel_id, cap, reasons["refund"]), "reason_type_mismatch")
    refused(create_request(http, shop, channel_id, jacket, reasons["cancel"], quantity=1), "item_has_waiting_request")
    refused(create_request(http, shop, channel_id, cap, reasons["cancel"], quantity=2), "quantity_not_available")
    refused(
        create_request(http, shop, channel_id, cap, reasons["cancel"], iban=BAD_CHECKSUM_IBAN, holder_name="Ayse"),
        "iban_invalid",
    )
    zero = create_request(http, shop, channel_id, cap, reasons["cancel"], quantity=0)
    assert (zero.status_code, "quantity" in zero.json()) == (400, True)
    assert order_state(http, world, order) == before

    # a funds_transfer order: the refund goes by bank transfer, so an IBAN and a holder name are required
    transfer = intake(
        http, shop, channel_id, order_body("REQ-2", [("RQ-SCARF", 1, "45.00")], payment_option="funds_transfer")
    )
    scarf = transfer["items"][0]["id"]
    before_transfer = order_state(http, world, transfer)
    refused(create_request(http, shop, channel_id, scarf, reasons["cancel"]), "iban_required")
    refused(create_request(http, shop, channel_id, scarf, reasons["cancel"], holder_name="Ayse"), "iban_required")
    refused(create_request(http, shop, channel_id, scarf, reasons["cancel"], iban=IBAN), "holder_name_required")
    refused(
        create_request(
            http, shop, channel_id, scarf, reasons["cancel"], iban=BAD_CHECKSUM_IBAN, holder_name="Ayse Yilmaz"
        ),
        "iban_invalid",
    )
    assert order_state(http, world, transfer) == before_transfer

    # another channel's item is refused exactly like an unknown id, and stays untouched
    foreign = intake(http, staff, world.other_channel_id, order_body("REQ-F1", [("RQ-FOREIGN", 1, "10.00")]))
    foreign_item = foreign["items"][0]["id"]
    before_foreign = order_state(http, world, foreign)
    not_mine = create_request(http, shop, channel_id, foreign_item, reasons["cancel"])
    unknown = create_request(http, shop, channel_id, 987654, reasons["cancel"])
    assert not_mine.status_code == unknown.status_code == 400
    assert "order_item" in not_mine.json()
    assert not_mine.json().get("code") == unknown.json().get("code") == "invalid"
    assert not_mine.json()["order_item"][0].replace(str(foreign_item), "N") == unknown.json()["order_item"][0].replace(
        "987654", "N"
    )
    assert order_state(http, world, foreign) == before_foreign

    # the IBAN is accepted with spaces, checked, and returned masked (first 4, last 4) everywhere
    with_iban = created(
        create_request(http, shop, channel_id, scarf, reasons["cancel"], iban=IBAN_SPACED, holder_name="Ayse Yilmaz")
    )
    assert (with_iban["iban"], with_iban["holder_name"], with_iban["quantity"]) == (MASKED, "Ayse Yilmaz", 1)
    path = requests_path(channel_id)
    listed = http.get(path, headers=shop, params={"pk__in": with_iban["id"]}).json()
    assert [row["iban"] for row in listed["results"]] == [MASKED]
    assert http.get(f"{path}{with_iban['id']}/", headers=shop).json()["iban"] == MASKED
    assert http.get(f"{path}{with_iban['id']}/detailed/", headers=shop).json()["iban"] == MASKED
    detailed_list = http.get(f"{path}detailed/", headers=shop, params={"order_id": transfer["id"]}).json()
    assert [row["iban"] for row in detailed_list["results"]] == [MASKED]
    everything = http.get(path, headers=staff, params={"limit": 100}).json()
    assert {row["id"]: row["iban"] for row in everything["results"]} == {first["id"]: None, with_iban["id"]: MASKED}
    # (the autouse fixture checks that no response of this test carried the full IBAN)


def test_edit_delete_and_reject(http, world, reasons):
    shop, staff, channel_id = world.shop, world.staff, world.channel_id
    path = requests_path(channel_id)
    order = intake(http, shop, channel_id, order_body("EDIT-1", [("ED-JACKET", 3, "30.00"), ("ED-CAP", 1, "20.00")]))
    jacket, cap = (item["id"] for item in order["items"])
    request = created(create_request(http, shop, channel_id, jacket, reasons["cancel"], quantity=1))
    request_path = f"{path}{request['id']}/"

    # PATCH while waiting
    patched = http.patch(
        request_path,
        headers=shop,
        json={"quantity": 2, "reason": reasons["cancel_other"], "description": "Two, please"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["id"], body["quantity"], body["reason"], body["description"], body["status"]) == (
        request["id"],
        2,
        reasons["cancel_other"],
        "Two, please",
        "waiting",
    )
    assert body["order_item"] == jacket

    # a status other than the current one is refused (the actions change it); the same status is accepted
    before = order_state(http, world, order)
    for status in ("approved", "rejected", "completed"):
        refused(http.patch(request_path, headers=shop, json={"status": status}), "status_change_not_allowed")
    refused(http.patch(request_path, headers=shop, json={"quantity": 4}), "quantity_not_available")
    refused(http.patch(request_path, headers=shop, json={"reason": reasons["refund"]}), "reason_type_mismatch")
    assert order_state(http, world, order) == before
    same = http.patch(request_path, headers=shop, json={"status": "waiting"})
    assert (same.status_code, same.json()["status"], same.json()["quantity"]) == (200, "waiting", 2)

    # PUT replaces the request: moved to the other item, quantity defaults to all of its units
    put = http.put(
        request_path,
        headers=shop,
        json={"order_item": cap, "reason": reasons["cancel"], "cancellation_type": "cancel", "description": "Cap"},
    )
    assert put.status_code == 200, put.text
    assert (put.json()["order_item"], put.json()["quantity"], put.json()["reason"], put.json()["description"]) == (
        cap,
        1,
        reasons["cancel"],
        "Cap",
    )
    items = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()["items"]
    assert [(i["id"], i["cancel_status"]) for i in items] == [(jacket, None), (cap, "waiting")]
    incomplete_put = http.put(request_path, headers=shop, json={"description": "only this"})
    assert incomplete_put.status_code == 400
    assert {"order_item", "reason", "cancellation_type"} <= set(incomplete_put.json())

    # DELETE while waiting: 204, the request is gone, the item's cancel_status is cleared
    deleted = http.delete(request_path, headers=shop)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert http.get(request_path, headers=shop).status_code == 404
    detail = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()
    assert [i["cancel_status"] for i in detail["items"]] == [None, None]
    assert detail["cancel_status"] is None
    assert http.get("/api/i1/orders/", headers=staff, params={"cancel_status": "waiting"}).json()["count"] == 0
    assert http.get(path, headers=shop).json()["count"] == 0

    # reject: waiting -> rejected; the item is rejected; rejecting, editing or deleting it again is refused
    to_reject = created(create_request(http, shop, channel_id, jacket, reasons["cancel"]))
    reject_path = f"{path}{to_reject['id']}/"
    rejected = http.post(f"{reject_path}reject/", headers=shop)
    assert rejected.status_code == 200, rejected.text
    assert set(rejected.json()) == REQUEST_FIELDS
    assert (rejected.json()["id"], rejected.json()["status"], rejected.json()["quantity"]) == (
        to_reject["id"],
        "rejected",
        3,
    )
    detail = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()
    assert [i["cancel_status"] for i in detail["items"]] == ["rejected", None]
    assert detail["cancel_status"] == "rejected"
    rejected_orders = http.get("/api/i1/orders/", headers=staff, params={"cancel_status": "rejected"}).json()
    assert [row["id"] for row in rejected_orders["results"]] == [order["id"]]
    before = order_state(http, world, order)
    refused(http.post(f"{reject_path}reject/", headers=shop), "request_not_waiting")
    refused(http.post(f"{reject_path}approve/", headers=staff, json={}), "request_not_waiting")
    refused(http.patch(reject_path, headers=shop, json={"description": "x"}), "request_not_waiting")
    refused(http.delete(reject_path, headers=shop), "request_not_waiting")
    assert order_state(http, world, order) == before
    assert http.get(reject_path, headers=shop).json() == rejected.json()

    # a new request for the rejected item is allowed
    again = created(create_request(http, shop, channel_id, jacket, reasons["cancel"]))
    assert (again["status"], again["quantity"]) == ("waiting", 3)
    assert item_of(http, world, order, 0)["cancel_status"] == "waiting"
    statuses = http.get(path, headers=shop, params={"order_id": order["id"]}).json()["results"]
    assert sorted((row["id"], row["status"]) for row in statuses) == [
        (to_reject["id"], "rejected"),
        (again["id"], "waiting"),
    ]


def test_approve_runs_the_cancellation_and_locks_the_request(http, world, reasons):
    shop, staff, channel_id = world.shop, world.staff, world.channel_id
    path = requests_path(channel_id)
    order = intake(http, shop, channel_id, order_body("APP-1", [("AP-JACKET", 3, "30.00"), ("AP-CAP", 1, "20.00")]))
    jacket = order["items"][0]["id"]
    request = created(create_request(http, shop, channel_id, jacket, reasons["cancel"], quantity=2))
    request_path = f"{path}{request['id']}/"

    # approval is staff only
    before = order_state(http, world, order)
    denied = http.post(f"{request_path}approve/", headers=shop, json={})
    assert denied.status_code == 403
    assert "detail" in denied.json()
    assert order_state(http, world, order) == before

    # staff approves: the plan runs in-process inside gunicorn, so the request is completed when the answer comes
    approved = http.post(f"{request_path}approve/", headers=staff, json={})
    assert approved.status_code == 200, approved.text
    assert set(approved.json()) == REQUEST_FIELDS
    assert (approved.json()["id"], approved.json()["status"], approved.json()["quantity"]) == (
        request["id"],
        "completed",
        2,
    )
    assert http.get(request_path, headers=shop).json()["status"] == "completed"
    detail = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()
    assert detail["refund_amount"] == "60.00"
    jacket_after = detail["items"][0]
    assert (jacket_after["cancel_status"], jacket_after["cancelled_quantity"], jacket_after["refund_amount"]) == (
        "confirmed",
        2,
        "60.00",
    )
    assert jacket_after["status"] == "400"  # one unit is still open
    assert detail["status"] == "400"

    plans = http.get("/api/i1/cancellation_plans/", headers=staff, params={"order_id": order["id"]}).json()
    assert plans["count"] == 1
    plan = plans["results"][0]
    assert (plan["plan_type"], plan["status"], plan["order"]) == ("cancel", "completed", order["id"])
    assert plan["items"] == [{"order_item": jacket, "quantity": 2, "refund_amount": "60.00"}]
    assert [(r["kind"], r["method"], r["amount"], r["status"]) for r in plan["refunds"]] == [
        ("items", "original_payment", "60.00", "succeeded")
    ]
    by_plan = http.get(path, headers=shop, params={"cancellation_plan_status": "completed"}).json()
    assert [row["id"] for row in by_plan["results"]] == [request["id"]]

    # an approved/completed request can no longer be edited, deleted, rejected or approved
    before = order_state(http, world, order)
    refused(http.patch(request_path, headers=shop, json={"description": "x"}), "request_not_waiting")
    refused(
        http.put(
            request_path,
            headers=shop,
            json={"order_item": jacket, "reason": reasons["cancel"], "cancellation_type": "cancel", "quantity": 1},
        ),
        "request_not_waiting",
    )
    refused(http.delete(request_path, headers=shop), "request_not_waiting")
    refused(http.post(f"{request_path}reject/", headers=shop), "request_not_waiting")
    refused(http.post(f"{request_path}approve/", headers=staff, json={}), "request_not_waiting")
    assert order_state(http, world, order) == before

    # the last open unit can be asked for, and approved, in a new request; the order's refund grows again
    last = created(create_request(http, shop, channel_id, jacket, reasons["cancel"]))
    assert last["quantity"] == 1
    assert http.post(f"{path}{last['id']}/approve/", headers=staff, json={}).json()["status"] == "completed"
    detail = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()
    assert detail["refund_amount"] == "90.00"
    assert (detail["items"][0]["status"], detail["items"][0]["cancelled_quantity"]) == ("100", 3)
    assert detail["items"][1]["status"] == "400"


def test_easy_return_detailed_and_list_filters(http, world, reasons):
    shop, staff, channel_id = world.shop, world.staff, world.channel_id
    path = requests_path(channel_id)
    conf = {"easy_return": EASY_RETURN_CONF, "storefront_api_token": "s3cret-e2e"}
    channel = http.patch(f"/api/i1/channels/{channel_id}/", headers=staff, json={"conf": conf})
    assert (channel.status_code, channel.json()["conf"]) == (200, conf)

    old_order = intake(
        http,
        shop,
        channel_id,
        order_body("FLT-Old", [("FL-OLD", 2, "25.00")], date_placed="2026-01-05T10:00:00Z", email="Ada@Example.com"),
    )
    new_order = intake(
        http,
        shop,
        channel_id,
        order_body(
            "FLT-New", [("FL-NEW", 1, "80.00")], date_placed="2026-03-10T23:30:00Z", email="bob@example.com",
            item_status="550",
        ),
    )  # fmt: skip
    old_item, new_item = old_order["items"][0], new_order["items"][0]
    assert new_item["status"] == "550"

    # a cancel request gets no easy return; a refund (return) request on this channel gets one with a code
    cancel = created(create_request(http, shop, channel_id, old_item["id"], reasons["cancel"], quantity=1))
    assert cancel["easy_return"] is None
    refund = created(create_request(http, shop, channel_id, new_item["id"], reasons["refund"], "refund"))
    assert (refund["cancellation_type"], refund["status"], refund["quantity"]) == ("refund", "waiting", 1)
    easy_return = refund["easy_return"]
    assert (easy_return["shipping_company"], easy_return["max_count"]) == ("yurtici", 1)
    assert easy_return["status"] == "active"
    assert re.fullmatch(r"ER[A-HJ-NP-Z2-9]{10}", easy_return["code"]), easy_return["code"]
    validity = datetime.fromisoformat(easy_return["end_date"]) - datetime.fromisoformat(easy_return["start_date"])
    assert validity == timedelta(days=14)
    assert item_of(http, world, new_order, 0)["cancel_status"] == "waiting"

    def ids(query: dict, suffix: str = "") -> set[int]:
        response = http.get(f"{path}{suffix}", headers=shop, params=query)
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()["results"]}

    assert ids({"easy_return_code": easy_return["code"].lower()}) == {refund["id"]}
    assert ids({"easy_return_code": "ERNOPENOPE22"}) == set()

    # detailed: order_item (with order and product), reason, channel, customer and easy_return nested
    detailed = http.get(f"{path}{refund['id']}/detailed/", headers=shop)
    assert detailed.status_code == 200, detailed.text
    body = detailed.json()
    assert set(body) == REQUEST_FIELDS | {"channel", "customer"}
    assert (body["id"], body["status"], body["cancellation_type"], body["quantity"]) == (
        refund["id"],
        "waiting",
        "refund",
        1,
    )
    assert body["order_item"]["pk"] == new_item["id"]
    assert (body["order_item"]["status"], body["order_item"]["price"], body["order_item"]["quantity"]) == (
        "550",
        "80.00",
        1,
    )
    assert body["order_item"]["cancel_status"] == "waiting"
    nested_order = body["order_item"]["order"]
    assert (nested_order["pk"], nested_order["number"], nested_order["channel"]) == (
        new_order["id"],
        "FLT-New",
        channel_id,
    )
    assert (nested_order["amount"], nested_order["payment_option"], nested_order["currency"]) == (
        "80.00",
        "credit_card",
        "try",
    )
    assert (body["order_item"]["product"]["sku"], body["order_item"]["product"]["name"]) == ("FL-NEW", "Fl-New")
    assert (body["reason"]["pk"], body["reason"]["cancellation_type"], body["reason"]["subject"]) == (
        reasons["refund"],
        "refund",
        "Damaged",
    )
    assert (body["channel"]["id"], body["channel"]["name"]) == (channel_id, "Web shop")
    assert body["channel"]["conf"] == {"easy_return": EASY_RETURN_CONF}  # the credential is left out
    assert "s3cret-e2e" not in detailed.text
    assert (body["customer"]["email"], body["customer"]["first_name"]) == ("bob@example.com", "Ayse")
    assert body["customer"]["pk"] == new_order["customer"]["id"]
    assert body["easy_return"] == easy_return
    listed = http.get(f"{path}detailed/", headers=shop).json()
    assert listed["count"] == 2
    assert {row["id"]: row for row in listed["results"]}[refund["id"]] == body
    cancel_detailed = http.get(f"{path}{cancel['id']}/detailed/", headers=shop).json()
    assert (cancel_detailed["easy_return"], cancel_detailed["order_item"]["order"]["number"]) == (None, "FLT-Old")
    assert cancel_detailed["customer"]["email"].lower() == "ada@example.com"

    # approve the cancel request, so that a plan status can be filtered on
    assert http.post(f"{path}{cancel['id']}/approve/", headers=staff, json={}).json()["status"] == "completed"

    both = {cancel["id"], refund["id"]}
    cases = [
        ({"pk__in": f"{cancel['id']},{refund['id']}"}, both),
        ({"pk__in": str(refund["id"] + 1000)}, set()),
        ({"status": "completed"}, {cancel["id"]}),
        ({"status": "waiting"}, {refund["id"]}),
        ({"status": "rejected"}, set()),
        ({"number": "flt-old"}, {cancel["id"]}),
        ({"number": "FLT-NONE"}, set()),
        ({"sku": "fl-new"}, {refund["id"]}),
        ({"sku": "FL-NOPE"}, set()),
        ({"customer_email": "ADA@example.com"}, {cancel["id"]}),
        ({"customer_email": "eve@example.com"}, set()),
        ({"order_id": new_order["id"]}, {refund["id"]}),
        ({"order_id": 987654}, set()),
        ({"cancellation_plan_status": "completed"}, {cancel["id"]}),
        ({"cancellation_plan_status": "failed"}, set()),
        ({"date_placed__date__gte": "2026-03-10"}, {refund["id"]}),  # 23:30 UTC on the 10th
        ({"date_placed__date__gte": "2026-03-11"}, set()),
        ({"date_placed__date__gte": "2026-01-01"}, both),
    ]
    for suffix in ("", "detailed/"):
        for query, expected in cases:
            assert ids(query, suffix) == expected, (suffix, query)
        for query, field in (
            ({"pk__in": "1,x"}, "pk__in"),
            ({"date_placed": "yesterday"}, "date_placed"),
            ({"status": "lost"}, "status"),
            ({"customer_email": "not-an-email"}, "customer_email"),
        ):
            malformed = http.get(f"{path}{suffix}", headers=shop, params=query)
            assert malformed.status_code == 400, (suffix, query, malformed.text)
            assert field in malformed.json()
            assert malformed.json().get("code") == "invalid"


def test_isolation_between_channels(http, world, reasons):
    shop, staff, channel_id, other_id = world.shop, world.staff, world.channel_id, world.other_channel_id
    mine_order = intake(http, shop, channel_id, order_body("ISO-1", [("IS-MINE", 1, "10.00")]))
    mine_item = mine_order["items"][0]["id"]
    mine = created(create_request(http, shop, channel_id, mine_item, reasons["cancel"]))
    foreign_order = intake(http, staff, other_id, order_body("ISO-2", [("IS-THEIRS", 1, "10.00")]))
    # staff use the channel's own path, like the channel would
    foreign = created(create_request(http, staff, other_id, foreign_order["items"][0]["id"], reasons["cancel"]))

    # a channel user on another channel's path: 403, whatever the method
    other_path = requests_path(other_id)
    denied = [
        http.get(other_path, headers=shop),
        http.get(f"{other_path}{foreign['id']}/", headers=shop),
        http.get(f"{other_path}detailed/", headers=shop),
        http.post(other_path, headers=shop, json={"order_item": foreign_order["items"][0]["id"], "reason": 1}),
        http.post(f"{other_path}{foreign['id']}/reject/", headers=shop),
        http.patch(f"{other_path}{foreign['id']}/", headers=shop, json={"description": "x"}),
        http.delete(f"{other_path}{foreign['id']}/", headers=shop),
        http.get(f"/api/channel/{other_id}/cancellation_plans/", headers=shop),
    ]
    assert [r.status_code for r in denied] == [403] * len(denied)

    # another channel's request under the channel's own path: 404, exactly like a request that does not exist
    path = requests_path(channel_id)
    hidden = {
        "retrieve": http.get(f"{path}{foreign['id']}/", headers=shop),
        "detailed": http.get(f"{path}{foreign['id']}/detailed/", headers=shop),
        "reject": http.post(f"{path}{foreign['id']}/reject/", headers=shop),
        "patch": http.patch(f"{path}{foreign['id']}/", headers=shop, json={"description": "x"}),
        "put": http.put(
            f"{path}{foreign['id']}/",
            headers=shop,
            json={"order_item": mine_item, "reason": reasons["cancel"], "cancellation_type": "cancel"},
        ),
        "delete": http.delete(f"{path}{foreign['id']}/", headers=shop),
        "staff approve": http.post(f"{path}{foreign['id']}/approve/", headers=staff, json={}),
    }
    missing = http.get(f"{path}987654/", headers=shop)
    assert {name: r.status_code for name, r in hidden.items()} == dict.fromkeys(hidden, 404)
    assert hidden["retrieve"].json() == missing.json()
    assert [row["id"] for row in http.get(path, headers=shop).json()["results"]] == [mine["id"]]
    assert http.get(f"{path}detailed/", headers=shop).json()["count"] == 1
    assert http.get(path, headers=shop, params={"channel": other_id}).json()["count"] == 0

    # the foreign request and its item are untouched; staff reach every channel
    still = http.get(f"{other_path}{foreign['id']}/", headers=staff)
    assert (still.status_code, still.json()) == (200, foreign)
    assert item_of(http, world, foreign_order, 0)["cancel_status"] == "waiting"
    assert http.get(path, headers=staff).json()["count"] == 1
    assert http.get(f"{path}{mine['id']}/", headers=shop).json()["status"] == "waiting"


def test_cancellation_plans_filters_and_retry(http, world, reasons):
    shop, staff, channel_id, other_id = world.shop, world.staff, world.channel_id, world.other_channel_id
    path = requests_path(channel_id)

    def approve(request: dict, channel: int = channel_id) -> httpx.Response:
        response = http.post(f"{requests_path(channel)}{request['id']}/approve/", headers=staff, json={})
        assert response.status_code == 200, response.text
        return response

    # a completed cancel plan (card refund), a completed refund plan (bank transfer of a pay-on-delivery return)
    card = intake(http, shop, channel_id, order_body("PLN-Card", [("PL-CARD", 2, "15.00")]))
    card_request = created(create_request(http, shop, channel_id, card["items"][0]["id"], reasons["cancel"]))
    assert approve(card_request).json()["status"] == "completed"
    cod = intake(
        http,
        shop,
        channel_id,
        order_body("PLN-Cod", [("PL-COD", 1, "70.00")], payment_option="pay_on_delivery", item_status="550"),
    )
    cod_request = created(
        create_request(
            http, shop, channel_id, cod["items"][0]["id"], reasons["refund"], "refund", iban=IBAN, holder_name="Ayse"
        )
    )
    assert approve(cod_request).json()["status"] == "approved"
    # a failed cancel plan: the sandbox gateway refuses refunds of "sandbox-fail..." purchases
    failing = intake(
        http, shop, channel_id, order_body("PLN-Fail", [("PL-FAIL", 1, "50.00")], payment_reference="sandbox-fail-1")
    )
    failing_request = created(create_request(http, shop, channel_id, failing["items"][0]["id"], reasons["cancel"]))
    assert approve(failing_request).json()["status"] == "approved"  # the plan failed, the request waits on it
    # another channel's plan
    foreign = intake(http, staff, other_id, order_body("PLN-Card", [("PL-FOREIGN", 1, "12.00")]))
    foreign_request = created(create_request(http, staff, other_id, foreign["items"][0]["id"], reasons["cancel"]))
    approve(foreign_request, other_id)

    listed = http.get("/api/i1/cancellation_plans/", headers=staff, params={"limit": 100})
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"count", "next", "previous", "results"}
    plans = {row["order"]: row for row in listed.json()["results"]}
    assert listed.json()["count"] == len(plans) == 4
    for plan in plans.values():
        assert set(plan) == PLAN_FIELDS
        assert plan["created_date"].endswith("Z")
        assert all(set(refund) == REFUND_FIELDS for refund in plan["refunds"])
        assert (plan["forced_refund_amount"], plan["is_cargo_refund"], plan["refund_invoice_number"]) == (
            None,
            False,
            None,
        )

    card_plan, cod_plan, failed_plan = plans[card["id"]], plans[cod["id"]], plans[failing["id"]]
    assert (card_plan["plan_type"], card_plan["status"]) == ("cancel", "completed")
    assert card_plan["items"] == [{"order_item": card["items"][0]["id"], "quantity": 2, "refund_amount": "30.00"}]
    [card_refund] = card_plan["refunds"]
    assert (card_refund["kind"], card_refund["method"], card_refund["amount"], card_refund["status"]) == (
        "items",
        "original_payment",
        "30.00",
        "succeeded",
    )
    assert (card_refund["attempts"], card_refund["last_error"]) == (1, "")
    assert card_refund["gateway_reference"].startswith("sandbox-")

    assert (cod_plan["plan_type"], cod_plan["items"]) == (
        "refund",
        [{"order_item": cod["items"][0]["id"], "quantity": 1, "refund_amount": "70.00"}],
    )
    [cod_refund] = cod_plan["refunds"]
    assert (cod_refund["kind"], cod_refund["method"], cod_refund["amount"]) == ("items", "funds_transfer", "70.00")
    # a bank transfer waits for the bank file: the plan waits, and so does its request
    assert (cod_plan["status"], cod_refund["status"]) == ("waiting", "processing")
    assert http.get(f"{path}{cod_request['id']}/", headers=shop).json()["status"] == "approved"

    assert (failed_plan["plan_type"], failed_plan["status"]) == ("cancel", "failed")
    [failed_refund] = failed_plan["refunds"]
    assert (failed_refund["method"], failed_refund["amount"], failed_refund["status"]) == (
        "original_payment",
        "50.00",
        "failed",
    )
    assert failed_refund["attempts"] == 1
    assert "sandbox_declined" in failed_refund["last_error"]
    assert failed_refund["gateway_reference"] in (None, "")
    failed_order = http.get(f"/api/i1/orders/{failing['id']}/", headers=staff).json()
    assert failed_order["refund_amount"] == "0.00"
    assert failed_order["items"][0]["cancel_status"] == "approved"
    by_plan = http.get(path, headers=shop, params={"cancellation_plan_status": "failed"}).json()
    assert [row["id"] for row in by_plan["results"]] == [failing_request["id"]]

    # filters on the back-office list and on the channel's own list (which never shows another channel's plan)
    def plan_ids(base: str, headers: dict, query: dict) -> set[int]:
        response = http.get(base, headers=headers, params={**query, "limit": 100})
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()["results"]}

    foreign_plan = plans[foreign["id"]]
    staff_base, channel_base = "/api/i1/cancellation_plans/", f"/api/channel/{channel_id}/cancellation_plans/"
    mine = {card_plan["id"], cod_plan["id"], failed_plan["id"]}
    assert plan_ids(channel_base, shop, {}) == mine
    cases = [
        ({"plan_type": "cancel"}, {card_plan["id"], failed_plan["id"], foreign_plan["id"]}),
        ({"plan_type": "refund"}, {cod_plan["id"]}),
        ({"cancellation_plan_status": "failed"}, {failed_plan["id"]}),
        ({"cancellation_plan_status": "waiting"}, {cod_plan["id"]}),
        ({"cancellation_plan_status": "completed"}, {card_plan["id"], foreign_plan["id"]}),
        ({"order_id": card["id"]}, {card_plan["id"]}),
        ({"order_id": 987654}, set()),
        ({"order_number": "pln-card"}, {card_plan["id"], foreign_plan["id"]}),
        ({"order_number": "PLN-None"}, set()),
    ]
    for query, expected in cases:
        assert plan_ids(staff_base, staff, query) == expected, query
        assert plan_ids(channel_base, shop, query) == expected - {foreign_plan["id"]}, query
    for query in ({"plan_type": "return"}, {"cancellation_plan_status": "lost"}, {"order_id": "x"}):
        assert http.get(staff_base, headers=staff, params=query).status_code == 400, query
    retrieved = http.get(f"{channel_base}{card_plan['id']}/", headers=shop)
    assert (retrieved.status_code, retrieved.json()) == (200, card_plan)
    assert http.get(f"{staff_base}{failed_plan['id']}/", headers=staff).json() == failed_plan
    assert http.get(f"{channel_base}{foreign_plan['id']}/", headers=shop).status_code == 404
    assert http.get(staff_base, headers=shop).status_code == 403
    assert http.get(f"/api/channel/{other_id}/cancellation_plans/", headers=shop).status_code == 403

    # retry: staff only, and only a failed plan
    refused(http.post(f"{staff_base}{card_plan['id']}/retry/", headers=staff), "plan_not_failed")
    assert http.post(f"{staff_base}{failed_plan['id']}/retry/", headers=shop).status_code == 403
    assert http.get(f"{staff_base}{card_plan['id']}/", headers=staff).json() == card_plan
    # the retried refund runs again in-process and is refused again (same purchase reference)
    retried = http.post(f"{staff_base}{failed_plan['id']}/retry/", headers=staff)
    assert retried.status_code == 200, retried.text
    assert set(retried.json()) == PLAN_FIELDS
    assert retried.json()["id"] == failed_plan["id"]
    after = http.get(f"{staff_base}{failed_plan['id']}/", headers=staff).json()
    assert after["status"] == "failed"
    [refund_after] = after["refunds"]
    assert (refund_after["id"], refund_after["status"], refund_after["attempts"]) == (failed_refund["id"], "failed", 2)
    assert "sandbox_declined" in refund_after["last_error"]
    assert http.get(f"/api/i1/orders/{failing['id']}/", headers=staff).json()["refund_amount"] == "0.00"
    assert http.get(f"{path}{failing_request['id']}/", headers=shop).json()["status"] == "approved"
