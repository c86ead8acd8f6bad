"""The migration import route: BKPSDM's CSV of past reports (`nip,tanggal,status`), read
line by line, each good line a report once activity's projection unlocks its date."""

from __future__ import annotations

import asyncio
import time as _time
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request

from contracts.nip import nip_problem
from services.activity import commands, queries
from services.activity.routes.deps import Rules, forbidden, today
from services.kernel.calendar import WIB, year_problem
from services.kernel.uploads import csv_lines, not_text_reason
from services.shared.documents import read_body
from services.shared.http import Kit, Now, Problem, Who
from services.shared.kit import ServiceKit
from services.shared.openapi import Column, upload_body

router = APIRouter()

MAX_IMPORT_BYTES = 25 * 1024 * 1024  # migration CSV, ~50 bytes a line: room for 500,000 lines
IMPORT_COLUMNS = ("nip", "tanggal", "status")
DECIDED_COLUMN = "diputuskan"  # optional: when the historical decision was taken
# What /docs says of each column (a column without words fails here).
_FORMATS = {
    "nip": ("NIP 18 digit", "199001012015011001"),
    "tanggal": ("tanggal laporan YYYY-MM-DD, sudah lewat", "2026-10-05"),
    "status": ("keputusan lama: " + ", ".join(commands.IMPORT_STATUSES), "approved"),
    DECIDED_COLUMN: (
        "waktu keputusan lama (YYYY-MM-DD HH:MM WIB, atau ISO 8601 dengan zona); kosong: akhir "
        "hari laporan",
        "2026-10-06 09:15",
    ),
}
IMPORT_BODY = upload_body(
    [Column(c, True, *_FORMATS[c]) for c in IMPORT_COLUMNS]
    + [Column(DECIDED_COLUMN, False, *_FORMATS[DECIDED_COLUMN])]
)


def _decided_at(raw: str, day: date, now: datetime) -> datetime | str:
    """The decision time of a line, or why it is refused (naive times are WIB)."""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return "waktu keputusan harus berformat YYYY-MM-DD HH:MM"
    if at.tzinfo is None:
        at = at.replace(tzinfo=WIB)
    if at.astimezone(WIB).date() < day or at > now:
        return "waktu keputusan harus antara tanggal laporan dan saat impor"
    return at


def _parse_import(
    text: str, today: date, *, now: datetime | None = None, times: dict[int, datetime] | None = None
) -> tuple[list[tuple[int, str, date, str]], list[dict[str, Any]]]:
    """Good lines (line, nip, date, status) and refused ones; a line's decision time, when
    the optional column has one, goes to `times` by line (`now` bounds it)."""
    good: list[tuple[int, str, date, str]] = []
    bad: list[dict[str, Any]] = []
    # line by line: a quote left open spoils its own line, not the ones after it
    lines = csv_lines(text)
    first = next((ln for ln in lines if ln.error or any(f.strip() for f in ln.fields)), None)
    fieldnames = first.fields if first is not None and first.error is None else []
    missing = set(IMPORT_COLUMNS) - set(fieldnames)
    if missing:
        raise Problem(
            422,
            f"Kepala berkas CSV harus memuat kolom {','.join(IMPORT_COLUMNS)} (kurang: "
            + ", ".join(sorted(missing))
            + ").",
            code="invalid_header",
        )
    for csv_line in lines:
        line = csv_line.line_no
        if csv_line.error is not None:
            bad.append({"line": line, "code": "unreadable_line", "reason": csv_line.error})
            continue
        if not any(f.strip() for f in csv_line.fields):
            continue
        rec = dict(zip(fieldnames, csv_line.fields, strict=False))
        nip = (rec.get("nip") or "").strip()
        raw_date = (rec.get("tanggal") or "").strip()
        status = (rec.get("status") or "").strip().lower()
        refusal: tuple[str, str] | None = None
        day: date | None = None
        if problem := nip_problem(nip):
            refusal = ("invalid_nip", problem)
        else:
            try:
                day = date.fromisoformat(raw_date)
            except ValueError:
                refusal = ("invalid_date", "tanggal harus berformat YYYY-MM-DD")
            if day is not None and (problem := year_problem(day.year)):
                refusal = ("invalid_date", problem)
        if refusal is None and status not in commands.IMPORT_STATUSES:
            refusal = ("invalid_status", "status harus approved, pending atau rejected")
        if refusal is None and day is not None and day > today:
            refusal = ("future_date", "tanggal belum tiba")
        raw_decided = (rec.get(DECIDED_COLUMN) or "").strip()
        if refusal is None and day is not None and raw_decided and times is not None:
            found = _decided_at(raw_decided, day, now or datetime.now(WIB))
            if isinstance(found, str):
                refusal = ("invalid_decided_at", found)
            else:
                times[line] = found
        if refusal is not None or day is None:
            code, reason = refusal or ("invalid_date", "tanggal tidak valid")
            bad.append(
                {"line": line, "nip": nip, "tanggal": raw_date, "code": code, "reason": reason}
            )
            continue
        good.append((line, nip, day, status))
    return good, bad


