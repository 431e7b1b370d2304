"""Real processes for tests that cross a process boundary: gunicorn, a Celery worker, a Redis server."""

import atexit
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocesses() -> str:
    """The database pytest-django created, for processes started from a test (needs committed rows)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@functools.cache
def collected_static_root() -> str:
    """`manage.py collectstatic` as production runs it (DEBUG off: hashed names and the manifest), done once per test
    or bench process into a directory of its own (removed at exit), so runs side by side never share one."""
    root = tempfile.mkdtemp(prefix="omnitron-static-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "collectstatic-only", "STATIC_ROOT": root},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"collectstatic failed:\n{done.stdout}{done.stderr}"
    return root


def answers_ok(url: str) -> bool:
    """True once `url` answers 200 (for `wait_for`: a server that is not up yet is not an error)."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def log_containing(path: Path, text: str) -> str | None:
    """The log at `path` once `text` is in it (for `wait_for`: a process writes its lines a moment later)."""
    log = path.read_text()
    return log if text in log else None


def gunicorn_command(port: int, *, workers: int = 2, timeout: int = 60, extra: tuple[str, ...] = ()) -> list[str]:
    """gunicorn serving the project with sync workers on 127.0.0.1:`port`, its static files collected first (with
    DEBUG off the pages name the collected, hashed files; WhiteNoise serves them)."""
    return [
        sys.executable, "-m", "gunicorn", "omnitron.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", str(timeout),
        "--env", f"STATIC_ROOT={collected_static_root()}", *extra,
    ]  # fmt: skip


def celery_worker_command(name: str, *, pool: str = "solo", concurrency: int | None = None) -> list[str]:
    """A Celery worker of the project, quiet towards other workers (no heartbeat, gossip or mingle)."""
    return [
        sys.executable, "-m", "celery", "-A", "omnitron", "worker", f"--pool={pool}",
        *(["-c", str(concurrency)] if concurrency else []),
        "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
    ]  # fmt: skip


class Processes:
    """Starts processes with the project's environment plus `env`; stops them all at the end."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path = tmp_path
        self.env = {**os.environ, "DEBUG": "true", "CONN_MAX_AGE": "0", **env}
        self.running: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        self.running.append((name, proc, log))
        return proc

    def redis(self, port: int) -> subprocess.Popen:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed on PATH"
        proc = self.start(
            f"redis-{port}", [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        )

        def up():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(up, timeout=10, what=f"redis on {port}")
        return proc

    def gunicorn(self, env: dict | None = None, *, workers: int = 2) -> str:
        port = free_port()
        self.start("gunicorn", gunicorn_command(port, workers=workers), env)
        base = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                # 503 is fine here: a test may start gunicorn while the broker is down on purpose
                return httpx.get(f"{base}/api/health/", timeout=10).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="gunicorn")
        return base

    def worker(self, env: dict | None = None) -> subprocess.Popen:
        name = f"worker-{free_port()}"
        proc = self.start(name, celery_worker_command(name), env)
        log = self.tmp_path / f"{name}.log"
        wait_for(lambda: "ready" in log.read_text(), timeout=30, what="the celery worker")
        return proc

    def manage(self, *args: str, env: dict | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self, proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop_all(self) -> str:
        logs = []
        for name, proc, log in reversed(self.running):
            if proc.poll() is None:
                self.stop(proc)
            logs.append(f"--- {name} ---\n{log.read_text()[-4000:]}")
        return "\n".join(logs)
