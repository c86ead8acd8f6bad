"""Attendance's HTTP API: scans (batch JSON and CSV/XLSX import) and absences."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from contracts.events import AbsenceRecorded
from contracts.nip import nip_problem
from services.attendance import domain, importer, quarantine, store
from services.attendance.models import Absence, Scan
from services.attendance.web import OPERATORS, config_of, require
from services.kernel.calendar import WIB
from services.kernel.uploads import csv_lines, not_text_reason
from services.kernel.vocabulary import ABSENCE_KINDS, label
from services.shared.documents import document_response, read_body, read_upload
from services.shared.http import Actor, Problem, Who, kit_of, now_of, period_bounds_or_422
from services.shared.kit import ServiceKit
from services.shared.openapi import Column, upload_body
from services.shared.uow import UnitOfWork

router = APIRouter()

MAX_IMPORT_BYTES = 25 * 1024 * 1024
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
_ABSENCE_FORMATS = {
    "nip": ("NIP 18 digit", "199001012015011001"),
    "mulai": ("tanggal pertama: YYYY-MM-DD atau DD/MM/YYYY", "2026-11-02"),
    "selesai": ("tanggal terakhir (ikut dihitung), tidak sebelum mulai", "2026-11-04"),
    "jenis": ("salah satu: " + ", ".join(ABSENCE_KINDS), "cuti_tahunan"),
}
ABSENCE_IMPORT_BODY = upload_body(
    [Column(c, True, *_ABSENCE_FORMATS[c]) for c in domain.ABSENCE_COLUMNS], multipart=True
)
_IMPORT_WHAT = "berkas impor"
_IMPORT_HINT = "pecah menjadi beberapa berkas"
XLSX_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
)


# --- scans ----------------------------------------------------------------------------


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


def record_scan(
    uow: UnitOfWork,
    nip: str,
    ts: datetime,
    *,
    source: str,
    device_sn: str | None,
    received_at: datetime,
) -> tuple[str, bool]:
    """Store one scan and emit FingerprintRecorded; (scan_id, False) when already known."""
    out = store.record_scans(
        uow, [store.ScanIn(nip, ts, device_sn)], source=source, received_at=received_at
    )[0]
    return out.scan_id, out.new


def _max_future(request: Request) -> timedelta:
    return timedelta(minutes=config_of(request).max_future_minutes)


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
def post_scans(batch: ScanBatch, request: Request) -> list[LineResult]:
    """Scans pushed by a system (bridges, tests). Bad lines are reported, good lines kept;
    lines of a valid NIP that is not an employee yet wait in quarantine (status menunggu)."""
    kit = kit_of(request)
    now = now_of(request)
    results: list[LineResult | None] = []
    good: list[tuple[int, store.ScanIn]] = []
    for i, item in enumerate(batch.scans, start=1):
        problem = nip_problem(item.nip)
        if problem is None:
            try:
                ts = domain.parse_scan_time(item.waktu)
            except ValueError as exc:
                problem = str(exc)
        if problem:
            results.append(LineResult(line=i, nip=item.nip, status="rejected", reason=problem))
            continue
        results.append(None)
        good.append((i, store.ScanIn(item.nip, ts, item.device_sn)))
    with kit.uow() as uow:
        # A valid NIP attendance does not know (yet) is not credited: its scan waits.
        known = quarantine.known_nips(uow, {g.nip for _, g in good})
        waiting = [(i, g) for i, g in good if g.nip not in known]
        good = [(i, g) for i, g in good if g.nip in known]
        outcomes = store.record_scans(
            uow,
            [g for _, g in good],
            source="api",
            received_at=now,
            max_future=_max_future(request),
        )
        held = [
            quarantine.Held(
                pin=g.nip,
                ts=g.ts,
                device_sn=g.device_sn,
                source="api",
                raw=f"{g.nip},{batch.scans[i - 1].waktu}"[:500],
                reason=quarantine.EMPLOYEE_UNKNOWN,
            )
            for i, g in waiting
        ]
        quarantine.hold(uow, held, received_at=now)
        uow.commit()
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
    period: str | None = Query(None, description="YYYY-MM: scans of that month's dates"),
    after: str | None = Query(None, description="the scan_id the previous page ended with"),
    limit: int = Query(1000, ge=1, le=5000),
) -> list[dict[str, object]]:
    """One NIP's scans in time order, at most `limit` per response. When more follow, the
    Link header names the next page (rel="next", RFC 8288). The period is filtered by the
    database, not here: a NIP with a flood of scans must not cost a read of all of them."""
    query = select(Scan).where(Scan.nip == nip)
    if period:
        first, last = period_bounds_or_422(period, "bad_period")
        query = query.where(Scan.work_date >= first, Scan.work_date <= last)
    if after:
        query = query.where(Scan.scan_id > after)
    # For one NIP the scan_id (NIP@UTC second) sorts as the time does, and is unique.
    query = query.order_by(col(Scan.scan_id)).limit(limit + 1)
    with kit_of(request).uow() as uow:
        rows = uow.session.exec(query).all()
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


async def _upload(request: Request, field: str = "file") -> tuple[str, bytes]:
    """(file name, bytes) of a multipart upload or of the raw body; 413 with the real size
    past MAX_IMPORT_BYTES, without holding an over-size body in memory."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_part_size=MAX_IMPORT_BYTES)
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise Problem(422, f"berkas tidak ada pada kolom '{field}'", code="no_file")
        data = await read_upload(upload, MAX_IMPORT_BYTES, _IMPORT_WHAT, _IMPORT_HINT)
        return upload.filename or "berkas", data
    if ctype in ("text/csv", "text/plain", "application/csv"):
        return "berkas.csv", await read_body(request, MAX_IMPORT_BYTES, _IMPORT_WHAT, _IMPORT_HINT)
    if ctype in XLSX_TYPES:
        return "berkas.xlsx", await read_body(request, MAX_IMPORT_BYTES, _IMPORT_WHAT, _IMPORT_HINT)
    raise Problem(
        415,
        "kirim berkas CSV/XLSX sebagai multipart (kolom 'file') atau isi text/csv",
        code="unsupported_media_type",
    )


