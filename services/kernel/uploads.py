"""Uploads, imports and stored documents, handled the same way by every service.

- `xlsx_problem`: an XLSX is a ZIP; a 300 KB file can unpack to gigabytes. The members'
  declared sizes are checked before openpyxl opens anything (zipfile itself stops a member
  at its declared size, so the declaration is a real bound).
- `csv_lines`: each physical line parsed alone, so a quote left open spoils its own line
  only, and the line numbers are the ones an editor shows.
- `binary_kind` / `not_text_reason`: a binary file sent where text is expected is named
  by what it looks like; its bytes are never echoed back.
- `too_large`: the refusal of an over-size upload states its real size (or "lebih dari"
  when it is not known); `content_disposition`: a stored document's safe download name.

Pure (standard library only), so domain code may use it; the HTTP side of the same
(reading bodies up to a cap, serving stored documents) is services/shared/documents.py.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

__all__ = [
    "DOCUMENT_TYPES",
    "CsvLine",
    "binary_kind",
    "content_disposition",
    "csv_lines",
    "document_kind",
    "format_size",
    "not_text_reason",
    "printable",
    "safe_filename",
    "too_large",
    "xlsx_problem",
]

KIB = 1024
MIB = 1024 * 1024

# An import of 50,000 scans unpacks to about 10 MB; these bounds leave room for far larger
# honest files and none for a bomb.
XLSX_MAX_TOTAL = 64 * MIB
XLSX_MAX_RATIO = 100  # per member above XLSX_RATIO_FROM; XML compresses 5-20x
XLSX_RATIO_FROM = 1 * MIB
XLSX_MAX_MEMBERS = 2_000


def format_size(size: int) -> str:
    """A byte count as people read it: "12 MB", "5,1 MB", "300 KB"."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MB"
    if size >= MIB:
        return f"{size / MIB:.1f}".removesuffix(".0").replace(".", ",") + " MB"
    return f"{max(1, size // KIB)} KB"


# --- what a file looks like ------------------------------------------------------------

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "XLSX atau berkas ZIP lain (mis. lembar kerja Excel)"),
    (b"PK\x05\x06", "berkas ZIP kosong"),
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "gambar PNG"),
    (b"\xff\xd8\xff", "gambar JPG"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "berkas Office lama (XLS/DOC)"),
    (b"\xff\xfe", "teks UTF-16 (Excel 'Unicode Text')"),
    (b"\xfe\xff", "teks UTF-16"),
    (b"\x1f\x8b", "berkas GZIP"),
    (b"Rar!", "berkas RAR"),
    (b"MZ", "program Windows (EXE)"),
)


def binary_kind(data: bytes) -> str | None:
    """What a file that is not plain text looks like, in Bahasa; None for text."""
    for magic, label in _SIGNATURES:
        if data.startswith(magic):
            return label
    if b"\x00" in data[:8192]:
        return "berkas biner"
    return None


# A supporting document (an absence's, an annulment's), by what its first bytes say it is.
DOCUMENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


def document_kind(data: bytes) -> str | None:
    """The document's type from its first bytes (not its name): pdf, jpg, png or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def not_text_reason(data: bytes, expected: str = "CSV") -> str | None:
    """The refusal for a binary file sent where `expected` text belongs, or None."""
    kind = binary_kind(data)
    if kind is None:
        return None
    return (
        f"berkas ini tampaknya {kind}, bukan {expected}; buka di Excel/LibreOffice lalu "
        f"simpan sebagai {expected} (UTF-8) dan kirim lagi"
    )


def printable(text: str, limit: int = 80) -> str:
    """`text` fit to quote in an error message: control characters out, cut at `limit`."""
    clean = "".join(
        c if unicodedata.category(c)[0] != "C" else "\N{REPLACEMENT CHARACTER}" for c in text
    )
    return clean if len(clean) <= limit else clean[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


# --- XLSX decompression bombs ----------------------------------------------------------


def xlsx_problem(
    data: bytes | BinaryIO,
    *,
    max_total: int = XLSX_MAX_TOTAL,
    max_ratio: int = XLSX_MAX_RATIO,
    max_members: int = XLSX_MAX_MEMBERS,
) -> str | None:
    """Why this XLSX must not be opened (Bahasa), or None. Reads the ZIP directory only."""
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "berkas bukan XLSX yang valid atau rusak"
    finally:
        if not isinstance(data, bytes | bytearray):
            stream.seek(0)
    refuse = "; kemungkinan berkas rusak. Simpan ulang di Excel atau kirim sebagai CSV"
    if len(members) > max_members:
        return f"berkas XLSX berisi {len(members)} bagian (batas {max_members}){refuse}"
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > XLSX_RATIO_FROM and ratio > max_ratio:
            return (
                f"bagian '{printable(m.filename)}' dalam berkas XLSX mengembang dari "
                f"{format_size(m.compress_size)} menjadi {format_size(m.file_size)} "
                f"(lebih dari {max_ratio} kali){refuse}"
            )
    total = sum(m.file_size for m in members)
    if total > max_total:
        biggest = max(members, key=lambda m: m.file_size)
        return (
            f"berkas XLSX ini jika dibuka berukuran {format_size(total)} (terbesar: "
            f"'{printable(biggest.filename)}' {format_size(biggest.file_size)}), melebihi batas "
            f"{format_size(max_total)}; pecah menjadi beberapa berkas atau kirim sebagai CSV"
        )
    return None


# --- CSV, one physical line at a time ----------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class CsvLine:
    line_no: int  # 1-based physical line, as an editor shows it
    fields: list[str]
    error: str | None = None  # Bahasa; set when the line cannot be read as CSV


def csv_lines(text: str, delimiter: str = ",") -> Iterator[CsvLine]:
    """Every physical line of `text` as CSV fields. A field may not span lines (none of our
    imports has one): a quote left open is reported on the line that opened it, and the
    lines after it are read as they are instead of being swallowed into that field."""
    for line_no, line in enumerate(_LINE_BREAK.split(text), start=1):
        try:
            fields = next(csv.reader([line], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                # a stray quote inside a field: read it as the lenient reader always did
                fields = next(csv.reader([line], delimiter=delimiter), [])
            else:
                yield CsvLine(
                    line_no,
                    [],
                    f'tanda kutip (") yang dibuka di baris {line_no} tidak ditutup; '
                    "hapus tanda kutip itu atau tutup di baris yang sama",
                )
                continue
        yield CsvLine(line_no, fields)


# --- refusals and download names --------------------------------------------------------


def too_large(size: int | None, limit: int, what: str = "berkas") -> str:
    """The refusal of an over-size upload: its real size when known, else "lebih dari"."""
    if size is None:
        return f"{what} lebih besar dari batas {format_size(limit)}"
    return f"{what} berukuran {format_size(size)}, melebihi batas {format_size(limit)}"


_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()+-]")


def safe_filename(name: str, fallback: str = "dokumen") -> str:
    """The last path part of `name` without control characters, at most 150 characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    if not base:
        return fallback
    if len(base) > 150:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 150 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:150]
    return base


def content_disposition(name: str, fallback: str = "dokumen") -> str:
    """`attachment` with an ASCII name for old clients and the UTF-8 one (RFC 6266)."""
    safe = safe_filename(name, fallback)
    ascii_name = _UNSAFE_ASCII.sub("_", safe).strip(" _") or fallback
    header = f'attachment; filename="{ascii_name}"'
    if ascii_name != safe:
        header += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return header
