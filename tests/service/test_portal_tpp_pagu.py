"""'TPP saya' says why the month's pagu is less than the ASN's pagu (issue 14, RULES.md
"Employment within a month"), against the real services in-process (test_portal_pages.py).

April 2026 (national calendar): 21 working days; 6 up to the 9th, 15 from the 10th; 10 up
to the 15th, 11 from the 16th.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts.events import EmployeeUpserted
from tests import factories
from tests.service.test_portal_pages import NOW, Mesh, mesh, signed_in

__all__ = ["mesh"]  # the in-process services and portal, as this module's fixture
KESEHATAN, PENDIDIKAN = "Dinas Kesehatan", "Dinas Pendidikan"


def april(n: int) -> date:
    return date(2026, 4, n)


def period(nip: str, opd: str, pagu: int, **dates: Any) -> EmployeeUpserted:
    return EmployeeUpserted(
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC), producer="siasn", nip=nip,
        nama=f"Pegawai {nip[-4:]}", opd=opd, jabatan="Analis", kelas_jabatan=9,
        tpp_pagu=pagu, **dates,
    )  # fmt: skip


async def statement_page(mesh: Mesh, nip: str, *periods: EmployeeUpserted) -> str:
    for kit in mesh.kits().values():
        for event in periods:
            await kit.handle(event.to_bytes())
    tpp = mesh.services["tpp"].state.kit
    assert await tpp.handle(factories.day_closed(nip, april(20), 1, NOW).to_bytes()) == "handled"
    asn = await signed_in(mesh, nip)
    page = await asn.get("/tpp?periode=2026-04")
    await asn.aclose()
    assert page.status_code == 200, page.text
    return page.text


async def test_a_transfer_on_the_16th_is_explained_in_words(mesh: Mesh) -> None:
    nip = factories.nip()
    page = await statement_page(
        mesh, nip,
        period(nip, KESEHATAN, 5_300_000),
        period(nip, PENDIDIKAN, 6_200_000, aktif_mulai=april(16)),
    )  # fmt: skip
    # (10 x 5,300,000 + 11 x 6,200,000) / 21 = 121,200,000 / 21 = 5,771,428.57 -> 5,771,429
    assert (
        "<p>Bulan ini Anda aktif 10 dari 21 hari kerja di Dinas Kesehatan (1–15 April, pagu "
        "Rp 5.300.000) dan 11 hari di Dinas Pendidikan (16–30 April, pagu Rp 6.200.000): "
        "pagu bulan ini (10 × 5.300.000 + 11 × 6.200.000) ÷ 21 = Rp 5.771.429 (dibulatkan ke "
        "rupiah terdekat).</p>"
    ) in page
    assert "Pagu Rp 5.771.429, dipotong" in page
    assert "di luar masa kerja" not in page  # every working day was in a period


async def test_a_join_on_the_10th_shows_the_days_outside_the_employment(mesh: Mesh) -> None:
    nip = factories.nip()
    page = await statement_page(mesh, nip, period(nip, PENDIDIKAN, 6_200_000,
                                                  aktif_mulai=april(10)))  # fmt: skip
    # 15 x 6,200,000 / 21 = 93,000,000 / 21 = 4,428,571.43 -> 4,428,571
    assert (
        "Bulan ini Anda aktif 15 dari 21 hari kerja di Dinas Pendidikan (10–30 April, pagu "
        "Rp 6.200.000): pagu bulan ini (15 × 6.200.000) ÷ 21 = Rp 4.428.571"
    ) in page
    assert "<p>Tanggal 1–9 April di luar masa kerja Anda (6 hari kerja): hari itu tidak " in page


async def test_a_whole_month_at_one_pagu_needs_no_explanation(mesh: Mesh) -> None:
    nip = factories.nip()
    page = await statement_page(mesh, nip, period(nip, KESEHATAN, 5_300_000))
    assert "Pagu Rp 5.300.000, dipotong" in page
    assert "Bulan ini Anda aktif" not in page and "di luar masa kerja" not in page
