"""One run of `make bench-pg` once Django is set up on the throwaway database: data, servers, calls, report."""

import re
import secrets
import sys
import time

import httpx
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from bench.pg import calls, dataset, fixtures, refund_speed, report
from bench.pg.measure import PAGE_SIZE, Bench, CallFailed, Pacing, Result, Target, count_queries
from bench.pg.run import CHANNEL_ID, GUNICORN_WORKERS, REFUND_QUERY_SAMPLE, Config
from tests.processes import Processes, free_port, gunicorn_command, wait_for

ADMIN_CHANGELISTS = [
    ("admin requests", "/admin/cancellations/cancellationrequest/"),
    ("admin orders", "/admin/orders/order/"),
    ("admin plans", "/admin/cancellations/cancellationplan/"),
    ("admin refunds", "/admin/refunds/refund/"),
]
ADMIN_TARGET = Target(p50=3, p95=3)
CANCEL_TARGET = Target(p50=3, p95=3, max_queries=30)
CANCEL_BROKER_TARGET = Target(p50=2, p95=2, max_queries=30)
CANCEL_REASON_ID = 1  # "Changed my mind", of type cancel


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(procs: Processes, name: str, env: dict) -> tuple[str, object]:
    """gunicorn as production runs it (sync workers), on a free port; returns its base URL and process."""
    port = free_port()
    proc = procs.start(
        name, gunicorn_command(port, workers=GUNICORN_WORKERS, timeout=120, extra=("--no-control-socket",)), env
    )
    base = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return httpx.get(f"{base}/api/health/", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=60, what=f"{name} on {base} (log {procs.tmp_path / name}.log)")
    return base, proc


