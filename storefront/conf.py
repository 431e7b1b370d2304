"""`Channel.conf.storefront`: where the channel's orders come from, and how to tell it about a cancellation.

`{"kind": "shoplazza", "base_url": "https://<shop>.myshoplaza.com", "access_token": "...", "api_version": "2022-01"}`
(`api_version` optional). The token is write-only: the API and the admin never show it.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

KINDS = ("shoplazza",)
DEFAULT_API_VERSION = "2022-01"
API_VERSION = re.compile(r"^\d{4}-\d{2}$")


def storefront_conf(channel) -> dict | None:
    """The channel's storefront settings, or None: read from the channel row the caller holds, no query."""
    conf = (channel.conf or {}).get("storefront")
    return conf if isinstance(conf, dict) and conf.get("kind") in KINDS else None


def validate_storefront_conf(conf: dict) -> None:
    storefront = conf.get("storefront")
    if storefront is None:
        return
    if not isinstance(storefront, dict):
        raise ValidationError("storefront must be an object: {kind, base_url, access_token, api_version}.")
    errors = []
    if storefront.get("kind") not in KINDS:
        errors.append(f"storefront.kind {storefront.get('kind')!r} is unknown; choose one of: {', '.join(KINDS)}.")
    base_url = storefront.get("base_url")
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        errors.append("storefront.base_url must be an http(s) URL such as https://<shop>.myshoplaza.com.")
    token = storefront.get("access_token")
    if not isinstance(token, str) or not token.strip() or len(token) > 512 or not token.isprintable():
        errors.append("storefront.access_token is required (the store's API token).")
    version = storefront.get("api_version", DEFAULT_API_VERSION)
    if not isinstance(version, str) or not API_VERSION.match(version):
        errors.append("storefront.api_version must look like 2022-01.")
    if errors:
        raise ValidationError(errors)
