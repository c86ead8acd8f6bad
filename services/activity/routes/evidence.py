"""Evidence routes: attach a file to a report not yet decided (streamed to disk, its size
and type checked against what it really is), list a report's evidence, download one."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from services.activity import commands, domain, evidence_rules, queries
from services.activity.models import Evidence, Report
from services.activity.routes.deps import (
    EvidenceDir,
    Rules,
    ensure_view,
    own_report,
    require_person,
)
from services.activity.schemas import EvidenceOut, evidence_out
from services.shared.documents import document_response
from services.shared.http import Kit, Now, Problem, Who

router = APIRouter()

_UPLOAD_CHUNK = 64 * 1024
# Magic numbers of the allowed evidence types: the name and the declared type can lie.
_MAGIC = {
    "application/pdf": (b"%PDF",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}


@router.post(
    "/reports/{report_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Lampirkan bukti kegiatan",
    description="Satu berkas (PDF, JPG, PNG, DOCX, XLSX) pada laporan yang belum diputuskan.",
    tags=["Bukti kegiatan"],
)
async def upload_evidence(
    report_id: str,
    who: Who,
    now: Now,
    kit: Kit,
    rules: Rules,
    evidence_root: EvidenceDir,
    file: UploadFile = File(...),
) -> EvidenceOut:
    """Attach one evidence file (PDF, JPG, PNG, DOCX, XLSX) to a report not yet decided."""
    nip = require_person(who)
    limits = rules.limits

    def check_report() -> Report:
        with kit.uow() as uow:
            row = own_report(uow, report_id, nip)
        if row.status not in (
            domain.ReportStatus.PENDING.value,
            domain.ReportStatus.REVISION_REQUESTED.value,
        ):
            raise Problem(
                409,
                "Bukti hanya dapat dilampirkan pada laporan yang menunggu persetujuan atau "
                "diminta revisi.",
                code="invalid_transition",
            )
        return row

    row = await asyncio.to_thread(check_report)
    evidence_id = str(uuid.uuid4())
    name = Path(file.filename or "").name
    folder = evidence_root / nip / report_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{evidence_id}{Path(name).suffix.lower()}"
    digest, size, head = hashlib.sha256(), 0, b""
    # Stream to disk, stop reading once over the limit: the size is the evidence's, not the
    # client's word for it.
    with target.open("wb") as out:
        while chunk := await file.read(_UPLOAD_CHUNK):
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            size += len(chunk)
            if size > limits.max_evidence_bytes:
                break
            digest.update(chunk)
            out.write(chunk)
    if size > limits.max_evidence_bytes:
        # the refusal states the file's size, not the part read before the limit: the
        # multipart parser has spooled and counted it already
        if file.size is not None:
            size = file.size
        else:
            while chunk := await file.read(_UPLOAD_CHUNK):
                size += len(chunk)
    descriptor = evidence_rules.EvidenceFile(
        name, file.content_type or "", size, digest.hexdigest() if size else ""
    )
    problems = evidence_rules.validate_evidence(descriptor, limits.max_evidence_bytes, "file")
    kind = evidence_rules.evidence_type_of(descriptor)
    if kind is not None and size > 0 and not head.startswith(_MAGIC[kind.content_type]):
        problems.append(
            domain.Problem(
                "file",
                "type_not_allowed",
                f"Isi berkas '{name}' tidak sesuai dengan jenisnya ({kind.label}).",
            )
        )
    if problems:
        target.unlink(missing_ok=True)
        codes = {p.code for p in problems}
        status = 413 if "too_large" in codes else 415 if "type_not_allowed" in codes else 422
        raise Problem(
            status,
            " ".join(p.message for p in problems),
            code=problems[0].code,
            errors=[{"field": p.field, "code": p.code, "message": p.message} for p in problems],
        )

    def store() -> Evidence:
        with kit.uow() as uow:
            if queries.same_evidence(uow, report_id, descriptor.sha256) is not None:
                raise Problem(
                    409, f"Berkas '{name}' sudah dilampirkan pada laporan ini.", code="duplicate"
                )
            ev = commands.add_evidence(
                uow,
                Evidence(
                    id=evidence_id,
                    report_id=report_id,
                    nip=row.nip,
                    name=name,
                    content_type=kind.content_type if kind else descriptor.content_type,
                    size=size,
                    sha256=descriptor.sha256,
                    path=str(target.relative_to(evidence_root)),
                    uploaded_at=now,
                ),
            )
            uow.commit()
            return ev

    try:
        ev = await asyncio.to_thread(store)
    except BaseException:  # refused, or the store failed: no orphan file either way
        target.unlink(missing_ok=True)
        raise
    return evidence_out(ev)


@router.get(
    "/reports/{report_id}/evidence",
    response_model=list[EvidenceOut],
    summary="Daftar bukti sebuah laporan",
    tags=["Bukti kegiatan"],
)
def list_evidence(report_id: str, who: Who, now: Now, kit: Kit) -> list[EvidenceOut]:
    with kit.uow() as uow:
        row = queries.report(uow, report_id)
        if row is None:
            raise Problem(404, "Laporan tidak ditemukan.", code="not_found")
        ensure_view(uow, who, row.nip, now, row.work_date)
        rows = queries.evidence_of(uow, report_id)
    return [evidence_out(r) for r in rows]


@router.get("/evidence/{evidence_id}", summary="Unduh bukti kegiatan", tags=["Bukti kegiatan"])
def download_evidence(
    evidence_id: str, who: Who, now: Now, kit: Kit, evidence_root: EvidenceDir
) -> FileResponse:
    with kit.uow() as uow:
        row = queries.evidence(uow, evidence_id)
        if row is None:
            raise Problem(404, "Berkas bukti tidak ditemukan.", code="not_found")
        report = queries.report(uow, row.report_id)
        ensure_view(uow, who, row.nip, now, report.work_date if report is not None else None)
    path = evidence_root / row.path
    if not path.is_file():
        raise Problem(404, "Berkas bukti tidak ditemukan di penyimpanan.", code="not_found")
    return document_response(
        path, row.content_type, row.name, headers={"X-Content-SHA256": row.sha256}
    )
