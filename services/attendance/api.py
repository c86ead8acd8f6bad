"""Attendance's HTTP API: scans (batch JSON and CSV/XLSX import) and absences."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from contracts.events import AbsenceRecorded
from contracts.nip import nip_problem
from services.attendance import domain, importer, store
from services.attendance.models import Absence, Scan
from services.attendance.web import OPERATORS, config_of, now_utc, require
from services.shared.http import Actor, Problem, actor, kit_of
from services.shared.messaging import ServiceKit, UnitOfWork

router = APIRouter(tags=["attendance"])

MAX_IMPORT_BYTES = 25 * 1024 * 1024
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
    status: str  # accepted, duplicate, rejected
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


@router.post("/scans", response_model=list[LineResult])
def post_scans(batch: ScanBatch, request: Request) -> list[LineResult]:
    """Scans pushed by a system (bridges, tests). Bad lines are reported, good lines kept."""
    kit = kit_of(request)
    now = now_utc()
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
        outcomes = store.record_scans(
            uow,
            [g for _, g in good],
            source="api",
            received_at=now,
            max_future=_max_future(request),
        )
        uow.commit()
    for (i, item), out in zip(good, outcomes, strict=True):
        results[i - 1] = LineResult(
            line=i,
            nip=item.nip,
            status="accepted" if out.new else "duplicate",
            scan_id=out.scan_id,
            flag=out.flag,
        )
    return [r for r in results if r is not None]


@router.get("/employees/{nip}/scans")
def employee_scans(
    nip: str, request: Request, period: str | None = None
) -> list[dict[str, object]]:
    kit = kit_of(request)
    with kit.uow() as uow:
        query = select(Scan).where(Scan.nip == nip).order_by(Scan.ts)  # type: ignore[arg-type]
        rows = uow.session.exec(query).all()
    out = []
    for row in rows:
        if period and row.work_date.strftime("%Y-%m") != period:
            continue
        out.append(
            {
                "scan_id": row.scan_id,
                "ts": row.ts.isoformat(),
                "waktu_wib": row.ts.astimezone(domain.WIB).strftime("%Y-%m-%d %H:%M:%S"),
                "work_date": str(row.work_date),
                "device_sn": row.device_sn,
                "source": row.source,
                "flag": row.flag,
            }
        )
    return out


def active_nips(uow: UnitOfWork) -> set[str]:
    employee = uow._kit.base.Employee  # type: ignore[attr-defined]
    return set(uow.session.exec(select(employee.nip).where(employee.active == True)).all())  # noqa: E712


async def _upload(request: Request, field: str = "file") -> tuple[str, bytes]:
    """(file name, bytes) of a multipart upload or of the raw body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_part_size=MAX_IMPORT_BYTES)
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise Problem(422, f"berkas tidak ada pada kolom '{field}'", code="no_file")
        return upload.filename or "berkas", await upload.read()
    body = await request.body()
    if ctype in ("text/csv", "text/plain", "application/csv"):
        return "berkas.csv", body
    if ctype in XLSX_TYPES:
        return "berkas.xlsx", body
    raise Problem(
        415,
        "kirim berkas CSV/XLSX sebagai multipart (kolom 'file') atau isi text/csv",
        code="unsupported_media_type",
    )


def _import_scans(
    kit: ServiceKit, filename: str, data: bytes, now: datetime, max_future: timedelta
) -> dict[str, Any]:
    with kit.uow() as uow:
        known = active_nips(uow)
        parsed = importer.import_file(filename, data, known)
        if parsed.fatal:
            raise Problem(422, parsed.rejected[0].reason, code="import_refused")
        source = "xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else "csv"
        outcomes = store.record_scans(
            uow,
            [store.ScanIn(r.nip, r.ts) for r in parsed.rows],
            source=source,
            received_at=now,
            max_future=max_future,
        )
        uow.commit()
    accepted = sum(1 for o in outcomes if o.new)
    flagged = [
        {"line": r.line_no, "flag": o.flag, "reason": domain.FLAG_MESSAGES[o.flag]}
        for r, o in zip(parsed.rows, outcomes, strict=True)
        if o.new and o.flag
    ]
    return {
        "file": filename,
        "accepted": accepted,
        "duplicate": len(outcomes) - accepted,
        "rejected": len(parsed.rejected),
        "errors": [{"line": r.line_no, "reason": r.reason} for r in parsed.rejected],
        "flagged": flagged,
    }


@router.post("/scans/import")
async def import_scans(request: Request, who: Actor = Depends(actor)) -> dict[str, Any]:
    """CSV or XLSX with the columns nip,waktu: good lines kept, each bad line reported with
    its line number and reason; importing the same file again changes nothing."""
    require(who, OPERATORS, "mengimpor data pindaian")
    filename, data = await _upload(request)
    if len(data) > MAX_IMPORT_BYTES:
        raise Problem(413, "berkas impor melebihi 25 MB; pecah menjadi beberapa berkas")
    return await run_in_threadpool(
        _import_scans, kit_of(request), filename, data, now_utc(), _max_future(request)
    )


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
    employee = uow._kit.base.Employee  # type: ignore[attr-defined]
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
        kind=kind,  # type: ignore[arg-type]
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