async def _settle(kit: ServiceKit, wait_s: float) -> None:
    """Wait while the day-unlock projection is still growing (the scans of the same migration
    were posted to attendance moments ago and may still be on their way), at most wait_s."""

    def count() -> int:
        with kit.uow() as uow:
            return queries.unlock_count(uow)

    deadline = _time.monotonic() + wait_s
    last, stable = await asyncio.to_thread(count), 0
    while _time.monotonic() < deadline and stable < 3:
        await asyncio.sleep(0.5)
        now_count = await asyncio.to_thread(count)
        stable = stable + 1 if now_count == last else 0
        last = now_count


@router.post(
    "/reports/import",
    summary="Impor laporan lama dari berkas CSV (migrasi)",
    description=(
        "Oleh BKPSDM. Satu baris menjadi laporan begitu tanggalnya terbuka (ada pindaian atau "
        "dinas luar); `approved`/`rejected` adalah keputusan lama yang dicatat persetujuan dan "
        "diteruskan ke TPP seperti keputusan lain, pada waktu kolom `diputuskan` (kosong: akhir "
        "hari laporan). Baris pegawai tanpa atasan pada tanggalnya tidak dihitung `accepted` "
        "tetapi `flagged` (dengan alasannya di `warnings`): hanya penilai yang ditetapkan BKPSDM "
        "yang dapat memutuskannya. Batas waktu pelaporan tidak berlaku untuk riwayat."
    ),
    tags=["Laporan kegiatan"],
    openapi_extra=IMPORT_BODY,
)
async def import_reports(
    request: Request,
    who: Who,
    now: Now,
    kit: Kit,
    rules: Rules,
    wait_s: float = Query(15.0, ge=0, le=120, description="wait for scans still on their way"),
) -> dict[str, Any]:
    """BKPSDM migration import (text/csv `nip,tanggal,status[,diputuskan]`). A line becomes a
    report when activity's projection unlocks that date; `approved`/`rejected` is the
    historical decision, carried on ActivityReported (`imported_decision`, and its time
    `imported_decided_at`) so approval records it and announces it to tpp like any decision.
    A line of an employee with no atasan known that day is imported but `flagged`, per line:
    activity cannot know whether approval has a penilai for them. The filing deadline does
    not apply to history."""
    if not who.is_("bkpsdm"):
        raise forbidden("Impor data migrasi laporan hanya dapat dilakukan oleh BKPSDM.")
    raw = await read_body(request, MAX_IMPORT_BYTES, "berkas impor")
    if reason := not_text_reason(raw[:8192]):
        raise Problem(422, reason, code="not_csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "Berkas harus berupa teks CSV UTF-8.", code="invalid_encoding") from None
    times: dict[int, datetime] = {}
    good, bad = _parse_import(text, today(now), now=now, times=times)
    nips = sorted({nip for _, nip, _, _ in good})

    def missing() -> int:
        with kit.uow() as uow:
            unlocked = queries.unlocked_set(uow, nips)
        return sum(1 for _, nip, day, _ in good if (nip, day) not in unlocked)

    if good and wait_s > 0 and await asyncio.to_thread(missing) > 0:
        await _settle(kit, wait_s)

    flagged: list[dict[str, Any]] = []

    def apply() -> dict[str, Any]:
        with kit.uow() as uow:
            accepted, duplicate = commands.import_reports(
                uow, good, bad, now, rules.calendar_for, decided_at=times, flagged=flagged
            )
            uow.commit()
        bad.sort(key=lambda b: b["line"])
        return {
            "accepted": accepted,
            "duplicate": duplicate,
            "rejected": len(bad),
            "errors": bad,
            # imported, but only a penilai set in approval can decide them (no atasan known)
            "flagged": len(flagged),
            "warnings": flagged,
        }

    return await asyncio.to_thread(apply)
