"""The predikat matrix of docs/rules.md "Monthly kinerja result" and the delivery retry wait."""

from __future__ import annotations

import pytest

from services.siasn.domain import RATING_CODE, predikat, retry_delay_s

# (hasil kerja, perilaku kerja) -> SIASN kuadranKinerjaNilai, written from the rule text
MATRIX = {
    ("di_atas", "di_atas"): 1,  # Sangat Baik
    ("di_atas", "sesuai"): 2,  # Baik
    ("sesuai", "sesuai"): 2,
    ("sesuai", "di_atas"): 2,
    ("di_bawah", "sesuai"): 3,  # Butuh Perbaikan
    ("di_bawah", "di_atas"): 3,
    ("di_atas", "di_bawah"): 4,  # Kurang / misconduct
    ("sesuai", "di_bawah"): 4,
    ("di_bawah", "di_bawah"): 5,  # Sangat Kurang
}


@pytest.mark.parametrize(("hasil", "perilaku"), list(MATRIX))
def test_predikat_matrix(hasil: str, perilaku: str) -> None:
    assert predikat(hasil, perilaku) == MATRIX[(hasil, perilaku)]


def test_the_matrix_covers_every_pair_and_siasn_codes() -> None:
    assert set(MATRIX) == {(h, p) for h in RATING_CODE for p in RATING_CODE}
    assert RATING_CODE == {"di_atas": 1, "sesuai": 2, "di_bawah": 3}


def test_unknown_rating_is_refused() -> None:
    with pytest.raises(ValueError, match="tidak dikenal"):
        predikat("baik", "sesuai")


def test_retry_wait_doubles_within_jitter_and_is_capped() -> None:
    assert retry_delay_s(1, 30, 1800, 0.0) == 15  # half the step at the lowest jitter
    assert retry_delay_s(1, 30, 1800, 0.999) == pytest.approx(29.985)
    assert retry_delay_s(3, 30, 1800, 0.0) == 60  # 30 * 2**2 / 2
    assert retry_delay_s(20, 30, 1800, 0.0) == 900  # the cap, halved by the lowest jitter
