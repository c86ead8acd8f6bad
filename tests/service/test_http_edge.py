"""The HTTP edge every service shares: /docs works on a closed city network (every asset
served by the service itself, none from a CDN); a server error is logged with its path."""

from __future__ import annotations

import importlib
import re

import httpx
import pytest

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
