"""The front door: every route of every service's OpenAPI refuses a request without a token
(401 problem+json); tampered tokens are each refused; the old X-Actor-* headers prove
nothing. Routes are read from the OpenAPI documents, so a new route is swept too."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.notifier.app import create as create_notifier
from services.notifier.cache import DayCache
from services.portal.app import create as create_portal
from services.shared.identity import mint
from services.shared.keys import new_key
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from services.tpp.app import create as create_tpp
from tests.support import SERVICE_NAMES, signing_key, token, who

NOW = datetime(2026, 10, 7, 2, 0, tzinfo=UTC)
NIP = "199001012015011001"
BUILDERS: dict[str, Callable[[Settings], FastAPI]] = {
    "attendance": lambda s: create_attendance(s, AttendanceConfig(scheduler_enabled=False)),
    "activity": lambda s: create_activity(s, clock=lambda: NOW),
    "approval": lambda s: create_approval(s, clock=lambda: NOW),
    "tpp": create_tpp,
    "notifier": lambda s: create_notifier(
        s,
        clock=lambda: NOW,
        cache=DayCache("redis://127.0.0.1:1/0", timeout_s=0.05, backoff_s=3600),
        scheduler=False,
    ),
    "siasn": create_siasn,
    "portal": lambda s: create_portal(
        s, hasher=PasswordHasher(time_cost=1, memory_cost=1024), rate_storage="memory://"
    ),
}
# Open without a token: devices (they cannot carry one) and the portal's sign-in steps.
OPEN = {
    "attendance": re.compile(r"^/iclock/"),
    "portal": re.compile(r"^/api/v1/(session|first-password)$"),
}
# The portal's pages answer a browser (a redirect to the login page), not an API client.
PAGES = re.compile(r"^/(?!api/)")
METHODS = ("get", "post", "put", "patch", "delete")


def operations(name: str, app: FastAPI) -> list[tuple[str, str]]:
    ops = []
    for path, item in app.openapi()["paths"].items():
        for method in METHODS:
            if method not in item or PAGES.match(path):
                continue
            if (rule := OPEN.get(name)) and rule.match(path):
                if not (name == "portal" and method in ("delete",)):  # logout needs a session
                    continue
            ops.append((method.upper(), path))
    return ops


def concrete(path: str) -> str:
    # any value: the token is checked before a path parameter is
    return re.sub(r"\{[^}]+\}", "2026-10", path)


@pytest.mark.parametrize("name", list(BUILDERS))
async def test_every_route_refuses_a_request_without_a_token(
    name: str, memory_settings: Settings
) -> None:
    app = BUILDERS[name](memory_settings)
    ops = operations(name, app)
    assert ops  # the sweep sees the service's routes
    transport = httpx.ASGITransport(app=app)
    let_through = []
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for method, path in ops:
            res = await client.request(method, concrete(path))
            if res.status_code != 401 or not res.headers.get("content-type", "").startswith(
                "application/problem+json"
            ):
                let_through.append((method, path, res.status_code))
                continue
            assert res.json()["detail"], res.text  # a Bahasa sentence for the person
        # the infrastructure routes stay open (probes and scrapers carry no token)
        for open_path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
            assert (await client.get(open_path)).status_code == 200, open_path
    assert let_through == []


# --- tampered tokens at a service route -------------------------------------------------


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def parts(signed: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = signed.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def alg_none() -> str:
    header, payload, _ = parts(token(NIP, "bkpsdm"))
    return f"{b64({**header, 'alg': 'none'})}.{b64(payload)}."


def wrong_key_same_kid() -> str:
    other = new_key()
    claims = {"role": "bkpsdm", "nip": NIP, "aud": list(SERVICE_NAMES)}
    return mint(other.jwk, signing_key().kid, claims, timedelta(hours=1))


def wrong_key_own_kid() -> str:
    other = new_key()
    claims = {"role": "bkpsdm", "nip": NIP, "aud": list(SERVICE_NAMES)}
    return mint(other.jwk, other.kid, claims, timedelta(hours=1))


def expired() -> str:
    key = signing_key()
    claims = {"role": "bkpsdm", "nip": NIP, "aud": list(SERVICE_NAMES)}
    issued = datetime.now(UTC) - timedelta(hours=2)
    return mint(key.jwk, key.kid, claims, timedelta(minutes=10), now=issued)


def other_audience() -> str:
    return token(NIP, "bkpsdm", audience="portal")


def role_changed() -> str:
    header, payload, signature = parts(token(NIP, "asn"))
    return f"{b64(header)}.{b64({**payload, 'role': 'bkpsdm'})}.{signature}"


TAMPERED = {
    "alg none": (alg_none, "token_algorithm"),
    "wrong key, same kid": (wrong_key_same_kid, "token_signature"),
    "wrong key, its own kid": (wrong_key_own_kid, "token_unknown_key"),
    "expired": (expired, "token_expired"),
    "other audience": (other_audience, "token_audience"),
    "role changed": (role_changed, "token_signature"),
    "not a token": (lambda: "bukan.token", "token_malformed"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
async def test_a_tampered_token_is_refused(case: str, memory_settings: Settings) -> None:
    make, code = TAMPERED[case]
    app = BUILDERS["tpp"](memory_settings)
    app.state.kit.migrate()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        url = "/api/v1/periods/2026-10/close"
        res = await client.post(url, headers={"Authorization": f"Bearer {make()}"})
        assert res.status_code == 401, res.text
        assert res.headers["content-type"] == "application/problem+json"
        assert res.json()["code"] == code
        # the same route with an honest token of that role gets past the door
        honest = await client.post(url, headers=who(NIP, "bkpsdm"))
        assert honest.status_code != 401, honest.text


async def test_the_old_role_header_proves_nothing(memory_settings: Settings) -> None:
    app = BUILDERS["attendance"](memory_settings)
    app.state.kit.migrate()
    transport = httpx.ASGITransport(app=app)
    absence = {"nip": NIP, "jenis": "sakit", "mulai": "2026-10-05", "selesai": "2026-10-05"}
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for headers in ({"X-Actor-Role": "bkpsdm"}, {"X-Actor-Role": "System"}, {}):
            res = await client.post("/api/v1/absences", json=absence, headers=headers)
            assert res.status_code == 401, (headers, res.text)
            assert res.json()["code"] == "token_missing"
        # and next to a token, the header does not change who calls
        mixed = await client.post(
            "/api/v1/absences", json=absence, headers={**who(NIP, "asn"), "X-Actor-Role": "bkpsdm"}
        )
        assert mixed.status_code == 403, mixed.text
