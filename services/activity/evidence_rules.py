"""Evidence files of a daily report: the allowed types (content type and extension must agree),
the size limit and the descriptor's checks, in Bahasa Indonesia for the uploader.

Pure: no framework, no clock; the bytes live in the store, this module sees only their
descriptor (`EvidenceFile`). Used by domain.py (a report's evidence) and the upload route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from services.activity.problems import Problem

MIB = 1024 * 1024
DEFAULT_MAX_EVIDENCE_BYTES = 5 * MIB


@dataclass(frozen=True)
class EvidenceType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


EVIDENCE_TYPES: tuple[EvidenceType, ...] = (
    EvidenceType("PDF", "application/pdf", (".pdf",)),
    EvidenceType("JPG", "image/jpeg", (".jpg", ".jpeg")),
    EvidenceType("PNG", "image/png", (".png",)),
    EvidenceType(
        "DOCX",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    EvidenceType(
        "XLSX",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
)
_ALLOWED_LABELS = ", ".join(t.label for t in EVIDENCE_TYPES)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class EvidenceFile:
    """Descriptor of an uploaded evidence file (the bytes live in the store, not here)."""

    name: str
    content_type: str
    size: int
    sha256: str


def evidence_type_of(file: EvidenceFile) -> EvidenceType | None:
    """The allowed type matching both the content type and the extension, else None."""
    content_type = file.content_type.split(";", 1)[0].strip().lower()
    suffix = PurePosixPath(file.name).suffix.lower()
    for kind in EVIDENCE_TYPES:
        if kind.content_type == content_type and suffix in kind.extensions:
            return kind
    return None


def format_size(size: int) -> str:
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MB"
    if size >= MIB:
        return f"{size / MIB:.1f} MB".replace(".", ",")
    return f"{max(1, size // 1024)} KB"


def validate_evidence(
    file: EvidenceFile,
    max_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES,
    field: str = "evidence",
) -> list[Problem]:
    problems: list[Problem] = []
    name = file.name.strip()
    if not name or "/" in name or "\\" in name or len(name) > 255:
        problems.append(
            Problem(
                field,
                "invalid_name",
                "Nama berkas bukti tidak valid (wajib diisi, tanpa folder, paling banyak 255 "
                "karakter).",
            )
        )
    if evidence_type_of(file) is None:
        problems.append(
            Problem(
                field,
                "type_not_allowed",
                f"Berkas '{file.name}' tidak diterima. Jenis berkas yang diterima: "
                f"{_ALLOWED_LABELS}, dan ekstensi nama berkas harus sesuai dengan isinya.",
            )
        )
    if file.size <= 0:
        problems.append(Problem(field, "empty", f"Berkas '{file.name}' kosong."))
    elif file.size > max_bytes:
        problems.append(
            Problem(
                field,
                "too_large",
                f"Berkas '{file.name}' berukuran {format_size(file.size)}, melebihi batas "
                f"{format_size(max_bytes)}. Perkecil atau pindai ulang dengan resolusi lebih "
                "rendah.",
            )
        )
    if not _SHA256.match(file.sha256.lower()):
        problems.append(
            Problem(field, "invalid_checksum", f"Sidik berkas (SHA-256) '{file.name}' tidak valid.")
        )
    return problems
