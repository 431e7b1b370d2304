"""The HTTP contract end to end: real HTTP to gunicorn (two sync workers) on the pytest-django PostgreSQL database.

The server (see `conftest.py`) is a separate process, so every row it must see is committed (transactional tests)
and almost all data is created through the API itself. Refund tasks run in-process inside gunicorn (no broker), so a
cancellation's refunds have completed by the time its response arrives.
"""

import pytest

from tests.e2e.support import CHANNEL_USER_PASSWORD, auth, intake, login

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREE_ITEM_ORDER = {
    # values 100.00, 2 x 50.00, 3 x 33.33 = 299.99; discount 30.00 shared 10.00/10.00/10.00; shipping 15.00
    "number": "WEB-1001",
    "remote_id": "r-1001",
    "date_placed": "2026-11-01T10:30:00Z",
    "currency": "TRY",
    "amount": "284.99",
    "shipping_amount": "15.00",
    "discount_amount": "30.00",
    "payment_option": "credit_card",
    "payment_reference": "TX-1001",
    "customer": {"email": "Ayse@Example.com", "first_name": "Ayse", "last_name": "Yilmaz", "phone_number": "+90555"},
    "items": [
        {"product": {"sku": "E2E-JACKET", "name": "Jacket", "ean": "8690000000011"}, "quantity": 1, "price": "100.00",
         "tax_rate": "20.00"},
        {"product": {"sku": "E2E-SHIRT", "name": "Shirt"}, "quantity": 2, "price": "50.00", "tax_rate": "20.00"},
        {"product": {"sku": "E2E-SOCKS", "name": "Socks"}, "quantity": 3, "price": "33.33", "tax_rate": "10.00"},
    ],
}  # fmt: skip

TWO_ITEM_ORDER = {
    "number": "WEB-1002",
    "date_placed": "2026-11-20T08:00:00Z",
    "currency": "TRY",
    "amount": "100.00",
    "shipping_amount": "0.00",
    "discount_amount": "0.00",
    "payment_option": "credit_card",
    "payment_reference": "TX-1002",
    "customer": {"email": "mehmet@example.com", "first_name": "Mehmet", "last_name": "Kaya", "phone_number": "+90556"},
    "items": [
        {"product": {"sku": "E2E-CAP", "name": "Cap"}, "quantity": 1, "price": "40.00", "tax_rate": "20.00"},
        {"product": {"sku": "E2E-BELT", "name": "Belt"}, "quantity": 1, "price": "60.00", "tax_rate": "20.00"},
    ],
}


def test_auth_permissions_and_documentation(http, world):
    health = http.get("/api/health/")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "broker": "not configured (tasks run in-process)"}

    # login: bad credentials and malformed bodies are 400, never a token
    wrong = http.post("/api/i1/auth/login/", json={"username": "shop", "password": "not-the-password"})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_credentials"
    assert "key" not in wrong.json()
    missing = http.post("/api/i1/auth/login/", json={"username": "shop"})
    assert missing.status_code == 400
    assert "password" in missing.json()
    assert login(http, "shop", CHANNEL_USER_PASSWORD) == world.shop["Authorization"].removeprefix("Token ")

    # 401 without a token and with a bad one, on both halves of the API
    for path in ("/api/i1/orders/", f"/api/channel/{world.channel_id}/orders/"):
        assert http.get(path).status_code == 401
        assert http.get(path, headers=auth("0" * 40)).status_code == 401
        assert http.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401

    # 403: a channel user on /api/i1/..., on a channel it is not linked to, and on staff-only administration
    denied = [
        http.get("/api/i1/orders/", headers=world.shop),
        http.get(f"/api/i1/channels/{world.other_channel_id}/", headers=world.shop),
        http.post("/api/i1/channels/", headers=world.shop, json={"name": "Mine", "channel_type": "web"}),
        http.patch(f"/api/v1/channels/{world.channel_id}/", headers=world.shop, json={"name": "Mine"}),
        http.get("/api/i1/users/", headers=world.shop),
        http.get("/api/i1/cancellation_reasons/", headers=world.shop),
        http.get(f"/api/channel/{world.other_channel_id}/orders/", headers=world.shop),
        http.post(f"/api/channel/{world.other_channel_id}/orders/", headers=world.shop, json=THREE_ITEM_ORDER),
        http.get("/api/channel/987654/orders/", headers=world.shop),
    ]
    assert [r.status_code for r in denied] == [403] * len(denied)
    assert all("detail" in r.json() for r in denied)
    assert http.get(f"/api/channel/{world.channel_id}/orders/", headers=world.shop).json()["count"] == 0
    channels = http.get("/api/i1/channels/", headers=world.staff).json()
    assert channels["count"] == 2
    # a channel user reads its own channels (channel-app reads is_active and conf on start-up), and no other
    own = http.get("/api/v1/channels/", headers=world.shop).json()
    assert [row["id"] for row in own["results"]] == [world.channel_id]

    schema = http.get("/api/schema/")
    assert schema.status_code == 200
    assert schema.text.startswith("openapi: 3")
    for path in ("/api/i1/orders/{id}/cancel/", "/api/channel/{channel_id}/orders/", "/api/i1/auth/login/"):
        assert f"  {path}:" in schema.text
    docs = http.get("/api/docs/")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    assert "/api/schema/" in docs.text