@router.post("/absences", status_code=201)
async def post_absence(request: Request, who: Actor = Depends(actor)) -> dict[str, Any]:
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
            document = await upload.read(cfg.max_document_bytes + 1)
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
        if len(document) > cfg.max_document_bytes:
            limit = cfg.max_document_bytes // 1024
            raise Problem(413, f"dokumen melebihi batas {limit} KB", code="document_too_large")
        ext = document_kind(document)
        if ext is None:
            raise Problem(415, "dokumen harus PDF, JPG atau PNG", code="document_type")
        doc_id = f"{uuid.uuid4().hex}.{ext}"
        (_evidence_dir(kit) / doc_id).write_bytes(document)
        stored = (doc_id, doc_name[:200], DOCUMENT_TYPES[ext])
    now = now_utc()

    def write() -> tuple[dict[str, Any], int]:
        with kit.uow() as uow:
            _check_operator_opd(uow, who, nip)
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
            return absence_view(row), redone

    view, redone = await run_in_threadpool(write)
    return {**view, "hari_ditutup_ulang": redone}


@router.get("/absences")
def list_absences(
    request: Request, nip: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    kit = kit_of(request)
    query = select(Absence).order_by(Absence.id)  # type: ignore[arg-type]
    if nip:
        query = query.where(Absence.nip == nip)
    if period:
        try:
            year, month = (int(x) for x in period.split("-"))
            first = date(year, month, 1)
        except ValueError:
            raise Problem(422, "periode harus berformat YYYY-MM", code="bad_period") from None
        nxt = date(year + month // 12, month % 12 + 1, 1)
        query = query.where(Absence.start < nxt, Absence.end >= first)
    with kit.uow() as uow:
        return [absence_view(r) for r in uow.session.exec(query).all()]


def _absence(uow: UnitOfWork, absence_id: str) -> Absence:
    row = uow.session.exec(select(Absence).where(Absence.absence_id == absence_id)).first()
    if row is None:
        raise Problem(404, f"ketidakhadiran {absence_id} tidak ditemukan", code="not_found")
    return row


@router.get("/absences/{absence_id}")
def get_absence(absence_id: str, request: Request) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        return absence_view(_absence(uow, absence_id))


@router.get("/absences/{absence_id}/document")
def absence_document(absence_id: str, request: Request) -> FileResponse:
    kit = kit_of(request)
    with kit.uow() as uow:
        row = _absence(uow, absence_id)
    if row.document_id is None:
        raise Problem(404, "ketidakhadiran ini tidak memiliki dokumen", code="no_document")
    path = _evidence_dir(kit) / row.document_id
    if not path.exists():
        raise Problem(404, "berkas dokumen tidak ditemukan di penyimpanan", code="no_document")
    return FileResponse(path, media_type=row.document_type, filename=row.document_name)


@router.post("/absences/{absence_id}/cancel")
def cancel_absence(
    absence_id: str, request: Request, who: Actor = Depends(actor)
) -> dict[str, Any]:
    """Cancel an absence: a new AbsenceRecorded (cancelled) and its closed days re-closed."""
    require(who, OPERATORS, "membatalkan ketidakhadiran")
    kit = kit_of(request)
    now = now_utc()
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
            kind=row.kind,  # type: ignore[arg-type]
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
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[dict[str, Any]] = []
    header: list[str] | None = None
    cols: dict[str, int] = {}
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    with kit.uow() as uow:
        seen: set[tuple[str, date, date, str]] = {
            (a.nip, a.start, a.end, a.kind)
            for a in uow.session.exec(select(Absence).where(Absence.cancelled == False)).all()  # noqa: E712
        }
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            line = reader.line_num
            if header is None:
                header = [f.strip().lower().lstrip("\ufeff") for f in fields]
                missing = [c for c in ("nip", "mulai", "selesai", "jenis") if c not in header]
                if missing:
                    raise Problem(
                        422,
                        f"kolom {', '.join(missing)} tidak ditemukan; baris pertama harus "
                        "berisi judul kolom 'nip,mulai,selesai,jenis'",
                        code="import_refused",
                    )
                cols = {c: header.index(c) for c in ("nip", "mulai", "selesai", "jenis")}
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


@router.post("/absences/import")
async def import_absences(request: Request, who: Actor = Depends(actor)) -> dict[str, Any]:
    """text/csv `nip,mulai,selesai,jenis` (inclusive dates): a result per line; lines already
    recorded are duplicates, so the same file twice records nothing new."""
    require(who, OPERATORS, "mengimpor ketidakhadiran")
    filename, data = await _upload(request)
    if filename.endswith(".xlsx"):
        raise Problem(415, "impor ketidakhadiran hanya menerima CSV", code="unsupported_media_type")
    text = importer._decode(data)
    return await run_in_threadpool(
        _import_absences, kit_of(request), text, now_utc(), who, config_of(request).max_absence_days
    )
