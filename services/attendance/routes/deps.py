"""What attendance's routes share beyond ../web.py: reading an uploaded import (multipart
or a raw body, size-capped) and the allowed clock skew of a scan."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from starlette.datastructures import UploadFile

from services.attendance.web import config_of
from services.shared.documents import read_body, read_upload
from services.shared.http import Problem

MAX_IMPORT_BYTES = 25 * 1024 * 1024
_IMPORT_WHAT = "berkas impor"
_IMPORT_HINT = "pecah menjadi beberapa berkas"
XLSX_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
)


def max_future(request: Request) -> timedelta:
    return timedelta(minutes=config_of(request).max_future_minutes)


async def read_import(request: Request, field: str = "file") -> tuple[str, bytes]:
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
