"""`sikerja token` prints a token the services accept, signed with the data folder's key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.shared import identity as ident
from services.shared.keys import ensure_dev_keys
from services.shared.settings import Settings, get_settings
from sikerja_cli.main import app


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SIKERJA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_token_for_one_service(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    ensure_dev_keys(settings)
    args = ["token", "--role", "operator", "--nip", "198501012010011001", "--opd", "Dinas X"]
    result = CliRunner().invoke(app, [*args, "--aud", "activity", "--ttl", "2m"])
    assert result.exit_code == 0, result.output
    who = ident.verify(result.output.strip(), "activity", ident.Jwks(settings.jwks_source()))
    assert (who.nip, who.role, who.opd) == ("198501012010011001", "operator", "Dinas X")
    assert who.exp is not None
    with pytest.raises(ident.WrongAudience):
        ident.verify(result.output.strip(), "tpp", ident.Jwks(settings.jwks_source()))


def test_token_for_all_services_and_refusals(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    runner = CliRunner()
    missing = runner.invoke(app, ["token", "--role", "bkpsdm"])
    assert missing.exit_code == 2  # no private key yet
    ensure_dev_keys(settings)
    result = runner.invoke(app, ["token", "--role", "bkpsdm"])
    for service in ("tpp", "approval", "portal"):
        assert ident.verify(result.output.strip(), service, ident.Jwks(settings.jwks_source()))
    assert runner.invoke(app, ["token", "--role", "root"]).exit_code == 2
    assert runner.invoke(app, ["token", "--role", "asn", "--ttl", "3d"]).exit_code == 2
    assert runner.invoke(app, ["token", "--role", "asn", "--ttl", "13h"]).exit_code == 2
