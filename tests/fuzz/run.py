"""`make fuzz`: schemathesis against the live service, once with a staff token and once with a channel user's.

1. creates the throwaway database DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/omnitron_fuzz),
   migrates it and seeds a small world through the project's services (tests/fuzz/seed.py);
2. serves it with gunicorn as production does (DEBUG off, no broker: refunds run in-process);
3. runs `schemathesis run` on /api/schema/ with every check, FUZZ_MAX_EXAMPLES cases per operation (default 15)
   and ten times as many stateful scenarios, seeded with FUZZ_SEED (fixed by default, so a run is reproducible),
   first as the channel user (`channel_id` fixed to its channel), then as staff; the checks
   tests/fuzz/exclusions.py turns off, each for one operation, are the only ones not held. FUZZ_EXTRA_ARGS adds
   schemathesis options (e.g. `--include-path-regex orders`);
4. prints the cases generated and the failures per token, drops the database (FUZZ_KEEP_DB=1 keeps it).

Exit status: 0 when both runs pass, 1 on any failure or server error, 2 when the harness itself breaks.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg
from psycopg import sql

from tests.fuzz.exclusions import EXCLUSIONS, SKIPPED_OPERATIONS
from tests.processes import free_port, gunicorn_command

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/omnitron_fuzz"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
STATEFUL_EXAMPLES = 10 * MAX_EXAMPLES
SEED = os.environ.get("FUZZ_SEED", "20260101")


def _admin_connection(url: str) -> psycopg.Connection:
    parts = urlparse(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def _recreate_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    if not name.endswith("_fuzz"):
        raise SystemExit(f"refusing to drop {name!r}: the fuzz database's name must end with _fuzz")
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database(url: str) -> None:
    with _admin_connection(url) as conn:
        name = urlparse(url).path.lstrip("/")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _toml(value) -> str:
    return json.dumps(value)  # a JSON string or number is also a TOML one


def _config(*, channel_id: int, operations: set[str]) -> str:
    """The schemathesis config: the fixed path parameter, every check on, skipped operations and per-operation
    exclusions (each naming an operation the schema has: a stale entry is an error, not a silent no-op)."""
    named = [f"{method} {path}" for method, path, _reason in SKIPPED_OPERATIONS]
    named += [f"{method} {path}" for _check, method, path, _reason in EXCLUSIONS]
    unknown = sorted(set(named) - operations)
    if unknown:
        raise SystemExit(f"tests/fuzz/exclusions.py names operations the schema does not have: {unknown}")
    lines = [
        # A string, as the path parameter's schema says: an integer would make schemathesis take the fixed value
        # for the invalid one it replaced and report a valid request as "schema-violating request accepted".
        f"parameters = {{ {_toml('path.channel_id')} = {_toml(str(channel_id))} }}",
        "[cache]",
        "enabled = false",  # no state carried over from an earlier run: a run depends on its seed alone
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        # PostgreSQL text cannot hold NUL; every text field refuses it with a 400 (tests/test_hostile_input.py).
        "allow-x00 = false",
        # Every check, set here rather than with `--checks all`: the command line would override the
        # per-operation `enabled = false` below.
        "[checks]",
        "enabled = true",
        # A stateful scenario is a chain of calls following the schema's links (create, then read, change, delete
        # what was created): ten times as many as single cases per operation, still seconds.
        "[phases.stateful.generation]",
        f"max-examples = {STATEFUL_EXAMPLES}",
        "",
    ]
    # One operation per entry: `include-name` is "METHOD path"; separate include-path and include-method filters
    # would each match on their own (every operation on the path, every operation with the method).
    for method, path, _reason in SKIPPED_OPERATIONS:
        lines += ["[[operations]]", f"include-name = {_toml(f'{method} {path}')}", "enabled = false", ""]
    for check, method, path, _reason in EXCLUSIONS:
        lines += [
            "[[operations]]",
            f"include-name = {_toml(f'{method} {path}')}",
            f"checks.{check}.enabled = false",
            "",
        ]
    return "\n".join(lines)


def _operations(base: str) -> set[str]:
    """ "METHOD path" of every operation the served schema declares."""
    schema = httpx.get(f"{base}/api/schema/", params={"format": "json"}, timeout=30).json()
    methods = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    return {
        f"{method.upper()} {path}" for path, item in schema["paths"].items() for method in item if method in methods
    }


def _serve(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = gunicorn_command(port, workers=2, timeout=60, extra=("--access-logfile", "-"))
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/api/health/", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn not healthy after 30 s:\n{log_path.read_text()[-4000:]}")


def _fuzz(*, label: str, base: str, token: str, config: Path, tmp: Path, env: dict) -> tuple[int, int, str]:
    """One schemathesis run; returns (exit code, cases generated, the summary it printed)."""
    report = tmp / f"{label}.ndjson"
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{base}/api/schema/",
        "--header", f"Authorization: Token {token}",
        "--seed", SEED,
        "--workers", "1",  # two workers hit an internal error of schemathesis
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report", "ndjson", "--report-ndjson-path", str(report),
        *shlex.split(os.environ.get("FUZZ_EXTRA_ARGS", "")),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    cases = _cases_generated(report, output)
    print(f"\n===== fuzz as {label}: exit {done.returncode}, {cases} cases, {time.monotonic() - started:.0f} s =====")
    # A schemathesis internal error can dump kilobytes on one line; every line is cut at 400 characters.
    print("\n".join(line if len(line) <= 400 else line[:400] + " [...]" for line in output.splitlines()))
    return done.returncode, cases, output


def _cases_generated(report: Path, output: str) -> int:
    match = re.search(r"Test cases:\s*\n?\s*(\d+) generated", output)
    if match:
        return int(match.group(1))
    match = re.search(r"(\d+) generated", output)
    return int(match.group(1)) if match else -1


def main() -> int:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "omnitron.settings",
        "DEBUG": "false",
        "CELERY_BROKER_URL": "",
        "SECRET_KEY": "fuzz-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SANDBOX_GATEWAY_MODE": "succeed",
        "CONN_MAX_AGE": "0",
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    _recreate_database(url)
    results = {}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        seeded = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.seed"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        world = json.loads(seeded.stdout.strip().splitlines()[-1])
        env["FUZZ_PROTECTED_USER_IDS"] = ",".join(str(pk) for pk in world["protected_user_ids"])
        print(f"seeded in {time.monotonic() - started:.0f} s: channel {world['channel_id']}")
        with tempfile.TemporaryDirectory(prefix="omnitron-fuzz-") as tmp_name:
            tmp = Path(tmp_name)
            log_path = tmp / "gunicorn.log"
            server, base = _serve(env, log_path)
            try:
                config = tmp / "schemathesis.toml"
                config.write_text(_config(channel_id=world["channel_id"], operations=_operations(base)))
                # The channel user first: the staff run may deactivate or change the seeded channel.
                for label, token in (("channel user", world["channel_token"]), ("staff", world["staff_token"])):
                    results[label] = _fuzz(label=label, base=base, token=token, config=config, tmp=tmp, env=env)
            finally:
                server.terminate()
                server.wait(timeout=15)
            server_errors = [line for line in log_path.read_text(errors="replace").splitlines() if '" 50' in line]
            tracebacks = log_path.read_text(errors="replace").count("Traceback")
    finally:
        if os.environ.get("FUZZ_KEEP_DB") != "1":
            _drop_database(url)

    print("\n===== make fuzz summary =====")
    for label, (code, cases, _output) in results.items():
        print(f"{label:>12}: {cases} cases generated, schemathesis exit {code} ({'ok' if code == 0 else 'FAILED'})")
    print(f"{'total':>12}: {sum(cases for _code, cases, _output in results.values())} cases, seed {SEED}")
    print(f"server errors in the access log: {len(server_errors)}, tracebacks: {tracebacks}")
    for line in server_errors[:20]:
        print(f"  {line}")
    print(
        f"exclusions: {len(EXCLUSIONS)} check(s) on single operations, {len(SKIPPED_OPERATIONS)} operation(s) skipped"
    )
    print(f"took {time.monotonic() - started:.0f} s")
    failed = any(code != 0 for code, _cases, _output in results.values()) or server_errors or tracebacks
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
