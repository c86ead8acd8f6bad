"""The HTTP edge every service shares: /docs works on a closed city network (every asset
served by the service itself, none from a CDN); a server error is logged with its path."""

from __future__ import annotations

import importlib
import json
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.shared.settings import Settings

SERVICES = ["attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal"]


@pytest.mark.parametrize("service", SERVICES)
async def test_docs_page_loads_only_local_assets(service: str, memory_settings: Settings) -> None:
    app = importlib.import_module(f"services.{service}.app").create(memory_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        scripts = [a for a in assets if a.endswith((".js", ".css"))]
        assert scripts, "the page loads Swagger UI's script and style"
        for url in assets:
            assert not url.startswith(("http:", "https:", "//")), f"{service} /docs loads {url}"
        for url in scripts:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 10_000, url


async def test_a_server_error_is_logged_with_its_path(memory_settings: Settings) -> None:
    from structlog.testing import capture_logs

    app = importlib.import_module("services.tpp.app").create(memory_settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        with capture_logs() as logs:
            answer = await client.get("/boom")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = [e for e in logs if e["log_level"] == "error"]
    assert errors and errors[0]["path"] == "/boom" and "kaboom" in errors[0]["error"]


async def test_a_nul_character_is_refused_at_the_edge(memory_settings: Settings) -> None:
    # SQLite stores NUL, PostgreSQL refuses it with a 500 (a whole filing batch with it)
    app = importlib.import_module("services.tpp.app").create(memory_settings)

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    @app.get("/echo/{name}")
    async def echo_path(name: str, q: str = "") -> dict[str, str]:
        return {"name": name, "q": q}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.post("/echo", json={"alasan": "baik"})).json() == {"alasan": "baik"}
        for answer in (
            await client.post("/echo", json={"alasan": "a\u0000b"}),
            await client.get("/echo/ab%00c"),
            await client.get("/echo/x", params={"q": "a\u0000"}),
        ):
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "NUL" in answer.json()["detail"]
        # an escaped backslash before "u0000" is text, not a NUL
        kept = await client.post("/echo", json={"alasan": "C:\\u0000"})
        assert kept.status_code == 200 and kept.json() == {"alasan": "C:\\u0000"}


@given(st.text(max_size=30))
def test_escaped_nul_is_found_exactly_when_the_text_has_one(text: str) -> None:
    from services.shared.http import _escaped_nul

    body = json.dumps({"t": text}).encode()
    assert _escaped_nul(body) is ("\x00" in text)
