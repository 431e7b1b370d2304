"""Helpers shared by the end-to-end modules: plain HTTP against the gunicorn started by `conftest.py`."""

from dataclasses import dataclass
from pathlib import Path

import httpx

STAFF_PASSWORD = "Back-office-e2e-2026"
CHANNEL_USER_PASSWORD = "Shop-front-e2e-2026"


@dataclass
class Server:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class World:
    staff: dict[str, str]
    shop: dict[str, str]
    channel_id: int
    other_channel_id: int


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


def login(http: httpx.Client, username: str, password: str) -> str:
    response = http.post("/api/i1/auth/login/", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"key"}
    return response.json()["key"]


def intake(http: httpx.Client, headers: dict, channel_id: int, body: dict) -> dict:
    response = http.post(f"/api/channel/{channel_id}/orders/", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()
