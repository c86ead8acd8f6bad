"""Absence routes: record one (JSON, or multipart with a supporting document), list, read,
download its document, cancel, and the CSV import."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from services.attendance import commands, domain, importer, queries
from services.attendance.routes.deps import read_import
from services.attendance.web import (
    OPERATORS,
    config_of,
    may_see_between,
    require,
    require_employee_between,
)
from services.kernel.uploads import not_text_reason
from services.kernel.vocabulary import ABSENCE_KINDS
from services.shared.documents import document_response, read_upload
from services.shared.http import Problem, Who, kit_of, now_of, period_bounds_or_422
from services.shared.openapi import Column, upload_body
from services.shared.scope import CITY_READERS, forbidden

router = APIRouter()

_ABSENCE_FORMATS = {
    "nip": ("NIP 18 digit", "199001012015011001"),
    "mulai": ("tanggal pertama: YYYY-MM-DD atau DD/MM/YYYY", "2026-11-02"),
    "selesai": ("tanggal terakhir (ikut dihitung), tidak sebelum mulai", "2026-11-04"),
    "jenis": ("salah satu: " + ", ".join(ABSENCE_KINDS), "cuti_tahunan"),
}
ABSENCE_IMPORT_BODY = upload_body(
    [Column(c, True, *_ABSENCE_FORMATS[c]) for c in domain.ABSENCE_COLUMNS], multipart=True
)


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
        nip, start, end, kind = domain.parse_absence(
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
        ext = domain.document_kind(document)
        if ext is None:
            raise Problem(415, "dokumen harus PDF, JPG atau PNG", code="document_type")
        stored = (f"{uuid.uuid4().hex}.{ext}", doc_name[:200], domain.DOCUMENT_TYPES[ext])
    view, redone = await run_in_threadpool(
        commands.record_absence_with_document,
        kit_of(request),
        who,
        nip,
        start,
        end,
        kind,
        now=now_of(request),
        note=fields.get("keterangan", "")[:500],
        document=document,
        stored=stored,
    )
    return {**view, "hari_ditutup_ulang": redone}


@router.get("/absences", summary="Daftar ketidakhadiran", tags=["Ketidakhadiran"])
def list_absences(
    request: Request, who: Who, nip: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    """One NIP's absences (if the caller may see that person's), or without a NIP: the
    city's for its readers, the OPD's for an operator, their own for anyone else."""
    bounds = period_bounds_or_422(period, "bad_period") if period else None
    opd = None
    if nip is None and who.role == "operator":
        opd = getattr(who, "opd", None) or "-"
    elif nip is None and who.role not in CITY_READERS:
        nip = who.nip or "-"
    with kit_of(request).uow() as uow:
        if nip is None or who.role in CITY_READERS or nip == who.nip:
            return queries.absences(uow, nip, bounds, opd=opd)
        # someone else's: those of the dates the caller reaches (the period of each date)
        if not may_see_between(uow, who, nip, None, None):
            raise forbidden("melihat ketidakhadiran pegawai ini")
        return [
            a
            for a in queries.absences(uow, nip, bounds)
            if may_see_between(
                uow, who, nip, date.fromisoformat(a["mulai"]), date.fromisoformat(a["selesai"])
            )
        ]


@router.get("/absences/{absence_id}", summary="Satu ketidakhadiran", tags=["Ketidakhadiran"])
def get_absence(absence_id: str, request: Request, who: Who) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        row = queries.absence(uow, absence_id)
        require_employee_between(
            uow, who, row.nip, row.start, row.end, "melihat ketidakhadiran ini"
        )
        return queries.absence_view(row)


@router.get(
    "/absences/{absence_id}/document",
    summary="Unduh dokumen ketidakhadiran",
    tags=["Ketidakhadiran"],
)
def absence_document(absence_id: str, request: Request, who: Who) -> FileResponse:
    kit = kit_of(request)
    with kit.uow() as uow:
        row = queries.absence(uow, absence_id)
        what = "mengunduh dokumen ketidakhadiran ini"
        require_employee_between(uow, who, row.nip, row.start, row.end, what)
    if row.document_id is None:
        raise Problem(404, "ketidakhadiran ini tidak memiliki dokumen", code="no_document")
    path = queries.evidence_dir(kit) / row.document_id
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
    now = now_of(request)
    with kit_of(request).uow() as uow:
        row, redone = commands.cancel_absence(uow, absence_id, who, now)
        uow.commit()
        return {**queries.absence_view(row), "hari_ditutup_ulang": redone}


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
    filename, data = await read_import(request)
    if filename.endswith(".xlsx"):
        raise Problem(415, "impor ketidakhadiran hanya menerima CSV", code="unsupported_media_type")
    if reason := not_text_reason(data[:8192]):
        raise Problem(422, reason, code="not_csv")
    text = importer._decode(data)
    return await run_in_threadpool(
        commands.import_absences,
        kit_of(request),
        text,
        now_of(request),
        who,
        config_of(request).max_absence_days,
    )