def test_order_intake_listing_scoping_and_fulfilment(http, world):
    # intake on the channel's own path: 201 with the order detail, money as two-place strings
    first = intake(http, world.shop, world.channel_id, THREE_ITEM_ORDER)
    assert set(first) == {
        "id", "pk", "number", "remote_id", "channel", "customer", "date_placed", "status", "cancel_status",
        "currency", "amount", "discount_amount", "shipping_amount", "refund_amount", "discount_refund_amount",
        "shipping_refund_amount", "payment_option", "extra_field", "items", "created_date", "modified_date",
    }  # fmt: skip
    assert (first["number"], first["remote_id"], first["channel"]) == ("WEB-1001", "r-1001", world.channel_id)
    assert (first["amount"], first["discount_amount"], first["shipping_amount"]) == ("284.99", "30.00", "15.00")
    assert (first["refund_amount"], first["discount_refund_amount"], first["shipping_refund_amount"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    assert (first["status"], first["cancel_status"], first["currency"]) == ("400", None, "try")
    assert first["date_placed"].startswith("2026-11-01T10:30:00")
    assert first["created_date"].endswith("Z")
    assert set(first["customer"]) == {"id", "email", "first_name", "last_name", "phone_number"}
    assert [(i["price"], i["quantity"], i["status"], i["cancel_status"]) for i in first["items"]] == [
        ("100.00", 1, "400", None),
        ("50.00", 2, "400", None),
        ("33.33", 3, "400", None),
    ]
    assert first["items"][0]["product"]["sku"] == "E2E-JACKET"
    assert first["items"][0]["product"]["ean"] == "8690000000011"
    assert first["items"][0]["tax_rate"] == "20.00"

    # refusals: amounts that do not add up, and a number the channel already used; nothing is created
    wrong_total = http.post(
        f"/api/channel/{world.channel_id}/orders/",
        headers=world.shop,
        json={**THREE_ITEM_ORDER, "number": "WEB-BAD", "amount": "300.00"},
    )
    assert wrong_total.status_code == 400
    assert wrong_total.json()["code"] == "amounts_do_not_add_up"
    assert "284.99" in wrong_total.json()["amount"][0]
    duplicate = http.post(f"/api/channel/{world.channel_id}/orders/", headers=world.shop, json=THREE_ITEM_ORDER)
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "duplicate_order_number"
    malformed = http.post(
        f"/api/channel/{world.channel_id}/orders/",
        headers={**world.shop, "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert malformed.status_code == 400
    assert "detail" in malformed.json()

    second = intake(http, world.shop, world.channel_id, TWO_ITEM_ORDER)
    # the same number on another channel is another order (staff may hand orders over for any channel)
    foreign = intake(
        http,
        world.staff,
        world.other_channel_id,
        {**THREE_ITEM_ORDER, "customer": {**THREE_ITEM_ORDER["customer"], "email": "buyer@market.example"}},
    )
    assert foreign["channel"] == world.other_channel_id
    assert foreign["number"] == "WEB-1001"

    # fulfilment: forward is 200 with the item, backward is 400 with its code and changes nothing
    cap, belt = (item["id"] for item in second["items"])
    forward = http.patch(
        f"/api/channel/{world.channel_id}/order_items/{belt}/", headers=world.shop, json={"status": "500"}
    )
    assert forward.status_code == 200, forward.text
    assert (forward.json()["id"], forward.json()["status"]) == (belt, "500")
    backward = http.patch(f"/api/i1/order_items/{belt}/", headers=world.staff, json={"status": "450"})
    assert backward.status_code == 400
    assert backward.json()["code"] == "status_backwards"
    assert "status" in backward.json()
    staff_forward = http.patch(f"/api/i1/order_items/{cap}/", headers=world.staff, json={"status": "450"})
    assert (staff_forward.status_code, staff_forward.json()["status"]) == (200, "450")
    detail = http.get(f"/api/i1/orders/{second['id']}/", headers=world.staff).json()
    assert [i["status"] for i in detail["items"]] == ["450", "500"]
    assert detail["status"] == "450"  # the least advanced item
    # another channel's item, under this channel's path: 404 and untouched
    foreign_item = foreign["items"][0]["id"]
    hidden = http.patch(
        f"/api/channel/{world.channel_id}/order_items/{foreign_item}/", headers=world.shop, json={"status": "500"}
    )
    assert hidden.status_code == 404
    foreign_detail = http.get(f"/api/i1/orders/{foreign['id']}/", headers=world.staff).json()
    assert foreign_detail["items"][0]["status"] == "400"

    # lists: limit/page with count/next/previous/results
    page_one = http.get("/api/i1/orders/", headers=world.staff, params={"limit": 2})
    assert page_one.status_code == 200
    body = page_one.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]
    assert "limit=2" in body["next"]
    page_two = http.get(body["next"], headers=world.staff).json()
    assert (page_two["count"], len(page_two["results"]), page_two["next"]) == (3, 1, None)
    assert page_two["previous"] is not None
    all_ids = {row["id"] for row in body["results"] + page_two["results"]}
    assert all_ids == {first["id"], second["id"], foreign["id"]}
    assert http.get("/api/i1/orders/", headers=world.staff, params={"limit": 0}).status_code == 400
    assert http.get("/api/i1/orders/", headers=world.staff, params={"page": 9}).status_code == 404

    def ids(**query) -> set[int]:
        response = http.get("/api/i1/orders/", headers=world.staff, params=query)
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()["results"]}

    assert ids(number="WEB-1001") == {first["id"], foreign["id"]}
    assert ids(number="WEB-1001", channel=world.other_channel_id) == {foreign["id"]}
    assert ids(status="450") == {second["id"]}
    assert ids(status="400") == {first["id"], foreign["id"]}
    assert ids(cancel_status="null") == {first["id"], second["id"], foreign["id"]}
    assert ids(cancel_status="waiting") == set()
    assert ids(customer_email="ayse@example.COM") == {first["id"]}
    assert ids(date_placed__gte="2026-11-10T00:00:00Z") == {second["id"]}
    assert ids(date_placed__lte="2026-11-10T00:00:00Z") == {first["id"], foreign["id"]}
    bad_filter = http.get("/api/i1/orders/", headers=world.staff, params={"status": "999"})
    assert bad_filter.status_code == 400
    assert "status" in bad_filter.json()

    own = http.get(f"/api/channel/{world.channel_id}/orders/", headers=world.shop).json()
    assert {row["id"] for row in own["results"]} == {first["id"], second["id"]}
    own_detail = http.get(f"/api/channel/{world.channel_id}/orders/{first['id']}/", headers=world.shop)
    assert (own_detail.status_code, own_detail.json()["id"]) == (200, first["id"])
    # another channel's order under the channel's own path: 404, exactly like an order that does not exist
    not_mine = http.get(f"/api/channel/{world.channel_id}/orders/{foreign['id']}/", headers=world.shop)
    missing = http.get(f"/api/channel/{world.channel_id}/orders/987654/", headers=world.shop)
    assert not_mine.status_code == missing.status_code == 404
    assert not_mine.json() == missing.json()


def test_cancellation_reasons_and_order_cancellation(http, world):
    staff, shop, channel_id = world.staff, world.shop, world.channel_id

    # reasons: staff CRUD; DELETE deactivates; channels see active reasons only
    def create_reason(cancellation_type: str, subject: str) -> dict:
        response = http.post(
            "/api/i1/cancellation_reasons/",
            headers=staff,
            json={"cancellation_type": cancellation_type, "subject": subject},
        )
        assert response.status_code == 201, response.text
        return response.json()

    changed_mind = create_reason("cancel", "Changed my mind")
    assert set(changed_mind) == {
        "id", "pk", "cancellation_type", "subject", "extra_information_needed", "order", "is_active",
        "send_to_remote", "translations", "uuid", "created_date", "modified_date",
    }  # fmt: skip
    assert (changed_mind["order"], changed_mind["is_active"]) == (100, True)
    damaged = create_reason("refund", "Damaged")
    retired = create_reason("cancel", "Retired reason")
    too_long = http.post(
        "/api/i1/cancellation_reasons/", headers=staff, json={"cancellation_type": "cancel", "subject": "X" * 101}
    )
    assert too_long.status_code == 400
    assert "subject" in too_long.json()
    updated = http.patch(f"/api/i1/cancellation_reasons/{changed_mind['id']}/", headers=staff, json={"order": 5})
    assert (updated.status_code, updated.json()["order"]) == (200, 5)
    deleted = http.delete(f"/api/i1/cancellation_reasons/{retired['id']}/", headers=staff)
    assert deleted.status_code == 204
    assert deleted.content == b""
    still_there = http.get(f"/api/i1/cancellation_reasons/{retired['id']}/", headers=staff)
    assert (still_there.status_code, still_there.json()["is_active"]) == (200, False)
    offered = http.get(f"/api/channel/{channel_id}/cancellation_reasons/", headers=shop).json()
    assert [row["id"] for row in offered["results"]] == [changed_mind["id"], damaged["id"]]  # display order
    assert http.get(f"/api/channel/{channel_id}/cancellation_reasons/{retired['id']}/", headers=shop).status_code == 404

    # a full cancel by the back office: the response is the order detail; the refunds ran inside gunicorn
    order = intake(http, shop, channel_id, THREE_ITEM_ORDER)
    reasons = {str(item["id"]): changed_mind["id"] for item in order["items"]}
    full = http.post(f"/api/i1/orders/{order['id']}/cancel/", headers=staff, json={"is_all": True, "reasons": reasons})
    assert full.status_code == 200, full.text
    assert full.json()["id"] == order["id"]
    assert [(i["status"], i["cancelled_quantity"]) for i in full.json()["items"]] == [
        ("100", 1),
        ("100", 2),
        ("100", 3),
    ]
    assert full.json()["status"] == "100"
    after = http.get(f"/api/i1/orders/{order['id']}/", headers=staff).json()
    assert after["status"] == "100"
    assert after["refund_amount"] == after["amount"] == "284.99"
    assert after["shipping_refund_amount"] == "15.00"
    assert after["discount_refund_amount"] == "30.00"
    assert after["cancel_status"] == "confirmed"
    # each item's refund is its value less its share of the discount, the shares adding up to the discount
    assert [(i["refund_amount"], i["cancel_status"]) for i in after["items"]] == [
        ("90.00", "confirmed"),
        ("90.00", "confirmed"),
        ("89.99", "confirmed"),
    ]
    assert {
        row["id"] for row in http.get("/api/i1/orders/?cancel_status=confirmed", headers=staff).json()["results"]
    } == {order["id"]}
    again = http.post(f"/api/i1/orders/{order['id']}/cancel/", headers=staff, json={"is_all": True, "reasons": reasons})
    assert again.status_code == 400
    assert again.json()["code"] == "nothing_to_cancel"

    # refusals on another order: each is 400 with a code, and nothing changes
    partial_order = intake(http, shop, channel_id, TWO_ITEM_ORDER)
    cap, belt = (item["id"] for item in partial_order["items"])
    cancel_path = f"/api/channel/{channel_id}/orders/{partial_order['id']}/cancel/"
    refusals = {
        "is_all_with_cancel_items": {"is_all": True, "cancel_items": [cap], "reasons": {str(cap): changed_mind["id"]}},
        "reason_missing": {"cancel_items": [cap]},
        "reason_type_mismatch": {"cancel_items": [cap], "reasons": {str(cap): damaged["id"]}},
        "reason_invalid": {"cancel_items": [cap], "reasons": {str(cap): retired["id"]}},
        "item_not_in_order": {
            "cancel_items": [order["items"][0]["id"]],
            "reasons": {str(order["items"][0]["id"]): changed_mind["id"]},
        },
        "nothing_to_cancel": {},
    }
    for code, body in refusals.items():
        refused = http.post(cancel_path, headers=shop, json=body)
        assert (refused.status_code, refused.json().get("code")) == (400, code), refused.text
    untouched = http.get(f"/api/channel/{channel_id}/orders/{partial_order['id']}/", headers=shop).json()
    assert untouched == partial_order
    # another channel's order, through this channel's cancel path: 404
    foreign = intake(http, staff, world.other_channel_id, {**TWO_ITEM_ORDER, "payment_reference": "TX-9"})
    hidden = http.post(
        f"/api/channel/{channel_id}/orders/{foreign['id']}/cancel/",
        headers=shop,
        json={"is_all": True, "reasons": {str(i["id"]): changed_mind["id"] for i in foreign["items"]}},
    )
    assert hidden.status_code == 404
    assert http.get(f"/api/i1/orders/{foreign['id']}/", headers=staff).json()["cancel_status"] is None

    # a partial cancel by the channel, ids only, with an Idempotency-Key
    body = {
        "order": partial_order["id"],
        "cancel_items": [cap],
        "reasons": {str(cap): changed_mind["id"]},
        "return_details": False,
    }
    key = {"Idempotency-Key": "e2e-partial-1"}
    partial = http.post(cancel_path, headers={**shop, **key}, json=body)
    assert partial.status_code == 200, partial.text
    assert set(partial.json()) == {"order", "cancellation_plan"}
    assert partial.json()["order"] == partial_order["id"]
    assert isinstance(partial.json()["cancellation_plan"], int)
    replay = http.post(cancel_path, headers={**shop, **key}, json=body)
    assert replay.status_code == partial.status_code
    assert replay.content == partial.content
    assert replay.headers.get("Idempotent-Replayed") == "true"
    reused = http.post(cancel_path, headers={**shop, **key}, json={**body, "cancel_items": [belt]})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    # without a key, the same cancel again is refused
    repeated = http.post(cancel_path, headers=shop, json=body)
    assert repeated.status_code == 400
    assert repeated.json()["code"] in {"item_already_cancelled", "item_already_approved"}

    after_partial = http.get(f"/api/channel/{channel_id}/orders/{partial_order['id']}/", headers=shop).json()
    cap_after, belt_after = after_partial["items"]
    assert (cap_after["status"], cap_after["cancelled_quantity"], cap_after["cancel_status"]) == ("100", 1, "confirmed")
    assert cap_after["refund_amount"] == "40.00"
    assert (belt_after["status"], belt_after["cancel_status"], belt_after["refund_amount"]) == ("400", None, "0.00")
    assert after_partial["status"] == "400"
    assert after_partial["refund_amount"] == "40.00"
    assert after_partial["shipping_refund_amount"] == "0.00"
