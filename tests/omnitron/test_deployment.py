"""How the service is shipped and run: docker-compose.yml's commands (the web command run for real), the settings'
refusals in production, Sentry's wiring, beat's health check, and the project's housekeeping (make help, ignored
files, supported Pythons, pinned dependencies)."""

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib

import httpx
import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from common.request_id import reset_request_id, set_request_id
from omnitron import beat_health
from omnitron.sentry import event_with_request_id
from tests.processes import ROOT, Processes, answers_ok, collected_static_root, free_port, log_containing, wait_for

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_ENV = COMPOSE["x-app"]["environment"]


def web_script() -> list[str]:
    """The shell steps of the web service's command (`sh -c "a && b && exec gunicorn ..."`)."""
    sh, flag, script = shlex.split(COMPOSE["services"]["web"]["command"])
    assert (sh, flag) == ("sh", "-c")
    return [step.strip() for step in script.replace("\\\n", " ").split("&&")]


def test_compose_requires_a_secret_key_and_has_secure_defaults():
    assert APP_ENV["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without one
    assert APP_ENV["DEBUG"] == "false"
    assert APP_ENV["SESSION_COOKIE_SECURE"] == "${SESSION_COOKIE_SECURE:-true}"
    assert APP_ENV["CSRF_COOKIE_SECURE"] == "${CSRF_COOKIE_SECURE:-true}"
    assert APP_ENV["LOG_FORMAT"] == "${LOG_FORMAT:-json}"
    assert COMPOSE["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]  # this machine only


def test_compose_collects_static_files_before_gunicorn_starts():
    steps = web_script()

    assert steps[0] == "python manage.py migrate --noinput"
    assert steps[1] == "python manage.py collectstatic --noinput -v0"
    assert steps[2].startswith("exec gunicorn omnitron.wsgi:application")
    assert "collectstatic --noinput" in (ROOT / "Dockerfile").read_text()


def test_compose_checks_that_beat_is_alive():
    beat = COMPOSE["services"]["beat"]
    schedule = shlex.split(beat["command"])[shlex.split(beat["command"]).index("--schedule") + 1]

    assert beat["healthcheck"]["test"][1:4] == ["python", "-m", "omnitron.beat_health"]
    assert beat["healthcheck"]["test"][4] == schedule


def test_compose_web_command_serves_the_docs_and_logs_each_answer_once(tmp_path):
    """The web service's gunicorn, as compose writes it, on a free port: static files and docs are served, and each
    answer is logged once: below 400 by the access log (with the request id), a 4xx by the application (JSON)."""
    argv = shlex.split(web_script()[2])[1:]  # without `exec`
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{free_port()}"
    argv[argv.index("--workers") + 1] = "1"
    base = "http://" + argv[argv.index("--bind") + 1]
    procs = Processes(
        tmp_path,
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "",
            "DEBUG": "false",
            "SECRET_KEY": "compose-web-test-secret-key-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_FORMAT": "json",
            "STATIC_ROOT": collected_static_root(),
        },
    )
    procs.start("web", [sys.executable, "-m", *argv])
    try:
        wait_for(lambda: answers_ok(f"{base}/api/health/"), timeout=30, what="the web command's gunicorn")
        docs = httpx.get(f"{base}/api/docs/", headers={"X-Request-ID": "compose-docs"}, timeout=10)
        css = re.search(r'href="(/static/[^"]+\.css)"', docs.text).group(1)
        assert httpx.get(f"{base}{css}", timeout=10).status_code == 200
        missing = httpx.get(f"{base}/api/i1/nothing/", headers={"X-Request-ID": "compose-404"}, timeout=10)
        assert (docs.status_code, missing.status_code) == (200, 404)
        log = wait_for(lambda: log_containing(tmp_path / "web.log", "compose-docs"), timeout=10, what="the access line")
    finally:
        print(procs.stop_all())

    assert re.search(r'"GET /api/docs/ HTTP/1.1" 200 .* request_id=compose-docs$', log, re.MULTILINE)
    lines_404 = [line for line in log.splitlines() if "compose-404" in line]
    assert len(lines_404) == 1, log
    assert json.loads(lines_404[0]) | {"time": None} == {
        "time": None,
        "level": "WARNING",
        "logger": "django.request",
        "message": "Not Found: /api/i1/nothing/",
        "request_id": "compose-404",
    }


def manage_check(**env) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("secret_key", [None, "", "development-only-insecure-key"])
def test_production_settings_refuse_a_missing_or_public_secret_key(secret_key):
    env = {"DEBUG": "false", "ALLOWED_HOSTS": "api.example.com"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    done = manage_check(**env)

    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_development_settings_start_without_a_secret_key():
    assert manage_check(DEBUG="true").returncode == 0


SENTRY_PROBE = (
    "import json, django, sentry_sdk\n"
    "django.setup()\n"
    "client = sentry_sdk.get_client()\n"
    "print(json.dumps({'active': client.is_active(), 'dsn': client.options.get('dsn'),\n"
    "    'integrations': sorted(client.integrations), 'pii': client.options.get('send_default_pii'),\n"
    "    'bodies': client.options.get('max_request_body_size'),\n"
    "    'propagate': client.options.get('trace_propagation_targets'),\n"
    "    'environment': client.options.get('environment')}))\n"
)


def sentry_probe(**env) -> dict:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY_")}
    done = subprocess.run(
        [sys.executable, "-c", SENTRY_PROBE],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "omnitron.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn():
    assert sentry_probe()["active"] is False


def test_sentry_is_set_up_from_the_dsn_without_personal_data():
    # Only set up: nothing is captured, so nothing is sent anywhere.
    probe = sentry_probe(SENTRY_DSN="https://public-key@sentry.example.com/42", SENTRY_ENVIRONMENT="staging")

    assert probe["active"] is True
    assert probe["dsn"] == "https://public-key@sentry.example.com/42"
    assert probe["environment"] == "staging"
    assert {"django", "celery"} <= set(probe["integrations"])
    assert (probe["pii"], probe["bodies"], probe["propagate"]) == (False, "never", [])


def test_sentry_events_carry_the_request_id():
    token = set_request_id("req-for-sentry")
    try:
        event = event_with_request_id({"tags": {"kind": "x"}}, {})
    finally:
        reset_request_id(token)

    assert event["tags"] == {"kind": "x", "request_id": "req-for-sentry"}
    assert event_with_request_id({}, {}) == {}  # outside a request: no tag


def test_beat_health_follows_the_age_of_the_schedule(tmp_path, capsys):
    schedule = tmp_path / "celerybeat-schedule"

    assert beat_health.main([str(schedule)]) == 1  # beat never wrote it
    (tmp_path / "celerybeat-schedule.dat").write_bytes(b"x")
    assert beat_health.main([str(schedule), "--max-age", "60"]) == 0
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / "celerybeat-schedule.dat", (an_hour_ago, an_hour_ago))
    assert beat_health.main([str(schedule), "--max-age", "60"]) == 1
    assert "last written 3600 s ago" in capsys.readouterr().err


@pytest.mark.redis
def test_a_running_beat_is_healthy_and_a_stopped_one_is_not(tmp_path):
    procs = Processes(tmp_path, {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "REFUND_SWEEP_INTERVAL": "1"})
    port = free_port()
    procs.redis(port)
    schedule = str(tmp_path / "state" / "celerybeat-schedule")
    (tmp_path / "state").mkdir()
    beat = procs.start(
        "beat",
        [sys.executable, "-m", "celery", "-A", "omnitron", "beat", "--loglevel=INFO", "--schedule", schedule],
        env={"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"},
    )
    try:
        # written again and again: healthy even with a two-second limit
        wait_for(lambda: beat_health.main([schedule, "--max-age", "2"]) == 0, timeout=20, what="beat's first write")
        time.sleep(3)
        assert beat_health.main([schedule, "--max-age", "2"]) == 0
        procs.stop(beat)
        time.sleep(3)
        assert beat_health.main([schedule, "--max-age", "2"]) == 1
    finally:
        print(procs.stop_all())


def test_make_help_lists_every_target_with_one_line():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY: (.+)$", makefile, re.MULTILINE).group(1).split()
    done = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    default = subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, check=True)

    listed = {line.split()[0]: line.split(None, 1)[1] for line in done.stdout.splitlines()}
    assert set(listed) == set(phony)
    assert all(len(text) > 10 for text in listed.values())
    assert default.stdout == done.stdout  # plain `make` shows the help


def test_beat_schedule_files_are_not_committed():
    names = ["celerybeat-schedule", "celerybeat-schedule.db", "celerybeat-schedule.dat", "celerybeat-schedule.dir"]
    done = subprocess.run(["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True, check=False)

    assert done.stdout.split() == names


def test_supported_pythons_are_3_11_to_3_13():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    supported = SpecifierSet(project["requires-python"])

    assert [str(v) for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if Version(v) in supported] == [
        "3.11",
        "3.12",
        "3.13",
    ]
    classified = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if re.search(r"Python :: 3\.\d+$", c)}
    assert classified == {"3.11", "3.12", "3.13"}


def test_every_dependency_is_pinned_and_constraints_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    constraints = {
        _normalise(line.split("==")[0]): line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }

    for requirement in direct:
        name, version = requirement.split("==")
        assert constraints[_normalise(name.split("[")[0])] == version, requirement


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_readme_curl_examples_show_the_status_code():
    """Each call of the README's walk-through prints its status (`-w '... %{http_code}'` or `-i`), so a reader sees
    201 from 200 and 400 from 404; a call whose output feeds a variable (`$(curl ...)`) is exempt."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.DOTALL)
    calls = [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]

    assert len(calls) >= 10
    assert [call for call in calls if "%{http_code}" not in call and " -i " not in call] == []
