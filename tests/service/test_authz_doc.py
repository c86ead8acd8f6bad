"""docs/authz.md is the matrix the authz tests prove: the tables rendered from the RULES of
every tests/service/test_authz_*.py. Regenerate with `uv run python -m tests.authz_doc` (or
run this test with SIKERJA_WRITE_AUTHZ_DOC=1)."""

from __future__ import annotations

import os

from tests import authz_doc


def test_every_matrix_module_is_rendered() -> None:
    services = [service for service, _ in authz_doc.matrices()]
    assert {"tpp", "notifier", "portal"} <= set(services)
    assert all(rules for _, rules in authz_doc.matrices())


def test_docs_authz_md_is_current() -> None:
    if os.environ.get("SIKERJA_WRITE_AUTHZ_DOC") == "1":
        authz_doc.write()
    assert authz_doc.DOC.exists(), "docs/authz.md is missing: uv run python -m tests.authz_doc"
    assert authz_doc.DOC.read_text(encoding="utf-8") == authz_doc.render(), (
        "docs/authz.md is out of date: uv run python -m tests.authz_doc"
    )
