"""The city dashboard's pure pieces: percent in Indonesian style, the six months back across
a year's end, the bar and line geometry, and the devices-offline grouping."""

from __future__ import annotations

from services.kernel import bahasa
from services.portal import charts
from services.portal.routes.work import _offline_devices, months_back


def test_percent_reads_with_a_decimal_comma() -> None:
    assert bahasa.persen(83.3) == "83,3%"
    assert bahasa.persen(100.0) == "100,0%"
    assert bahasa.persen(None) == "-"


def test_six_months_back_cross_the_years_end() -> None:
    assert months_back("2026-03", 6) == [
        "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"
    ]  # fmt: skip
    assert months_back("2026-10", 1) == ["2026-10"]


def test_bars_are_scaled_to_the_top() -> None:
    # span = 720 - 270 - 110 = 340 px: 50 of 100 -> 170 px, 100 -> 340, 12.5 -> 42.5 -> 42
    chart = charts.hbars([("A", 50.0), ("B", 100.0), ("C", 12.5)], top=100)
    assert [(b["label"], b["y"], b["width"]) for b in chart["bars"]] == [
        ("A", 0, 170), ("B", 28, 340), ("C", 56, 42)
    ]  # fmt: skip
    assert chart["height"] == 3 * 28
    assert charts.hbars([])["bars"] == []  # nothing to draw: no division by zero


def test_lines_share_one_scale_from_zero() -> None:
    # inner height 220 - 16 - 36 = 168: 0 -> y 184 (the base), 200 -> 16, 100 -> 100;
    # x from 16 to 704 in one step of 688
    chart = charts.lines(["Sep", "Okt"], [("a", [0, 200]), ("b", [100, 100])])
    assert [s["path"] for s in chart["series"]] == ["16,184 704,16", "16,100 704,100"]
    assert [t["anchor"] for t in chart["ticks"]] == ["start", "end"]


def test_devices_not_online_are_counted_per_opd_and_listed() -> None:
    def device(sn: str, opd: str, status: str, seen: str | None) -> dict[str, object]:
        return {"sn": sn, "opd": opd, "status": status, "terakhir_terhubung": seen}

    got = _offline_devices([
        device("S1", "A", "online", "2026-10-05T07:00:00+00:00"),
        device("S2", "A", "offline", "2026-10-03T07:00:00+00:00"),
        device("S3", "B", "belum_pernah", None),
        device("S4", "B", "offline", "2026-10-01T07:00:00+00:00"),
    ])  # fmt: skip
    assert got["opds"] == [
        {"opd": "B", "total": 2, "offline": 2},
        {"opd": "A", "total": 2, "offline": 1},
    ]
    # never connected first, then the longest silent
    assert [d["sn"] for d in got["offline"]] == ["S3", "S4", "S2"]
    assert (got["total"], got["total_offline"]) == (4, 3)
