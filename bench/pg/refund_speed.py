"""Refund execution: queries per refund in-process, and refunds per second through a real Celery worker."""

import re
import statistics
import time
from dataclasses import dataclass

import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.pg import fixtures
from refunds import services
from tests.processes import Processes, celery_worker_command, free_port, wait_for

MAX_QUERIES_PER_REFUND = 8
MIN_REFUNDS_PER_SECOND = 150


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


@dataclass
class RefundQueries:
    counts: list[float]  # SQL queries per refund of each plan's batch, as the table counts them (BEGIN/COMMIT apart)
    transaction_statements: list[float]  # BEGIN and COMMIT per refund of each batch
    refunds: int

    def line(self) -> str:
        if not self.counts:
            return "queries per refund: no refunds to execute"
        worst = max(self.counts)
        return (
            f"queries per refund (refunds_execute of each plan's refunds, as one message brings them, sandbox "
            f"gateway, {self.refunds} refunds of {len(self.counts)} real cancels): "
            f"median {statistics.median(self.counts):g}, max {worst:g}, plus "
            f"{statistics.median(self.transaction_statements):g} BEGIN/COMMIT; "
            f"target <= {MAX_QUERIES_PER_REFUND}: {'yes' if worst <= MAX_QUERIES_PER_REFUND else 'NO'}"
        )


@dataclass
class Throughput:
    concurrency: int
    refunds: int
    seconds: float
    outcomes: dict

    @property
    def per_second(self) -> float:
        return self.refunds / self.seconds


def queries_per_refund(batches: list[list[int]]) -> RefundQueries:
    """Runs `refunds_execute` in this process for each plan's refunds (a batch, as one message brings them) and
    counts its queries, per refund of the batch."""
    counts, transaction_statements = [], []
    for refund_ids in batches:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            services.refunds_execute(refund_ids=refund_ids)
        control = sum(query["sql"] in TRANSACTION_CONTROL for query in captured.captured_queries)
        counts.append((len(captured.captured_queries) - control) / len(refund_ids))
        transaction_statements.append(control / len(refund_ids))
    return RefundQueries(counts, transaction_statements, refunds=sum(len(batch) for batch in batches))


def clear_queue(broker_url: str, claim_key: str) -> None:
    """Empty the benchmark's Redis database (messages of an earlier phase) and keep it claimed."""
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    client.set(claim_key, "1", ex=3600)


def throughput(
    procs: Processes, *, env: dict, broker_url: str, claim_key: str, refund_ids: list[int], concurrency: int
) -> Throughput:
    """Start a prefork worker with `concurrency` processes, queue the refunds a message per plan (as the cancels that
    made them do), and time until every one settled."""
    clear_queue(broker_url, claim_key)
    name = f"worker-c{concurrency}-{free_port()}"
    worker = procs.start(name, celery_worker_command(name, pool="prefork", concurrency=concurrency), env)
    log = procs.tmp_path / f"{name}.log"
    wait_for(lambda: "ready" in log.read_text(), timeout=60, what=f"the celery worker (-c {concurrency})")
    try:
        with connection.cursor() as cursor:
            batches = fixtures.refunds_by_plan(cursor, refund_ids)
        started = time.perf_counter()
        for batch in batches:
            services.refund_enqueue(refund_ids=batch)  # autocommit: each is sent at once
        with connection.cursor() as cursor:

            def settled() -> bool:
                failure = re.search(r"^.*raised unexpected.*$", log.read_text(), re.MULTILINE)
                if failure:
                    raise RuntimeError(f"a refund task failed in the worker (log {log}): {failure.group(0)}")
                return fixtures.refunds_settled(cursor, refund_ids) == len(refund_ids)

            wait_for(
                settled,
                timeout=60 + len(refund_ids) / 5,
                what=f"{len(refund_ids)} refunds to settle (worker -c {concurrency}, log {log})",
                interval=0.05,
            )
            seconds = time.perf_counter() - started
            outcomes = fixtures.refund_outcomes(cursor, refund_ids)
    finally:
        procs.stop(worker)
    return Throughput(concurrency=concurrency, refunds=len(refund_ids), seconds=seconds, outcomes=outcomes)


def throughput_lines(runs: list[Throughput]) -> list[str]:
    lines = []
    first = runs[0]
    for run in runs:
        outcome = run.outcomes
        checked = (
            f"{outcome['succeeded']}/{run.refunds} succeeded, {outcome['plans_completed']}/{outcome['plans']} plans "
            f"completed, {outcome['orders_refunded']} orders refunded in full"
        )
        if run is first:
            fast = run.per_second >= MIN_REFUNDS_PER_SECOND
            verdict = f"target >= {MIN_REFUNDS_PER_SECOND}/s: {'yes' if fast else 'NO'}"
        else:
            grows = run.per_second > first.per_second
            factor = run.per_second / first.per_second
            verdict = f"x{factor:.2f} of -c {first.concurrency}; grows: {'yes' if grows else 'NO'}"
        lines.append(
            f"refunds/s, worker --pool=prefork -c {run.concurrency}: {run.per_second:.1f} "
            f"({run.refunds} refunds in {run.seconds:.1f} s from enqueue; {checked}); {verdict}"
        )
    return lines
