"""Refunds through real processes: gunicorn takes the cancel, a Celery worker on Redis moves the money,
PostgreSQL holds the truth. Each test runs its own Redis server, so it can also take the broker away."""

import re
import threading
from decimal import Decimal

import httpx
import pytest
from django.db import connection

from cancellations.models import CancellationPlan
from cancellations.services import order_cancel
from refunds.gateways import GatewayResult
from refunds.models import Refund
from refunds.services import refund_execute
from tests.factories import (
    CancellationPlanFactory,
    CancellationReasonFactory,
    RefundFactory,
    StaffUserFactory,
    TokenFactory,
    order_with_items,
)
from tests.processes import Processes, database_url_for_subprocesses, free_port, log_containing, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def processes(tmp_path):
    log = tmp_path / "gateway.log"
    log.touch()
    procs = Processes(
        tmp_path,
        {
            "DATABASE_URL": database_url_for_subprocesses(),
            "REFUND_CARD_GATEWAY": "tests.refunds.gateways.RecordingGateway",
            "RECORDING_GATEWAY_LOG": str(log),
        },
    )
    procs.gateway_log = log
    yield procs
    print(procs.stop_all())  # shown when the test failed


def gateway_calls(processes) -> list[str]:
    return processes.gateway_log.read_text().split()


def staff_headers():
    return {"Authorization": f"Token {TokenFactory(user=StaffUserFactory()).key}"}


def shipped_order_and_reason():
    order = order_with_items(lines=[(Decimal("60.00"), 1), (Decimal("40.00"), 2)], shipping=Decimal("9.90"))
    return order, CancellationReasonFactory(cancellation_type="cancel")


def plan_completed(order):
    plan = CancellationPlan.objects.filter(order=order).first()
    return plan is not None and plan.status == "completed"


def test_a_cancel_over_http_completes_through_a_real_worker(processes):
    broker = f"redis://127.0.0.1:{free_port()}/0"
    processes.redis(int(broker.rsplit(":", 1)[1].split("/")[0]))
    base = processes.gunicorn({"CELERY_BROKER_URL": broker})
    processes.worker({"CELERY_BROKER_URL": broker})
    order, reason = shipped_order_and_reason()
    reasons = {str(item.pk): reason.pk for item in order.items.all()}

    response = httpx.post(
        f"{base}/api/i1/orders/{order.pk}/cancel/",
        json={"is_all": True, "reasons": reasons},
        headers=staff_headers(),
        timeout=30,
    )

    assert response.status_code == 200, response.text
    wait_for(lambda: plan_completed(order), timeout=30, what="the plan to complete through the worker")
    order.refresh_from_db()
    assert order.refund_amount == order.amount == Decimal("149.90")
    refunds = list(Refund.objects.filter(plan__order=order))
    assert {(r.kind, r.status, r.attempts) for r in refunds} == {("items", "succeeded", 1), ("cargo", "succeeded", 1)}
    assert sorted(gateway_calls(processes)) == sorted(f"refund-{r.uuid}" for r in refunds)

    # the plan's one message delivered again (a redelivery, a sweeper pass): the gateway is not called again
    refund_ids = sorted(r.pk for r in refunds)
    processes.manage(
        "shell",
        "-c",
        f"from refunds.tasks import refunds_execute_task as t; [t.delay({refund_ids}) for _ in range(3)]",
        env={"CELERY_BROKER_URL": broker},
    )
    wait_for(lambda: tasks_done(processes) >= 4, timeout=30, what="the redelivered tasks to run")
    assert len(gateway_calls(processes)) == 2
    refunds[0].refresh_from_db()
    assert refunds[0].attempts == 1


def tasks_done(processes) -> int:
    """How many refund tasks (a message of one refund or of a batch) the worker has finished, from its log."""
    return sum(
        len(re.findall(r"Task refunds\.execute(?:_batch)?\[", log.read_text())) // 2  # "received", "succeeded"
        for log in processes.tmp_path.glob("worker-*.log")
    )


