"""TPP's annulment routes (RULES.md "Annulled cuts"): BKPSDM records an annulment with its
document, lists, reads, downloads the document, revokes; the audit log of both actions.

BKPSDM (and the service account) write; BKPSDM and the auditor read city-wide; an operator
reads the annulments of their own OPD (an OPD's, or one NIP's whose period on that date is in
it). An ASN sees annulled lines on their own statement, not here.
"""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from services.kernel.calendar import WIB
from services.kernel.uploads import DOCUMENT_TYPES, document_kind
from services.shared.documents import document_response, read_upload
from services.shared.http import Actor, Problem, Who, kit_of, period_key
from services.shared.kit import ServiceKit
from services.shared.scope import (
    CITY_READERS,
    CITY_WRITERS,
    caller_opd,
    forbidden,
    require_opd_reader,
    require_roles,
)
from services.tpp import annul, domain
from services.tpp.models import ANNULMENT_ACTIVE, ANNULMENT_REVOKED

router = APIRouter()

FIELDS = ("tanggal", "nip", "opd", "kode", "alasan", "usulan")
TAGS: list[str | Enum] = ["Pembatalan potongan"]
_STATUSES = {"aktif": ANNULMENT_ACTIVE, "dicabut": ANNULMENT_REVOKED}

CREATE_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data: `tanggal` (YYYY-MM-DD), tepat satu dari `nip` atau `opd`, "
            "`kode` (boleh kosong: semua potongan tanggal itu), `alasan`, `usulan` (boleh "
            "kosong: usulan yang dikonfirmasi, mis. usulan gangguan mesin dari attendance) dan "
            "`dokumen` (PDF/JPG/PNG, wajib)."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["tanggal", "alasan", "dokumen"],
                    "properties": {
                        **{f: {"type": "string"} for f in FIELDS},
                        "dokumen": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


class RevokeIn(BaseModel):
    alasan: str = Field(min_length=1, max_length=domain.MAX_REASON)


def _record(
    kit: ServiceKit,
    who: Actor,
    fields: dict[str, str],
    document: bytes,
    stored: annul.StoredDocument,
) -> dict[str, Any]:
    now = kit.clock()
    with kit.uow() as uow:
        try:
            request = domain.parse_annulment(
                fields.get("tanggal", ""),
                fields.get("nip", ""),
                fields.get("opd", ""),
                fields.get("kode", ""),
                fields.get("alasan", ""),
                lambda day: annul.codes_on(uow, day),
                today=now.astimezone(WIB).date(),
            )
        except ValueError as exc:
            raise Problem(422, str(exc), code="invalid_annulment") from None
        # the document goes to disk only once the annulment is valid, and leaves again if
        # the annulment is not stored after all
        path = annul.evidence_dir(kit) / stored.file_id
        try:
            path.write_bytes(document)
            result = annul.record(
                uow, request, stored, who, now, proposal=fields.get("usulan", "")[:500]
            )
            uow.commit()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return result


@router.post(
    "/annulments",
    status_code=201,
    summary="Catat pembatalan potongan",
    description=(
        "Oleh BKPSDM: potongan satu tanggal (satu NIP atau satu OPD, satu kode atau semua) "
        "dibatalkan dengan alasan dan dokumen; rincian TPP yang terkena dihitung ulang saat itu "
        "juga (bulan yang sudah ditutup: koreksi tertunda)."
    ),
    tags=TAGS,
    openapi_extra=CREATE_BODY,
)
async def create_annulment(request: Request, who: Who) -> dict[str, Any]:
    require_roles(who, CITY_WRITERS, "membatalkan potongan TPP; hanya BKPSDM yang dapat")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise Problem(
            422,
            "kirim sebagai multipart/form-data dengan dokumen pendukung `dokumen`",
            code="invalid_annulment",
        )
    form = await request.form(max_part_size=annul.MAX_DOCUMENT_BYTES + 1024)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    upload = form.get("dokumen")
    if not isinstance(upload, UploadFile):
        raise Problem(
            422, "dokumen pendukung (PDF/JPG/PNG) wajib dilampirkan", code="document_missing"
        )
    document = await read_upload(upload, annul.MAX_DOCUMENT_BYTES, "dokumen")
    if not document:
        raise Problem(422, "dokumen pendukung kosong", code="document_missing")
    kind = document_kind(document)
    if kind is None:
        raise Problem(
            422,
            "dokumen pendukung harus PDF, JPG atau PNG (dilihat dari isinya, bukan namanya)",
            code="document_type",
        )
    stored = annul.StoredDocument(
        f"{uuid.uuid4().hex}.{kind}", (upload.filename or "dokumen")[:200], DOCUMENT_TYPES[kind]
    )
    return await run_in_threadpool(_record, kit_of(request), who, fields, document, stored)


def _reader_opd(who: Actor, opd: str | None) -> str | None:
    """The OPD filter a reader gets: an operator only their own, the city readers any."""
    if who.role in CITY_READERS:
        return opd
    if who.role == "operator" and caller_opd(who):
        if opd is not None and opd != caller_opd(who):
            raise forbidden("melihat pembatalan potongan OPD lain")
        return caller_opd(who)
    raise forbidden("melihat daftar pembatalan potongan")


@router.get(
    "/annulments",
    summary="Daftar pembatalan potongan",
    description="Saring per bulan, OPD, NIP, dan status (aktif/dicabut). Operator: OPD-nya.",
    tags=TAGS,
)
def list_annulments(
    request: Request,
    who: Who,
    period: str | None = None,
    opd: str | None = None,
    nip: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    scope = _reader_opd(who, opd)
    month = period_key(period) if period else None
    if status is not None and status not in _STATUSES:
        raise Problem(422, "status harus aktif atau dicabut", code="bad_status")
    with kit_of(request).uow() as uow:
        rows = annul.listed(
            uow,
            period=month,
            opd=scope,
            nip=nip,
            status=_STATUSES[status] if status else None,
        )
        return [annul.view(r) for r in rows]


@router.get(
    "/annulments/{annulment_id}",
    summary="Satu pembatalan potongan",
    description="Dengan riwayat pencatatan dan pencabutannya.",
    tags=TAGS,
)
def get_annulment(annulment_id: str, request: Request, who: Who) -> dict[str, Any]:
    with kit_of(request).uow() as uow:
        row = annul.get(uow, annulment_id)
        require_opd_reader(who, row.scope_opd, "melihat pembatalan potongan ini")
        entries = annul.log_entries(uow, annulment_id=annulment_id)
        return {**annul.view(row), "riwayat": [annul.log_view(e, a) for e, a in entries]}


@router.get(
    "/annulments/{annulment_id}/document",
    summary="Unduh dokumen pembatalan potongan",
    tags=TAGS,
)
def annulment_document(annulment_id: str, request: Request, who: Who) -> FileResponse:
    kit = kit_of(request)
    with kit.uow() as uow:
        row = annul.get(uow, annulment_id)
        require_opd_reader(who, row.scope_opd, "mengunduh dokumen pembatalan ini")
    path = annul.evidence_dir(kit) / row.document_id
    if not path.exists():
        raise Problem(404, "berkas dokumen tidak ditemukan di penyimpanan", code="no_document")
    return document_response(path, row.document_type, row.document_name or "dokumen")


@router.post(
    "/annulments/{annulment_id}/revoke",
    summary="Cabut pembatalan potongan",
    description="Oleh BKPSDM, dengan alasan: potongannya berlaku lagi dan dihitung ulang.",
    tags=TAGS,
)
def revoke_annulment(
    annulment_id: str, body: RevokeIn, request: Request, who: Who
) -> dict[str, Any]:
    require_roles(who, CITY_WRITERS, "mencabut pembatalan potongan; hanya BKPSDM yang dapat")
    kit = kit_of(request)
    with kit.uow() as uow:
        result = annul.revoke(uow, annulment_id, body.alasan, who, kit.clock())
        uow.commit()
    return result


@router.get(
    "/annulment-log",
    summary="Log pembatalan potongan",
    description="Siapa mencatat atau mencabut pembatalan, kapan, alasannya, dan dampaknya.",
    tags=TAGS,
)
def annulment_log(
    request: Request, who: Who, period: str | None = None, annulment_id: str | None = None
) -> list[dict[str, Any]]:
    require_roles(who, CITY_READERS, "melihat log pembatalan potongan")
    month = period_key(period) if period else None
    with kit_of(request).uow() as uow:
        entries = annul.log_entries(uow, annulment_id=annulment_id, period=month)
        return [annul.log_view(e, a) for e, a in entries]
