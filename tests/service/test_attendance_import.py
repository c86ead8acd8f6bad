"""Scan import (CSV/XLSX nip,waktu) through HTTP: per-line reasons, good lines kept,
re-import changes nothing, a 50,000-line file."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.service.test_attendance_support import Harness

A = "199001012015011001"
B = "198503152010122002"
C = "198807172014032003"


async def test_scan_import_csv_and_xlsx(harness: Harness) -> None:
    h = harness
    await h.employee(A)
    await h.employee(B)
    csv_text = (
        "nip,waktu\n"
        f"{A},2026-01-05 07:31:02\n"
        f"{A},2026-01-32 07:31:02\n"
        f"{C},2026-01-05 07:31:02\n"
        f"{B},05/01/2026 16:00\n"
    )
    headers = {"content-type": "text/csv"}
    first = (await h.client.post("/api/v1/scans/import", content=csv_text, headers=headers)).json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (2, 0, 1)
    assert [e["line"] for e in first["errors"]] == [3]
    # C is not an employee yet: the line waits for it instead of being refused.
    assert first["menunggu_pegawai"] == 1
    assert [(w["line"], w["status"]) for w in first["waiting"]] == [(4, "menunggu")]
    again = (await h.client.post("/api/v1/scans/import", content=csv_text, headers=headers)).json()
    assert (again["accepted"], again["duplicate"]) == (0, 2)
    await h.flush()
    assert len(h.of("FingerprintRecorded")) == 2
    wb = Workbook()
    ws = wb.active
    ws.append(["NIP", "Waktu"])
    ws.append([A, "2026-01-06 07:00:00"])
    ws.append([A, "2026-01-05 07:31:02"])  # already imported from the CSV
    buf = io.BytesIO()
    wb.save(buf)
    x = await h.client.post("/api/v1/scans/import", files={"file": ("absen.xlsx", buf.getvalue())})
    assert x.status_code == 200, x.text
    assert (x.json()["accepted"], x.json()["duplicate"]) == (1, 1)
    await h.flush()
    assert {e.source for e in h.of("FingerprintRecorded")} == {"csv", "xlsx"}
    wrong = await h.client.post(
        "/api/v1/scans/import", content="nama,jam\nBudi,07:30\n", headers=headers
    )
    assert wrong.status_code == 422 and "kolom nip dan waktu" in wrong.json()["detail"]


async def test_large_scan_import(harness: Harness) -> None:
    h = harness
    await h.kit.relay.stop()  # only the store matters here; publishing 50,000 events is slow
    await h.employee(A)
    # 50,000 lines: one scan a minute for A from 2026-02-01 00:00 WIB on (distinct seconds),
    # with every 1,000th line broken.
    lines = ["nip,waktu"]
    for n in range(50_000):
        day, minute = divmod(n, 1440)
        stamp = (
            f"2026-02-{day + 1:02d} {minute // 60:02d}:{minute % 60:02d}:00"
            if day < 28
            else (f"2026-03-{day - 27:02d} {minute // 60:02d}:{minute % 60:02d}:00")
        )
        lines.append(f"{A},{'rusak' if n % 1000 == 999 else stamp}")
    r = await h.client.post(
        "/api/v1/scans/import", content="\n".join(lines), headers={"content-type": "text/csv"}
    )
    report = r.json()
    # 50,000 lines, 50 of them broken (n = 999, 1999, ..., 49999).
    assert (report["accepted"], report["rejected"]) == (49_950, 50)
