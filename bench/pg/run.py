"""`make bench-pg`: the service's speed targets, measured on PostgreSQL with a million cancellation requests.

Makes a throwaway database, builds the data set in SQL, serves it with gunicorn as production does (DEBUG off, two
workers) and times every call against a floor measured in the same run, request by request. Prints one table and
the refund figures. It reports; it does not gate on speed: the exit code is 0 unless the harness fails or a call
cannot be measured (it answered an error).
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import django
import redis

from bench.pg import database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/omnitron_bench"
CHANNEL_ID = 1
# Redis databases the benchmark may take, highest first; 15 is CI's, 0 everyone's default.
REDIS_DATABASES = range(14, 0, -1)
REDIS_CLAIM_KEY = "omnitron-bench-pg:claimed"
REFUND_QUERY_SAMPLE = 20
# What BENCH_ONLY may select (comma-separated): the API lists, the admin changelists, the cancels, the refund figures.
PARTS = ("lists", "admin", "cancels", "refunds")
CONN_MAX_AGE = "60"  # as docker-compose.yml runs the service
GUNICORN_WORKERS = "2"


@dataclass(frozen=True)
class Config:
    database_url: str
    requests: int
    samples: int
    min_samples: int
    warmup: int
    call_seconds: float
    cancels: int
    refunds: int
    redis_url: str
    keep_database: bool
    reuse_database: bool
    only: frozenset[str]

    @classmethod
    def from_env(cls) -> "Config":
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            requests=int(env.get("BENCH_REQUESTS", 1_000_000)),
            samples=int(env.get("BENCH_SAMPLES", 60)),
            min_samples=int(env.get("BENCH_MIN_SAMPLES", 20)),
            warmup=int(env.get("BENCH_WARMUP", 3)),
            call_seconds=float(env.get("BENCH_CALL_SECONDS", 3)),
            cancels=int(env.get("BENCH_CANCELS", 60)),
            refunds=int(env.get("BENCH_REFUNDS", 2000)),
            redis_url=(env.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379").rstrip("/"),
            keep_database=_flag(env.get("BENCH_KEEP_DB")) or _flag(env.get("BENCH_REUSE_DB")),
            reuse_database=_flag(env.get("BENCH_REUSE_DB")),
            only=_parts(env.get("BENCH_ONLY", "")),
        )


def _flag(value: str | None) -> bool:
    return (value or "") not in ("", "0", "false")


def _parts(value: str) -> frozenset[str]:
    """The parts BENCH_ONLY names; all of them when it is empty."""
    named = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = named - set(PARTS)
    if unknown:
        raise ValueError(f"BENCH_ONLY: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return named or frozenset(PARTS)


def claim_redis_database(redis_url: str) -> int:
    """An empty Redis database for the broker, marked as taken for the run."""
    for number in REDIS_DATABASES:
        client = redis.Redis.from_url(f"{redis_url}/{number}")
        if client.dbsize() == 0 and client.set(REDIS_CLAIM_KEY, "1", ex=3600, nx=True):
            return number
    raise RuntimeError(f"no empty Redis database at {redis_url} (tried {list(REDIS_DATABASES)})")


def service_env(config: Config, secret_key: str) -> dict:
    """The environment of every process of the run: production settings (DEBUG off) on the throwaway database."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": config.database_url,
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The admin is logged into over plain HTTP here.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "CONN_MAX_AGE": CONN_MAX_AGE,
        "LOG_LEVEL": "INFO",
        "CELERY_BROKER_URL": "",
    }


def main() -> int:
    try:
        config = Config.from_env()
    except ValueError as error:
        print(f"bench-pg: {error}", file=sys.stderr)
        return 2
    try:
        reused = config.reuse_database and database.holds_data_set(config.database_url)
        name = database.database_name(config.database_url) if reused else database.recreate(config.database_url)
    except database.RefusedDatabase as refusal:
        print(f"bench-pg: {refusal}", file=sys.stderr)
        return 2
    redis_database = claim_redis_database(config.redis_url)
    broker_url = f"{config.redis_url}/{redis_database}"
    logs = Path(tempfile.mkdtemp(prefix="omnitron-bench-pg-"))
    try:
        failed_calls = _measure(config, name=name, broker_url=broker_url, logs=logs, reused=reused)
    except Exception:
        traceback.print_exc()
        print(f"bench-pg: the harness failed; the servers' and workers' logs are in {logs}", file=sys.stderr)
        return 1
    finally:
        redis.Redis.from_url(broker_url).flushdb()
        if config.keep_database:
            print(f"bench-pg: kept database {name} (BENCH_KEEP_DB or BENCH_REUSE_DB)")
        else:
            database.drop(config.database_url)
    shutil.rmtree(logs, ignore_errors=True)
    return 1 if failed_calls else 0


def _measure(config: Config, *, name: str, broker_url: str, logs: Path, reused: bool) -> list:
    """Set Django up on the throwaway database and run the benchmark; returns the calls that answered an error."""
    env = service_env(config, secret_key=f"bench-pg-{secrets.token_urlsafe(32)}")
    # This process: the same settings, with the broker (it queues the refunds of the throughput runs) and quiet.
    os.environ.update({**env, "CELERY_BROKER_URL": broker_url, "LOG_LEVEL": "WARNING"})
    django.setup()

    from django.db import connections

    from bench.pg.session import run
    from tests.processes import Processes

    procs = Processes(logs, env)
    print(
        f"bench-pg: database {name}, broker {broker_url}, {config.requests:,} requests, "
        f"gunicorn -w {GUNICORN_WORKERS} (DEBUG off, CONN_MAX_AGE={CONN_MAX_AGE}), "
        f"up to {config.samples} samples a call, parts {', '.join(part for part in PARTS if part in config.only)}, "
        f"git {_git_head()}",
        flush=True,
    )
    started = time.perf_counter()
    try:
        failed_calls = run(config, procs, env, broker_url=broker_url, claim_key=REDIS_CLAIM_KEY, reused=reused)
    finally:
        procs.stop_all()
        connections.close_all()
    print(f"bench-pg: done in {time.perf_counter() - started:.0f} s")
    return failed_calls


def _git_head() -> str:
    done = subprocess.run(["git", "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=False)
    return re.sub(r"\s+", " ", done.stdout.strip())[:60] or "unknown"