def admin_login(client: httpx.Client, username: str, password: str) -> None:
    """Log the client into the admin through the login form; it keeps the session cookie."""
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError(f"no CSRF token on the admin login page ({page.status_code})")
    answer = client.post(
        "/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": "/admin/"},
        headers={"Referer": f"{client.base_url}admin/login/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"admin login answered {answer.status_code}, not a redirect")


def build(config: Config):
    migrate_started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - migrate_started
    with transaction.atomic(), connection.cursor() as cursor:
        built = dataset.build(cursor, requests=config.requests)
    vacuum_started = time.perf_counter()
    with connection.cursor() as cursor:
        # Statistics, and the visibility map a table has in steady state (autovacuum keeps it): without it, a fresh
        # bulk load makes every index-only scan read the table too.
        cursor.execute("VACUUM (ANALYZE)")
    vacuumed = time.perf_counter() - vacuum_started
    sizes = built.sizes
    filled = [table for table, present in built.has_channel_columns.items() if present]
    print(
        f"data set: {sizes.requests:,} cancellation requests, {sizes.orders:,} orders, {sizes.items:,} items, "
        f"{sizes.customers:,} customers, {sizes.products:,} products, {sizes.easy_returns:,} easy returns, "
        f"{built.plans:,} plans and refunds; channel_id filled on {', '.join(filled) or 'no table (no such column)'}"
    )
    print(
        f"data set built in {built.seconds:.1f} s (+ VACUUM ANALYZE {vacuumed:.1f} s; migrate took {migrated:.1f} s "
        "before)",
        flush=True,
    )
    return built


def measure_lists(bench: Bench, api: httpx.Client, list_calls: list[calls.ListCall]) -> list[Result]:
    results = []
    for call in list_calls:
        result = Result(call.label, call.target)
        try:
            counted = [
                count_queries(api, "GET", call.path, params={**call.params, "limit": limit}) for limit in (1, 10, 100)
            ]
        except CallFailed as failure:
            result.error = str(failure)
            results.append(result)
            continue
        result.queries = [queries for queries, _ in counted]
        result.sql_ms = counted[-1][1]
        params = {**call.params, "limit": PAGE_SIZE}

        def send(path=call.path, params=params):
            return api.get(path, params=params)

        bench.run(result, send, floor_offset=call.floor_offset)
        results.append(result)
        progress(f"  {call.label}: {_brief(result)}")
    return results


def measure_admin(bench: Bench, admin: httpx.Client) -> list[Result]:
    results = []
    for label, path in ADMIN_CHANGELISTS:
        result = Result(label, ADMIN_TARGET)
        try:
            queries, result.sql_ms = count_queries(admin, "GET", path)
            result.queries = [queries]
        except CallFailed as failure:
            result.error = str(failure)
            results.append(result)
            continue
        bench.run(result, lambda path=path: admin.get(path))
        results.append(result)
        progress(f"  {label}: {_brief(result)}")
    return results


def measure_cancels(bench: Bench, api: httpx.Client, orders: list[fixtures.FreshOrder], result: Result) -> Result:
    """The first order is cancelled once to count queries; each timed call cancels a fresh order of the rest."""

    def body(order):
        return {"is_all": True, "reasons": {str(item_id): CANCEL_REASON_ID for item_id in order.item_ids}}

    counted, *timed = orders
    try:
        queries, result.sql_ms = count_queries(
            api, "POST", f"/api/i1/orders/{counted.order_id}/cancel/", json=body(counted)
        )
        result.queries = [queries]
    except CallFailed as failure:
        result.error = str(failure)
        return result
    pool = iter(timed)

    def cancel():
        order = next(pool)
        return api.post(f"/api/i1/orders/{order.order_id}/cancel/", json=body(order))

    bench.run(result, cancel, available=len(timed))
    progress(f"  {result.label}: {_brief(result)}")
    return result


def _brief(result: Result) -> str:
    if result.error or not result.call_ms:
        return f"ERROR {result.error}"
    return f"p50 {result.p50:.1f} ms, floor {result.floor_p50:.1f} ms, {len(result.call_ms)} samples"


def run(config: Config, procs: Processes, env: dict, *, broker_url: str, claim_key: str, reused: bool) -> list[Result]:
    """Runs the parts BENCH_ONLY selects (all by default); returns the calls that could not be measured (an empty
    list when all were)."""
    if reused:
        _describe_reused()
    else:
        build(config)
    only = config.only
    password = secrets.token_urlsafe(16)
    staff = _staff_user(password)
    token, _ = Token.objects.get_or_create(user=staff)
    pacing = Pacing(config.samples, config.min_samples, config.warmup, config.call_seconds)
    cancel_pool = config.warmup + config.cancels + 1
    list_calls, in_process_orders, broker_orders, throughput_sets = [], [], [], []
    with transaction.atomic(), connection.cursor() as cursor:
        if "lists" in only:
            list_calls = calls.list_calls(cursor, channel_id=CHANNEL_ID)
        if "cancels" in only or "refunds" in only:
            # The refunds' queries are counted on the refunds the broker cancels queue.
            in_process_orders = fixtures.fresh_orders(
                cursor, count=cancel_pool, channel_id=CHANNEL_ID, prefix=_prefix("CXL-INPROC", reused)
            )
            broker_orders = fixtures.fresh_orders(
                cursor, count=cancel_pool, channel_id=CHANNEL_ID, prefix=_prefix("CXL-BROKER", reused)
            )
        if "refunds" in only:
            orders_per_run = max(1, config.refunds // 2)  # two refunds an order: the items and the shipping fee
            throughput_sets = [
                fixtures.pending_refunds(
                    cursor, count=orders_per_run, channel_id=CHANNEL_ID, prefix=_prefix(f"RFD-C{concurrency}", reused)
                )
                for concurrency in (1, 2)
            ]
    auth = {"Authorization": f"Token {token.key}"}
    results = []

    if only & {"lists", "admin", "cancels"}:
        progress("serving in-process (no broker: refunds run inside the cancel call)")
        base, server = serve(procs, "gunicorn-in-process", env)
        with httpx.Client(base_url=base, headers=auth, timeout=120) as api:
            bench = Bench(api, pacing)
            results += measure_lists(bench, api, list_calls)
            if "admin" in only:
                with httpx.Client(base_url=base, timeout=120) as admin:
                    admin_login(admin, staff.username, password)
                    results += measure_admin(bench, admin)
            if "cancels" in only:
                in_process = Result("POST i1/orders/{id}/cancel/ in-process", CANCEL_TARGET)
                results.append(measure_cancels(bench, api, in_process_orders, in_process))
        procs.stop(server)

    if broker_orders:
        # The refunds part needs the broker cancels' queued refunds even when the cancels are not reported.
        progress(f"serving with a broker ({broker_url}, no worker: the cancel call only queues its refunds)")
        refund_speed.clear_queue(broker_url, claim_key)
        base, server = serve(procs, "gunicorn-broker", {**env, "CELERY_BROKER_URL": broker_url})
        with httpx.Client(base_url=base, headers=auth, timeout=120) as api:
            queued = Result("POST i1/orders/{id}/cancel/ broker", CANCEL_BROKER_TARGET)
            queued = measure_cancels(Bench(api, pacing), api, broker_orders, queued)
            if "cancels" in only:
                results.append(queued)
        procs.stop(server)

    refund_lines = []
    if "refunds" in only:
        progress("refunds: queries per refund in-process, then worker throughput")
        refund_speed.clear_queue(broker_url, claim_key)
        with connection.cursor() as cursor:
            batches = fixtures.refunds_by_plan(cursor, queued_refunds(orders=broker_orders)[:REFUND_QUERY_SAMPLE])
        queries = refund_speed.queries_per_refund(batches)
        worker_env = {**env, "DJANGO_SETTINGS_MODULE": "omnitron.settings", "CELERY_BROKER_URL": broker_url}
        runs = [
            refund_speed.throughput(
                procs,
                env=worker_env,
                broker_url=broker_url,
                claim_key=claim_key,
                refund_ids=ids,
                concurrency=concurrency,
            )
            for concurrency, ids in zip((1, 2), throughput_sets, strict=True)
        ]
        refund_lines = [queries.line(), *refund_speed.throughput_lines(runs)]

    print()
    print(report.table(results))
    if refund_lines:
        print()
    for line in refund_lines:
        print(line)
    return [result for result in results if result.error]


def _describe_reused() -> None:
    call_command("migrate", verbosity=0)  # the code may have moved on since the data set was built
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Earlier runs' cancels and refunds, and a migration that rewrote rows, leave dead rows and stale
        # statistics behind: measured as they are, plans and timings drift from run to run.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT count(*) FROM cancellations_cancellationrequest")
        requests = cursor.fetchone()[0]
    print(
        f"data set: reused as kept by an earlier run (BENCH_REUSE_DB), {requests:,} cancellation requests "
        f"(VACUUM ANALYZE {time.perf_counter() - started:.1f} s)",
        flush=True,
    )


def _staff_user(password: str):
    """The staff user the calls log in as, made afresh or, on a reused data set, the one an earlier run made."""
    staff, _ = get_user_model().objects.get_or_create(
        username="bench-admin",
        defaults={"email": "bench-admin@example.com", "is_staff": True, "is_superuser": True},
    )
    staff.set_password(password)
    staff.save(update_fields=["password"])
    return staff


def _prefix(prefix: str, reused: bool) -> str:
    """The fixtures' prefix; on a reused data set, one of its own, as an earlier run's customers keep theirs."""
    return f"{prefix}-{secrets.token_hex(3).upper()}" if reused else prefix


def queued_refunds(*, orders: list[fixtures.FreshOrder]) -> list[int]:
    """The pending refunds the broker cancels queued (their messages were dropped with the queue), oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM refunds_refund WHERE order_id = ANY(%s) AND status = 'pending' ORDER BY id",
            [[order.order_id for order in orders]],
        )
        return [row[0] for row in cursor.fetchall()]
