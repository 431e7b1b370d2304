"""The request id through real processes: a cancel sent to gunicorn with `X-Request-ID`, its refund run by a Celery
worker on Redis, the financing provider called from the worker. The provider gets the same id, and the worker's log
lines (JSON) carry it."""

import json
from decimal import Decimal

import httpx
import pytest
from werkzeug import Response

from cancellations.models import CancellationPlan
from tests.factories import CancellationReasonFactory, StaffUserFactory, TokenFactory, order_with_items
from tests.processes import Processes, database_url_for_subprocesses, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_request_id_reaches_the_worker_and_the_provider(tmp_path, httpserver):
    httpserver.expect_request("/financing/v1/applications/APP-77/order/cancel", method="PUT").respond_with_response(
        Response(json.dumps({"id": "APP-77", "state": "CANCELLED"}), status=200, content_type="application/json")
    )
    broker_port = free_port()
    broker = f"redis://127.0.0.1:{broker_port}/0"
    procs = Processes(
        tmp_path,
        {
            "DATABASE_URL": database_url_for_subprocesses(),
            "CELERY_BROKER_URL": broker,
            "LOG_FORMAT": "json",
            "FINANCING_BASE_URL": httpserver.url_for("/").rstrip("/"),
            "FINANCING_TIMEOUT": "5",
        },
    )
    try:
        procs.redis(broker_port)
        base = procs.gunicorn()
        procs.worker()
        order = order_with_items(
            payment_option="financing", financing_application_id="APP-77", lines=[(Decimal("80.00"), 1)]
        )
        reason = CancellationReasonFactory(cancellation_type="cancel")

        response = httpx.post(
            f"{base}/api/i1/orders/{order.pk}/cancel/",
            json={"is_all": True, "reasons": {str(item.pk): reason.pk for item in order.items.all()}},
            headers={
                "Authorization": f"Token {TokenFactory(user=StaffUserFactory()).key}",
                "X-Request-ID": "trace-e2e-1",
            },
            timeout=30,
        )

        assert response.status_code == 200, response.text
        assert response.headers["X-Request-ID"] == "trace-e2e-1"
        wait_for(
            lambda: CancellationPlan.objects.filter(order=order, status="completed").exists(),
            timeout=30,
            what="the plan to complete through the worker",
        )
    finally:
        logs = procs.stop_all()
        print(logs)

    (provider_call, _), *_ = httpserver.log
    assert provider_call.headers["X-Request-ID"] == "trace-e2e-1"
    worker_log = next(path for path in tmp_path.glob("worker-*.log")).read_text()
    worker_lines = [json.loads(line) for line in worker_log.splitlines() if line.startswith("{")]
    traced = [line for line in worker_lines if line["request_id"] == "trace-e2e-1"]
    assert {line["logger"] for line in traced} >= {"refunds.services", "celery.app.trace"}
    assert any("succeeded" in line["message"] for line in traced)
