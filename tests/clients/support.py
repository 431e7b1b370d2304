"""What the client modules share: the HTTPS server they talk to and a sales channel set up over its API."""

import ssl
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx

STAFF_TOKEN_KEY = "c11e475f0f5e1d0c2b4a6f8e9d7c5b3a1f2e4d6c"
SHOP_USERNAME = "shop-integration"
SHOP_PASSWORD = "Marmara-kettle-2026"
HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass
class Server:
    """gunicorn over HTTPS. `url` ends with a slash, as omnisdk and channel-app join paths to it."""

    url: str
    ca_bundle: Path
    log_path: Path

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_bundle)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open(errors="replace") as log:
            log.seek(offset)
            return log.read()

    def requests_since(self, offset: int) -> list[str]:
        """The access log since `offset` as "METHOD /path STATUS" lines (see ACCESS_LOG_FORMAT)."""
        return [
            line.removeprefix("access ") for line in self.log_since(offset).splitlines() if line.startswith("access ")
        ]

    def wait_for_request(self, offset: int, request_line: str, count: int = 1, timeout: float = 5.0) -> list[str]:
        """The access log since `offset` once `request_line` is in it `count` times. gunicorn writes an access line
        just after the response, so a client can be a moment ahead of the log, and the line of a request made just
        before `offset` was taken can land after it: compare lines of interest, not the whole list."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.requests_since(offset)
            if lines.count(request_line) >= count or time.monotonic() > deadline:
                assert lines.count(request_line) >= count, f"{request_line!r} not {count} times in {lines}"
                return lines
            time.sleep(0.05)


ACCESS_LOG_FORMAT = "access %(m)s %(U)s %(s)s"


@dataclass
class Shop:
    """A channel with its integration user, cancellation reasons and a `conf` as channel-app reads it, all made
    through the API by a staff token (the only row written straight to the database)."""

    http: httpx.Client
    channel_id: int
    username: str
    password: str
    reasons: dict[str, int]
    default_reason_id: int
    orders: list[dict] = field(default_factory=list)

    @property
    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Token {STAFF_TOKEN_KEY}"}

    def intake(self, number: str, lines: list[tuple[str, str, str, int]], *, currency: str = "TRY") -> dict:
        """Hands over an order as the channel would: `lines` are (remote_id, sku, unit price, quantity). The order's
        own id in the channel is "R-<number>"; the first line carries its id as `remote_id`, the others in
        `extra_field.id` (both are ways channel-app sends it)."""
        items = []
        for index, (remote_id, sku, price, quantity) in enumerate(lines):
            item = {
                "product": {"sku": sku, "name": f"Product {sku}"},
                "quantity": quantity,
                "price": price,
                "tax_rate": "20.00",
            }
            if index == 0:
                item["remote_id"] = remote_id
            else:
                item["extra_field"] = {"id": remote_id}
            items.append(item)
        total = sum(Decimal(price) * quantity for _, _, price, quantity in lines)
        body = {
            "number": number,
            "remote_id": f"R-{number}",
            "date_placed": "2026-03-01T10:00:00Z",
            "currency": currency,
            "amount": str(total),
            "shipping_amount": "0.00",
            "discount_amount": "0.00",
            "payment_option": "credit_card",
            "payment_reference": f"TX-{number}",
            "customer": {"email": "ayse@example.com", "first_name": "Ayse", "last_name": "Yilmaz"},
            "items": items,
        }
        response = self.http.post(f"api/v1/channel/{self.channel_id}/orders/", headers=self.staff, json=body)
        assert response.status_code == 201, response.text
        order = response.json()
        self.orders.append(order)
        return order
