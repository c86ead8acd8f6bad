"""`./dev up`'s first SIASN sync (found on a fresh clone: it still sent the old X-Actor-Role
header, so every call got 401 and `up` stopped after loading the demo)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.shared.settings import Settings
from services.siasn.app import create
from services.siasn.config import SiasnSettings
from sikerja_cli import loader


def test_dev_ups_siasn_seed_is_signed_and_lands(memory_settings: Settings) -> None:
    app = create(memory_settings, SiasnSettings(base_url=""))
    app.state.kit.migrate()
    with TestClient(app, base_url="http://siasn") as http:
        units = [{"id": "U-1", "nama": "Dinas Komunikasi dan Informatika"}]
        answer = loader.seed_siasn(http, memory_settings, units, "2026-11")
        # no SIASN configured here: the sync itself is refused, but not for want of a token
        assert answer.status_code != 401, answer.text
        token = {"Authorization": f"Bearer {loader.bkpsdm_token(memory_settings)}"}
        mapped = http.get("/api/v1/siasn/units", headers=token).json()
    assert [(u["unor_id"], u["opd"]) for u in mapped] == [("U-1", units[0]["nama"])]
