"""/docs works on a closed city network: every asset the page loads is served by the
service itself, none from a CDN."""

from __future__ import annotations

import importlib
import re

import httpx
import pytest

from services.shared.settings import Settings

SERVICES = ["attendance", "activity", "approval", "tpp", "notifier", "siasn"]


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
