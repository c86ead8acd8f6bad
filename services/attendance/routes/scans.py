"""Scan routes: a batch pushed by a system, an employee's scans, the CSV/XLSX import and
the quarantine of scans waiting for their employee. The device pushes (/iclock) are in
../adms_api.py, the excessive-scans list in devices.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from contracts.nip import nip_problem
from services.attendance import commands, domain, importer, quarantine, queries, store
from services.attendance.routes.deps import max_future, read_import
from services.attendance.web import (
    BKPSDM,
    OPERATORS,
    require,
    require_employee,
    require_employee_between,
)
from services.kernel.calendar import WIB
from services.shared.http import Actor, Problem, Who, kit_of, now_of, period_bounds_or_422
from services.shared.kit import ServiceKit
from services.shared.openapi import Column, upload_body
from services.shared.scope import forbidden, require_opd_reader

router = APIRouter()

# What /docs says of each column the importers check (a column without words fails here).
_SCAN_FORMATS = {
    "nip": ("NIP 18 digit, sebagai teks (judul lain: nip_asn, nip_pegawai)", "199001012015011001"),
    "waktu": (
        "tanggal dan jam WIB: YYYY-MM-DD HH:MM:SS atau DD/MM/YYYY HH:MM "
        "(judul lain: waktu_scan, tanggal_jam)",
        "2026-11-02 07:31:02",
    ),
}
SCAN_IMPORT_BODY = upload_body(
    [Column(c, True, *_SCAN_FORMATS[c]) for c in importer.REQUIRED_COLUMNS],
    multipart=True,
    xlsx=True,
)


class ScanIn(BaseModel):
    nip: str
    waktu: str = Field(description="'YYYY-MM-DD HH:MM:SS' WIB or ISO 8601 with offset")
    device_sn: str | None = None


class ScanBatch(BaseModel):
    scans: list[ScanIn] = Field(min_length=1, max_length=10_000)


class LineResult(BaseModel):
    line: int
    nip: str
    status: str  # accepted, duplicate, rejected, menunggu (waiting for its employee)
    reason: str | None = None
    scan_id: str | None = None
    flag: str | None = None


def foreign_lines(
    kit: ServiceKit, who: Actor, lines: set[tuple[str, date]]
) -> set[tuple[str, date]]:
    """The (NIP, date) an operator may not record for (another OPD's on that date, or
    unknown here: both look the same); none for the city's writers."""
    if who.role != "operator":
        return set()
    with kit.uow() as uow:
        return commands.foreign_lines(uow, who, lines)


@router.post(
    "/scans",
    response_model=list[LineResult],
    summary="Kirim pindaian dari sistem lain",
    description=(
        "Pindaian yang dikirim sistem (jembatan, uji). Baris buruk dilaporkan, baris baik "
        "disimpan; baris NIP sah yang belum menjadi pegawai menunggu di karantina (status "
        "`menunggu`)."
    ),
    tags=["Pindaian"],
)
def post_scans(batch: ScanBatch, request: Request, who: Who) -> list[LineResult]:
    """Scans pushed by a system (bridges, tests). Bad lines are reported, good lines kept;
    lines of a valid NIP that is not an employee yet wait in quarantine (status menunggu).
    An operator adds scans of their OPD's employees only: other lines are refused alone,
    a batch with none of theirs is refused (403)."""
    require(who, OPERATORS, "menambah data pindaian")
    # each line: (NIP, time) or what is wrong with it
    read: list[tuple[str, datetime] | str] = []
    for item in batch.scans:
        problem = nip_problem(item.nip)
        if problem is None:
            try:
                read.append((item.nip, domain.parse_scan_time(item.waktu)))
                continue
            except ValueError as exc:
                problem = str(exc)
        read.append(problem)
    dated = {(x[0], domain.wib_date(x[1])) for x in read if isinstance(x, tuple)}
    # an operator's reach: the OPD of the employee on the scan's date
    outside = foreign_lines(kit_of(request), who, dated)
    if outside and outside == dated:
        raise forbidden("menambah pindaian pegawai di luar OPD Anda")
    results: list[LineResult | None] = []
    good: list[tuple[int, store.ScanIn]] = []
    for i, (item, got) in enumerate(zip(batch.scans, read, strict=True), start=1):
        if isinstance(got, tuple) and (got[0], domain.wib_date(got[1])) in outside:
            got = commands.outside_opd(item.nip)
        if isinstance(got, str):
            results.append(LineResult(line=i, nip=item.nip, status="rejected", reason=got))
            continue
        results.append(None)
        good.append((i, store.ScanIn(item.nip, got[1], item.device_sn)))
    good, outcomes, waiting = commands.record_pushed_scans(
        kit_of(request),
        good,
        [s.waktu for s in batch.scans],
        now=now_of(request),
        max_future=max_future(request),
    )
    for (i, scan), out in zip(good, outcomes, strict=True):
        results[i - 1] = LineResult(
            line=i,
            nip=scan.nip,
            status="accepted" if out.new else "duplicate",
            scan_id=out.scan_id,
            flag=out.flag,
        )
    for i, waiting_scan in waiting:
        results[i - 1] = LineResult(
            line=i,
            nip=waiting_scan.nip,
            status="menunggu",
            reason=f"NIP {waiting_scan.nip} belum terdaftar sebagai pegawai; pindaian disimpan dan "
            "diterapkan begitu data pegawainya diterima",
        )
    return [r for r in results if r is not None]