def _import_scans(
    kit: ServiceKit, filename: str, data: bytes, now: datetime, max_future: timedelta
) -> dict[str, Any]:
    # An invalid NIP is a bad line (refused alone, its reason in Bahasa); a valid NIP that
    # attendance does not know yet waits in quarantine for its EmployeeUpserted: a month
    # loaded right after the employee import must not come out empty.
    parsed = importer.import_file(filename, data)
    if parsed.fatal:
        raise Problem(422, parsed.rejected[0].reason, code="import_refused")
    source = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"
    with kit.uow() as uow:
        known = quarantine.known_nips(uow, {r.nip for r in parsed.rows})
        rows = [r for r in parsed.rows if r.nip in known]
        waiting = [r for r in parsed.rows if r.nip not in known]
        outcomes = store.record_scans(
            uow,
            [store.ScanIn(r.nip, r.ts) for r in rows],
            source=source,
            received_at=now,
            max_future=max_future,
        )
        held = [
            quarantine.Held(
                pin=r.nip,
                ts=r.ts,
                device_sn=None,
                source=source,
                raw=f"{filename}:{r.line_no} {r.nip},{r.ts.astimezone(WIB):%F %T}",
                reason=quarantine.EMPLOYEE_UNKNOWN,
            )
            for r in waiting
        ]
        quarantine.hold(uow, held, received_at=now)
        uow.commit()
    accepted = sum(1 for o in outcomes if o.new)
    flagged = [
        {"line": r.line_no, "flag": o.flag, "reason": domain.FLAG_MESSAGES[o.flag]}
        for r, o in zip(rows, outcomes, strict=True)
        if o.new and o.flag
    ]
    return {
        "file": filename,
        "accepted": accepted,
        "duplicate": len(outcomes) - accepted,
        "rejected": len(parsed.rejected),
        "menunggu_pegawai": len(waiting),
        "errors": [{"line": r.line_no, "reason": r.reason} for r in parsed.rejected],
        "waiting": [
            {
                "line": r.line_no,
                "nip": r.nip,
                "status": "menunggu",
                "reason": f"NIP {r.nip} belum terdaftar sebagai pegawai; pindaian disimpan "
                "dan diterapkan begitu data pegawainya diterima",
            }
            for r in waiting
        ],
        "flagged": flagged,
    }


