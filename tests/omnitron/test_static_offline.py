"""Production's pages through gunicorn with DEBUG off, as docker-compose.yml serves them (collectstatic, then
WhiteNoise): every script, stylesheet and image that the admin and the API docs reference answers 200 from this
server, so does every file those stylesheets name, and no page names another host: the pages work offline."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.processes import Processes

PASSWORD = "Static-offline-2026"
# A URL anywhere in a page or stylesheet: scheme-relative ("//host/...") or absolute.
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)\\]+""")
XML_NAMESPACE = re.compile(r"""\bxmlns(?::\w+)?=["'][^"']*["']""")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


class References(HTMLParser):
    """The assets a page loads (script src, link href, img src) and every URL-valued attribute."""

    def __init__(self):
        super().__init__()
        self.assets: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "srcset", "data", "poster"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if tag in ("script", "img") and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.assets.append(attrs["href"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("static-offline")
    procs = Processes(
        tmp,
        {
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "",
            "DEBUG": "false",
            "SECRET_KEY": "static-offline-test-secret-key-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on the loopback: the session cookie must travel without TLS here.
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
        },
    )
    try:
        procs.manage("migrate", "--noinput", "-v0")
        procs.manage(
            "createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com",
            env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        )  # fmt: skip
        yield procs.gunicorn()
    finally:
        print(procs.stop_all())  # shown when a test failed


@pytest.fixture(scope="module")
def staff_browser(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        form = client.get("/admin/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        logged_in = client.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": csrf, "username": "ops", "password": PASSWORD, "next": "/admin/"},
        )
        assert logged_in.status_code == 302, logged_in.text[:500]
        assert logged_in.headers["Location"] == "/admin/"
        yield client


def check_page(client: httpx.Client, base: str, path: str) -> list[str]:
    """Fetches `path`, asserts it is the page (not a redirect to the login) and that all it references is served
    here; returns the asset paths."""
    page = client.get(path)
    assert page.status_code == 200, f"{path}: {page.status_code}"
    parser = References()
    parser.feed(page.text)
    assert parser.assets, f"{path} references no assets"
    # XML namespaces (xmlns="http://www.w3.org/2000/svg") are names, never fetched
    text = XML_NAMESPACE.sub("", page.text)
    external = [url for url in [*parser.urls, *ABSOLUTE_URL.findall(text)] if not _is_local(url, base)]
    assert external == [], f"{path} names other hosts"
    for asset in parser.assets:
        check_asset(client, base, urljoin(base + path, asset), referrer=path)
    return [urlsplit(urljoin(base + path, asset)).path for asset in parser.assets]


def check_asset(client: httpx.Client, base: str, url: str, *, referrer: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, f"{url} (from {referrer}): {response.status_code}"
    if urlsplit(url).path.endswith(".css"):
        for reference in CSS_URL.findall(response.text):
            if reference.startswith(("data:", "#")):
                continue
            assert _is_local(reference, base), f"{url} names another host: {reference}"
            nested = client.get(urljoin(url, reference))
            assert nested.status_code == 200, f"{reference} (from {url}): {nested.status_code}"


def _is_local(url: str, base: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("", "http", "https") and parts.netloc in ("", urlsplit(base).netloc)


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/redoc/"])
def test_public_pages_load_every_asset_from_this_server(server, path):
    with httpx.Client(base_url=server, timeout=30) as client:
        assets = check_page(client, server, path)

    assert all(asset.startswith("/static/") for asset in assets), assets


def test_the_docs_pages_run_swagger_ui_and_redoc_shipped_with_the_service(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        swagger = check_page(client, server, "/api/docs/")
        redoc = check_page(client, server, "/api/redoc/")
        bundle = next(asset for asset in swagger if "swagger-ui-bundle" in asset)
        served = client.get(bundle)

    assert any("swagger-ui" in asset and asset.endswith(".css") for asset in swagger)
    assert any("redoc.standalone" in asset for asset in redoc)
    assert "SwaggerUIBundle" in served.text
    # collectstatic's hashed names: browsers may keep them for good
    assert "immutable" in served.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/admin/", "/admin/auth/user/", "/admin/auth/user/add/"])
def test_admin_pages_of_a_logged_in_user_load_every_asset(server, staff_browser, path):
    assets = check_page(staff_browser, server, path)

    assert any(asset.startswith("/static/admin/css/") for asset in assets)


def test_the_root_redirects_to_the_api_docs(server):
    response = httpx.get(f"{server}/", timeout=10)

    assert response.status_code == 302
    assert response.headers["Location"] == "/api/docs/"