@router.get(
    "/employees/{nip}/scans",
    summary="Pindaian seorang pegawai",
    description=(
        "Pindaian satu NIP menurut waktu, paling banyak `limit` per jawaban; bila masih ada, "
        'header `Link` (rel="next") menunjuk halaman berikutnya.'
    ),
    tags=["Pindaian"],
)
def employee_scans(
    nip: str,
    request: Request,
    response: Response,
    who: Who,
    period: str | None = Query(None, description="YYYY-MM: scans of that month's dates"),
    after: str | None = Query(None, description="the scan_id the previous page ended with"),
    limit: int = Query(1000, ge=1, le=5000),
) -> list[dict[str, object]]:
    """One NIP's scans in time order, at most `limit` per response. When more follow, the
    Link header names the next page (rel="next", RFC 8288)."""
    bounds = period_bounds_or_422(period, "bad_period") if period else None
    with kit_of(request).uow() as uow:
        what = "melihat pindaian pegawai ini"
        if bounds is None:
            require_employee(uow, who, nip, what)
        else:  # the OPDs and atasan of the month's periods
            require_employee_between(uow, who, nip, *bounds, what)
        rows = queries.employee_scans(uow, nip, bounds, after, limit)
    if len(rows) > limit:
        rows = rows[:limit]
        following = request.url.include_query_params(after=rows[-1].scan_id, limit=limit)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [
        {
            "scan_id": row.scan_id,
            "ts": row.ts.isoformat(),
            "waktu_wib": row.ts.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S"),
            "work_date": str(row.work_date),
            "device_sn": row.device_sn,
            "source": row.source,
            "flag": row.flag,
        }
        for row in rows
    ]


@router.post(
    "/scans/import",
    summary="Impor pindaian dari berkas CSV/XLSX",
    description=(
        "Baris baik disimpan; tiap baris buruk (NIP tidak sah, waktu salah) dilaporkan dengan "
        "nomor baris dan alasannya; baris NIP sah yang belum menjadi pegawai menunggu di karantina"
        " (`menunggu_pegawai`) dan diterapkan begitu data pegawainya tiba. Mengimpor berkas yang "
        "sama lagi tidak mengubah apa pun. Dengan `migrasi=true` (BKPSDM memuat riwayat): hanya "
        "tanggal yang sudah lewat, hari-hari yang dicakup berkas langsung ditutup, dan tidak ada "
        "pemberitahuan kepada siapa pun."
    ),
    tags=["Pindaian"],
    openapi_extra=SCAN_IMPORT_BODY,
)
async def import_scans(
    request: Request,
    who: Who,
    migrasi: bool = Query(
        False, description="data migrasi BKPSDM: riwayat, ditutup langsung, tanpa pemberitahuan"
    ),
) -> dict[str, Any]:
    """CSV or XLSX with the columns nip,waktu: good lines kept, each bad line (an invalid
    NIP, a bad time) reported with its line number and reason; lines of a valid NIP that is
    not an employee yet wait in quarantine ("menunggu_pegawai", status "menunggu") and apply
    when the employee arrives; importing the same file again changes nothing. `migrasi`:
    BKPSDM loading history (issue 14: a past month must not touch the present)."""
    require(who, OPERATORS, "mengimpor data pindaian")
    if migrasi:
        require(who, BKPSDM, "mengimpor data migrasi pindaian")
    filename, data = await read_import(request)
    return await run_in_threadpool(
        commands.import_scans,
        kit_of(request),
        filename,
        data,
        now_of(request),
        max_future(request),
        who,
        migrasi,
    )


@router.get(
    "/scans/quarantine",
    summary="Pindaian yang menunggu pegawainya",
    description=(
        "Pindaian yang menunggu data pegawainya (`menunggu`) atau sudah diterapkan (`diterapkan`):"
        " jumlah per status dan baris terbaru, menurut OPD mesin, mesin, dan status."
    ),
    tags=["Pindaian"],
)
def scan_quarantine(
    request: Request,
    who: Who,
    opd: str | None = None,
    sn: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> dict[str, Any]:
    """Scans waiting for their employee (status menunggu) or released (diterapkan): counts
    per status, and the latest rows, by the OPD of the device, the device, the status."""
    if who.role == "operator" and opd is None:
        opd = getattr(who, "opd", None) or "-"  # an operator's view is their OPD's
    require_opd_reader(who, opd, "melihat karantina pindaian OPD ini")
    if status is not None and status not in quarantine.STATES:
        raise Problem(
            422, f"status harus salah satu dari: {', '.join(quarantine.STATES)}", code="bad_status"
        )
    with kit_of(request).uow() as uow:
        return quarantine.listing(uow, opd=opd, sn=sn, state=status, limit=max(1, min(limit, 5000)))
