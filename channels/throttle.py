"""Failed logins, counted per username and per client address in the cache, for the API login and the admin's.

A failure is counted where Django reports it (the `user_login_failed` signal, sent by `authenticate()` for both
logins). Past the limit within the window, a login is refused with 429 and `Retry-After` before the password is
even checked, so guessing costs the attacker the window, and a correct password does not help meanwhile.
"""

import time

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

PREFIX = "login-failures"


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (f"{PREFIX}:user:{username.strip().lower()}", settings.LOGIN_FAILURES_PER_USERNAME),
        (f"{PREFIX}:addr:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def login_retry_after(*, username: str, address: str) -> int | None:
    """Seconds until this username or address may try again, or None if it may now."""
    now = time.time()
    waits = []
    for key, limit in _keys(username, address):
        window = cache.get(key)
        if window and window["count"] >= limit:
            waits.append(int(window["started"] + settings.LOGIN_FAILURE_WINDOW_SECONDS - now) + 1)
    waits = [wait for wait in waits if wait > 0]
    return max(waits) if waits else None


def login_failed(*, username: str, address: str) -> None:
    now = time.time()
    for key, _ in _keys(username, address):
        window = cache.get(key)
        if not window or now - window["started"] >= settings.LOGIN_FAILURE_WINDOW_SECONDS:
            window = {"started": now, "count": 0}
        window["count"] += 1
        cache.set(key, window, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_succeeded(*, username: str) -> None:
    """A right password (while not throttled) clears the username's failures; the address keeps its count."""
    cache.delete(_keys(username, "-")[0][0])


@receiver(user_login_failed, dispatch_uid="channels.throttle.count_failure")
def _count_failure(sender, credentials, request=None, **kwargs):
    login_failed(username=str(credentials.get("username", "")), address=client_address(request))
