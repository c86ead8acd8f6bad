"""Upload bodies and stored documents over HTTP, the same in every service: bodies read
up to a cap (never all of an over-size one into memory), and every stored document served
as a download the browser may not sniff or render (see services/shared/uploads.py for the
pure parts)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from services.kernel.uploads import content_disposition, too_large
from services.shared.http import Problem

__all__ = ["DOCUMENT_HEADERS", "document_response", "read_body", "read_upload"]


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _refuse(size: int | None, limit: int, what: str, hint: str) -> Problem:
    detail = too_large(size, limit, what) + (f"; {hint}" if hint else "")
    return Problem(413, detail, code="too_large", limit_bytes=limit)


async def read_body(request: Request, limit: int, what: str = "berkas", hint: str = "") -> bytes:
    """The request body, or 413 stating its real size (the declared Content-Length) or
    "lebih dari" the limit; never more than the limit and one chunk in memory."""
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise _refuse(declared, limit, what, hint)
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise _refuse(None, limit, what, hint)  # no length given, or a false one
    return bytes(buf)


async def read_upload(
    upload: UploadFile, limit: int, what: str = "berkas", hint: str = ""
) -> bytes:
    """One multipart file, or 413 with its real size: the parser spooled it to disk and
    counted it, so an over-size file is refused without being read into memory."""
    if upload.size is not None and upload.size > limit:
        raise _refuse(upload.size, limit, what, hint)
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse(upload.size, limit, what, hint)
    return data


# Served bytes are the uploader's: never rendered, never sniffed, never scripted.
DOCUMENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def document_response(
    path: Path, media_type: str, filename: str, headers: dict[str, str] | None = None
) -> FileResponse:
    """A stored document as a download (the one way every service serves one)."""
    return FileResponse(
        path,
        media_type=media_type,
        headers={
            **DOCUMENT_HEADERS,
            "Content-Disposition": content_disposition(filename),
            **(headers or {}),
        },
    )