@router.post(
    "/scans/import",
    summary="Impor pindaian dari berkas CSV/XLSX",
    description=(
        "Baris baik disimpan; tiap baris buruk (NIP tidak sah, waktu salah) dilaporkan dengan "
        "nomor baris dan alasannya; baris NIP sah yang belum menjadi pegawai menunggu di karantina"
        " (`menunggu_pegawai`) dan diterapkan begitu data pegawainya tiba. Mengimpor berkas yang "
        "sama lagi tidak mengubah apa pun."
    ),
    tags=["Pindaian"],
    openapi_extra=SCAN_IMPORT_BODY,
)
async def import_scans(request: Request, who: Who) -> dict[str, Any]:
    """CSV or XLSX with the columns nip,waktu: good lines kept, each bad line (an invalid
    NIP, a bad time) reported with its line number and reason; lines of a valid NIP that is
    not an employee yet wait in quarantine ("menunggu_pegawai", status "menunggu") and apply
    when the employee arrives; importing the same file again changes nothing."""
    require(who, OPERATORS, "mengimpor data pindaian")
    filename, data = await _upload(request)
    return await run_in_threadpool(
        _import_scans, kit_of(request), filename, data, now_of(request), _max_future(request)
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
    require(who, OPERATORS, "melihat karantina pindaian")
    if status is not None and status not in quarantine.STATES:
        raise Problem(
            422, f"status harus salah satu dari: {', '.join(quarantine.STATES)}", code="bad_status"
        )
    with kit_of(request).uow() as uow:
        return quarantine.listing(uow, opd=opd, sn=sn, state=status, limit=max(1, min(limit, 5000)))


# --- absences -------------------------------------------------------------------------

DOCUMENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}

# One reading of a typed absence for the form, the import and `sikerja simulate`.
parse_absence_date = domain.parse_absence_date
parse_absence = domain.parse_absence