def test_broker_down_at_commit_delays_the_refund_and_the_sweeper_runs_it_exactly_once(processes):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"  # nothing listens there yet: the broker is down
    base = processes.gunicorn({"CELERY_BROKER_URL": broker})
    order, reason = shipped_order_and_reason()
    item = order.items.order_by("id").first()

    response = httpx.post(
        f"{base}/api/i1/orders/{order.pk}/cancel/",
        json={"cancel_items": [item.pk], "reasons": {str(item.pk): reason.pk}},
        headers=staff_headers(),
        timeout=30,
    )

    assert response.status_code == 200, response.text
    refund = Refund.objects.get(plan__order=order)
    assert (refund.status, refund.attempts) == ("pending", 0)
    assert gateway_calls(processes) == []

    # the message goes after the response: the broker is still down when gunicorn gives up on it
    gunicorn_log = processes.tmp_path / "gunicorn.log"
    wait_for(
        lambda: log_containing(gunicorn_log, "the sweeper will send them"),
        timeout=30,
        what="gunicorn to give up on the broker",
    )
    # the broker comes back; the sweeper (beat, or the command) sends what was left behind
    processes.redis(port)
    processes.worker({"CELERY_BROKER_URL": broker})
    assert "sent 1 refund(s)" in processes.manage("sweep_refunds", env={"CELERY_BROKER_URL": broker})

    wait_for(lambda: plan_completed(order), timeout=30, what="the swept refund to complete")
    assert "sent 0 refund(s)" in processes.manage("sweep_refunds", env={"CELERY_BROKER_URL": broker})
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 1)
    assert gateway_calls(processes) == [f"refund-{refund.uuid}"]


def test_two_workers_racing_for_one_refund_call_the_rail_once(settings):
    from tests.refunds.gateways import ScriptedGateway

    settings.REFUND_CARD_GATEWAY = "tests.refunds.gateways.ScriptedGateway"
    ScriptedGateway.reset(script=[GatewayResult(succeeded=True, reference="slow-ok")], delay=0.5)
    order, reason = shipped_order_and_reason()
    item = order.items.order_by("id").first()
    plan = order_cancel(order_id=order.pk, item_ids=[item.pk], reasons={item.pk: reason.pk})
    refund = plan.refunds.get()
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait(timeout=10)
            refund_execute(refund_id=refund.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 1)
    assert ScriptedGateway.calls == [f"refund-{refund.uuid}"]


def test_a_worker_keeps_its_database_connection_across_tasks(processes):
    # given: a worker that, like the web processes, may keep a connection for a minute (CONN_MAX_AGE)
    broker = f"redis://127.0.0.1:{free_port()}/0"
    processes.redis(int(broker.rsplit(":", 1)[1].split("/")[0]))
    processes.worker({"CELERY_BROKER_URL": broker, "CONN_MAX_AGE": "60"})
    order, _ = shipped_order_and_reason()
    refunds = [RefundFactory(plan=CancellationPlanFactory(order=order), amount=Decimal("10.00")) for _ in range(4)]

    # when: its refunds run one after the other
    ids = [refund.pk for refund in refunds]
    processes.manage(
        "shell",
        "-c",
        f"from refunds.tasks import refund_execute_task as t; [t.delay(i) for i in {ids}]",
        env={"CELERY_BROKER_URL": broker},
    )
    wait_for(lambda: tasks_done(processes) >= len(ids), timeout=30, what="the refunds to run")

    # then: one connection, opened before the first refund settled, served them all and is still open (Celery's
    # Django fixup would have closed it after every task, and each task would have opened its own)
    first_settled = Refund.objects.filter(pk__in=ids, status="succeeded").order_by("settled_at")[0].settled_at
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_start < %s",
            [first_settled],
        )
        assert cursor.fetchone()[0] == 1
    assert Refund.objects.filter(pk__in=ids, status="succeeded").count() == len(ids)
