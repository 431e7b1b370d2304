"""The admin in a real browser: Playwright driving the system's Chromium against pytest-django's live server (which
serves the admin's static files, so the pages are styled as in production).

Playwright's own browser download is not used: `CHROMIUM_PATH` names the executable (default: `chromium` on the
PATH, as Debian's package installs it). Without one the tests skip, with the reason; CI installs it and allows no
skip.
"""

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

VIEWPORT = {"width": 1400, "height": 900}
# Where the screenshots of the dashboard and the confirmation page go: outside the project.
SCREENSHOT_DIR = Path(tempfile.gettempdir()) / "omnitron-admin-screenshots"
STAFF_USERNAME, STAFF_PASSWORD = "staff", "staff-demo-pass"


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if not executable:
        pytest.skip("needs Chromium (apt-get install chromium, or CHROMIUM_PATH=...)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM, called by the tests between browser
    # steps, would take that for an async context and refuse.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo(transactional_db, settings):
    """seed_demo's world, committed (the live server reads it from another thread); its refunds have run."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def page(browser, live_server, demo):
    """A fresh browser session at 1400 px, logged in as the demo's staff user."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", STAFF_USERNAME)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