def document_kind(data: bytes) -> str | None:
    """The document's type from its first bytes (not its name): pdf, jpg, png or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def absence_view(row: Absence) -> dict[str, Any]:
    return {
        "absence_id": row.absence_id,
        "nip": row.nip,
        "jenis": row.kind,
        "jenis_label": label(row.kind),
        "mulai": row.start.isoformat(),
        "selesai": row.end.isoformat(),
        "keterangan": row.note,
        "dibatalkan": row.cancelled,
        "dokumen": row.document_id is not None,
        "dokumen_nama": row.document_name,
        "dicatat_oleh": row.recorded_by,
        "dicatat_pada": row.recorded_at.isoformat(),
    }


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _check_operator_opd(uow: UnitOfWork, who: Actor, nip: str) -> None:
    """An OPD operator records only for employees of their own OPD (when both are known)."""
    if who.role != "operator" or not who.nip:
        return
    employee = uow.tables.employee
    me, them = uow.session.get(employee, who.nip), uow.session.get(employee, nip)
    if me is not None and them is not None and me.opd != them.opd:
        raise Problem(
            403, f"operator OPD {me.opd} tidak dapat mencatat pegawai OPD {them.opd}", code="opd"
        )


def record_absence(
    uow: UnitOfWork,
    nip: str,
    start: date,
    end: date,
    kind: str,
    *,
    now: datetime,
    recorded_by: str | None,
    note: str = "",
    document: tuple[str, str, str] | None = None,
) -> tuple[Absence, int]:
    """Store an absence, emit AbsenceRecorded, re-close its already-closed days.
    Returns the row and the number of days re-closed."""
    row = Absence(
        absence_id=str(uuid.uuid4()),
        nip=nip,
        kind=kind,
        start=start,
        end=end,
        note=note,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    if document is not None:
        row.document_id, row.document_name, row.document_type = document
    uow.session.add(row)
    event = AbsenceRecorded(
        occurred_at=now,
        producer=store.PRODUCER,
        nip=nip,
        absence_id=row.absence_id,
        kind=kind,
        start=start,
        end=end,
        document_id=row.document_id,
    )
    uow.emit(event)
    uow.session.flush()
    redone = store.reclose(
        uow, [(nip, d) for d in _days(start, end)], closed_at=now, causation_id=event.event_id
    )
    return row, len(redone)


def _evidence_dir(kit: ServiceKit) -> Path:
    folder = Path(kit.settings.data_dir) / "evidence" / "attendance"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@router.post(
    "/absences",
    status_code=201,
    summary="Catat ketidakhadiran",
    description=(
        "JSON, atau multipart dengan dokumen pendukung `dokumen` (PDF/JPG/PNG) yang boleh tidak "
        "ada."
    ),
    tags=["Ketidakhadiran"],
)
async def post_absence(request: Request, who: Who) -> dict[str, Any]:
    """Record an absence (JSON, or multipart with an optional 'dokumen' PDF/JPG/PNG)."""
    require(who, OPERATORS, "mencatat ketidakhadiran")
    cfg = config_of(request)
    kit = kit_of(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    document: bytes | None = None
    doc_name = ""
    if ctype == "multipart/form-data":
        form = await request.form(max_part_size=cfg.max_document_bytes + 1024)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("dokumen")
        if isinstance(upload, UploadFile):
            document = await read_upload(upload, cfg.max_document_bytes, "dokumen")
            doc_name = upload.filename or "dokumen"
    else:
        try:
            body = await request.json()
        except ValueError:
            raise Problem(
                400, "isi permintaan harus JSON atau multipart", code="bad_body"
            ) from None
        if not isinstance(body, dict):
            raise Problem(400, "isi permintaan harus objek JSON", code="bad_body")
        fields = {k: str(v) for k, v in body.items() if v is not None}
    try:
        nip, start, end, kind = parse_absence(
            fields.get("nip", ""),
            fields.get("mulai", ""),
            fields.get("selesai", ""),
            fields.get("jenis", ""),
            cfg.max_absence_days,
        )
    except ValueError as exc:
        raise Problem(422, str(exc), code="invalid_absence") from None
    stored: tuple[str, str, str] | None = None
    if document is not None and len(document) > 0:
        ext = document_kind(document)
        if ext is None:
            raise Problem(415, "dokumen harus PDF, JPG atau PNG", code="document_type")
        stored = (f"{uuid.uuid4().hex}.{ext}", doc_name[:200], DOCUMENT_TYPES[ext])
    now = now_of(request)

    def write() -> tuple[dict[str, Any], int]:
        with kit.uow() as uow:
            _check_operator_opd(uow, who, nip)
            # the document goes to disk only once the request is allowed, and leaves again
            # if the absence is not stored after all
            path = _evidence_dir(kit) / stored[0] if stored and document else None
            try:
                if path is not None and document is not None:
                    path.write_bytes(document)
                row, redone = record_absence(
                    uow,
                    nip,
                    start,
                    end,
                    kind,
                    now=now,
                    recorded_by=who.nip or who.role,
                    note=fields.get("keterangan", "")[:500],
                    document=stored,
                )
                uow.commit()
            except BaseException:
                if path is not None:
                    path.unlink(missing_ok=True)
                raise
            return absence_view(row), redone

    view, redone = await run_in_threadpool(write)
    return {**view, "hari_ditutup_ulang": redone}


@router.get("/absences", summary="Daftar ketidakhadiran", tags=["Ketidakhadiran"])
def list_absences(
    request: Request, nip: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    kit = kit_of(request)
    query = select(Absence).order_by(col(Absence.id))
    if nip:
        query = query.where(Absence.nip == nip)
    if period:
        first, last = period_bounds_or_422(period, "bad_period")
        query = query.where(Absence.start <= last, Absence.end >= first)
    with kit.uow() as uow:
        return [absence_view(r) for r in uow.session.exec(query).all()]


def _absence(uow: UnitOfWork, absence_id: str) -> Absence:
    row = uow.session.exec(select(Absence).where(Absence.absence_id == absence_id)).first()
    if row is None:
        raise Problem(404, f"ketidakhadiran {absence_id} tidak ditemukan", code="not_found")
    return row


@router.get("/absences/{absence_id}", summary="Satu ketidakhadiran", tags=["Ketidakhadiran"])
def get_absence(absence_id: str, request: Request) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        return absence_view(_absence(uow, absence_id))


@router.get(
    "/absences/{absence_id}/document",
    summary="Unduh dokumen ketidakhadiran",
    tags=["Ketidakhadiran"],
)
def absence_document(absence_id: str, request: Request) -> FileResponse:
    kit = kit_of(request)
    with kit.uow() as uow:
        row = _absence(uow, absence_id)
    if row.document_id is None:
        raise Problem(404, "ketidakhadiran ini tidak memiliki dokumen", code="no_document")
    path = _evidence_dir(kit) / row.document_id
    if not path.exists():
        raise Problem(404, "berkas dokumen tidak ditemukan di penyimpanan", code="no_document")
    return document_response(
        path, row.document_type or "application/octet-stream", row.document_name or "dokumen"
    )


@router.post(
    "/absences/{absence_id}/cancel",
    summary="Batalkan ketidakhadiran",
    description="Hari-hari yang sudah ditutup dihitung ulang.",
    tags=["Ketidakhadiran"],
)
def cancel_absence(absence_id: str, request: Request, who: Who) -> dict[str, Any]:
    """Cancel an absence: a new AbsenceRecorded (cancelled) and its closed days re-closed."""
    require(who, OPERATORS, "membatalkan ketidakhadiran")
    kit = kit_of(request)
    now = now_of(request)
    with kit.uow() as uow:
        row = _absence(uow, absence_id)
        _check_operator_opd(uow, who, row.nip)
        if row.cancelled:
            raise Problem(409, "ketidakhadiran ini sudah dibatalkan", code="already_cancelled")
        row.cancelled, row.cancelled_at = True, now
        uow.session.add(row)
        event = AbsenceRecorded(
            occurred_at=now,
            producer=store.PRODUCER,
            nip=row.nip,
            absence_id=row.absence_id,
            kind=row.kind,
            start=row.start,
            end=row.end,
            cancelled=True,
            document_id=row.document_id,
        )
        uow.emit(event)
        uow.session.flush()
        redone = store.reclose(
            uow,
            [(row.nip, d) for d in _days(row.start, row.end)],
            closed_at=now,
            causation_id=event.event_id,
        )
        uow.commit()
        return {**absence_view(row), "hari_ditutup_ulang": len(redone)}


def _import_absences(
    kit: ServiceKit, text: str, now: datetime, who: Actor, max_days: int
) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    header: list[str] | None = None
    cols: dict[str, int] = {}
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    with kit.uow() as uow:
        seen: set[tuple[str, date, date, str]] = {
            (a.nip, a.start, a.end, a.kind)
            for a in uow.session.exec(select(Absence).where(Absence.cancelled == False)).all()  # noqa: E712
        }
        for csv_line in csv_lines(text):
            line, fields = csv_line.line_no, csv_line.fields
            if csv_line.error is not None:
                counts["rejected"] += 1
                lines.append({"line": line, "status": "rejected", "reason": csv_line.error})
                continue
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip().lower().lstrip("\ufeff") for f in fields]
                missing = [c for c in domain.ABSENCE_COLUMNS if c not in header]
                if missing:
                    raise Problem(
                        422,
                        f"kolom {', '.join(missing)} tidak ditemukan; baris pertama harus "
                        f"berisi judul kolom '{','.join(domain.ABSENCE_COLUMNS)}'",
                        code="import_refused",
                    )
                cols = {c: header.index(c) for c in domain.ABSENCE_COLUMNS}
                continue
            get = lambda c: fields[cols[c]] if len(fields) > cols[c] else ""  # noqa: B023, E731
            try:
                nip, start, end, kind = parse_absence(
                    get("nip"), get("mulai"), get("selesai"), get("jenis"), max_days
                )
            except ValueError as exc:
                counts["rejected"] += 1
                lines.append({"line": line, "status": "rejected", "reason": str(exc)})
                continue
            if (nip, start, end, kind) in seen:
                counts["duplicate"] += 1
                lines.append({"line": line, "status": "duplicate", "reason": "sudah tercatat"})
                continue
            seen.add((nip, start, end, kind))
            row, _ = record_absence(
                uow, nip, start, end, kind, now=now, recorded_by=who.nip or who.role
            )
            counts["accepted"] += 1
            lines.append({"line": line, "status": "accepted", "absence_id": row.absence_id})
        uow.commit()
    if header is None:
        raise Problem(422, "berkas kosong; tidak ada baris judul maupun data", code="empty")
    return {**counts, "lines": lines}


@router.post(
    "/absences/import",
    summary="Impor ketidakhadiran dari berkas CSV",
    description=(
        "Tanggal mulai dan selesai ikut dihitung. Hasil per baris; baris yang sudah tercatat "
        "dilaporkan sebagai duplikat, jadi berkas yang sama dua kali tidak mencatat apa pun yang "
        "baru."
    ),
    tags=["Ketidakhadiran"],
    openapi_extra=ABSENCE_IMPORT_BODY,
)
async def import_absences(request: Request, who: Who) -> dict[str, Any]:
    """text/csv `nip,mulai,selesai,jenis` (inclusive dates): a result per line; lines already
    recorded are duplicates, so the same file twice records nothing new."""
    require(who, OPERATORS, "mengimpor ketidakhadiran")
    filename, data = await _upload(request)
    if filename.endswith(".xlsx"):
        raise Problem(415, "impor ketidakhadiran hanya menerima CSV", code="unsupported_media_type")
    if reason := not_text_reason(data[:8192]):
        raise Problem(422, reason, code="not_csv")
    text = importer._decode(data)
    return await run_in_threadpool(
        _import_absences,
        kit_of(request),
        text,
        now_of(request),
        who,
        config_of(request).max_absence_days,
    )
