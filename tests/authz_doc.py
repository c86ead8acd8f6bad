"""docs/authz.md: every service's route → caller table, made from the `RULES` of each
tests/service/test_authz_<service>.py (issue 12), so the document is the matrix the tests
prove. Write it with `uv run python -m tests.authz_doc` (tests/service/test_authz_doc.py
checks it is current, and writes it when SIKERJA_WRITE_AUTHZ_DOC=1)."""

from __future__ import annotations

import importlib
from pathlib import Path

from tests.authz import CALLERS, LABELS, Rule, render_table

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "authz.md"
MATRICES = ROOT / "tests" / "service"
PREFIX = "test_authz_"

HEADING = """# Siapa boleh memanggil apa

Dibuat dari uji matriks otorisasi (`tests/service/test_authz_*.py`, `RULES`); jangan disunting
dengan tangan: `uv run python -m tests.authz_doc` menulis ulang berkas ini. Setiap rute diuji
lewat HTTP dengan token sungguhan: pemanggil yang tidak disebut mendapat 403 (problem+json).

Pemanggil dilihat dari satu pegawai, ASN A di OPD X yang atasan langsungnya B:

{callers}

BKPSDM membaca dan mengubah seluruh kota; auditor membaca seluruh kota dan tidak pernah
mengubah apa pun; akun layanan adalah token tugas terjadwal (`sikerja token --role system`).
NIP yang tidak dikenal dijawab sama dengan NIP milik orang lain (403, bukan 404).

"""

WHO = {
    "asn_self": "A sendiri",
    "asn_other": "ASN lain (rekan A)",
    "atasan_own": "B, atasan langsung A (atau Plt-nya, bila layanan mengenal delegasi)",
    "atasan_other": "atasan pegawai lain",
    "operator_own": "operator OPD X",
    "operator_other": "operator OPD lain",
    "bkpsdm": "BKPSDM",
    "auditor": "auditor",
    "system": "akun layanan",
}


def matrices() -> list[tuple[str, list[Rule]]]:
    """(service, RULES) of every matrix module there is, by service name."""
    found = []
    for path in sorted(MATRICES.glob(f"{PREFIX}*.py")):
        service = path.stem.removeprefix(PREFIX)
        if service == "doc":
            continue
        module = importlib.import_module(f"tests.service.{path.stem}")
        found.append((service, list(module.RULES)))
    return found


def render() -> str:
    callers = "\n".join(f"- **{LABELS[c]}**: {WHO[c]}" for c in CALLERS)
    tables = "\n".join(render_table(service, rules) for service, rules in matrices())
    return HEADING.format(callers=callers) + tables


def write() -> Path:
    DOC.write_text(render(), encoding="utf-8")
    return DOC


if __name__ == "__main__":
    print(write())
