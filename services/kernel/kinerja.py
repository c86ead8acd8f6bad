"""The monthly kinerja result's vocabulary (docs/rules.md "Monthly kinerja result"): the two
ratings, their SIASN codes and the predikat matrix. Shared by approval (which shows the
predikat to the atasan before confirming) and siasn (which sends it); pure, no framework."""

from __future__ import annotations

DI_ATAS, SESUAI, DI_BAWAH = "di_atas", "sesuai", "di_bawah"
RATINGS = (DI_ATAS, SESUAI, DI_BAWAH)
# SIASN's codes for hasil kerja / perilaku kerja (PermenPANRB 6/2022)
RATING_CODE = {DI_ATAS: 1, SESUAI: 2, DI_BAWAH: 3}
RATING_LABEL = {
    DI_ATAS: "Di atas ekspektasi",
    SESUAI: "Sesuai ekspektasi",
    DI_BAWAH: "Di bawah ekspektasi",
}
SANGAT_BAIK, BAIK, BUTUH_PERBAIKAN, KURANG, SANGAT_KURANG = 1, 2, 3, 4, 5
PREDIKAT_NAMA = {
    SANGAT_BAIK: "Sangat Baik",
    BAIK: "Baik",
    BUTUH_PERBAIKAN: "Butuh Perbaikan",
    KURANG: "Kurang",
    SANGAT_KURANG: "Sangat Kurang",
}


def predikat(hasil: str, perilaku: str) -> int:
    """The predikat (SIASN kuadranKinerjaNilai) of the two ratings, by the matrix."""
    if hasil not in RATING_CODE or perilaku not in RATING_CODE:
        raise ValueError(f"penilaian tidak dikenal: {hasil!r}, {perilaku!r}")
    if hasil == DI_BAWAH:
        return SANGAT_KURANG if perilaku == DI_BAWAH else BUTUH_PERBAIKAN
    if perilaku == DI_BAWAH:
        return KURANG
    if hasil == DI_ATAS and perilaku == DI_ATAS:
        return SANGAT_BAIK
    return BAIK
