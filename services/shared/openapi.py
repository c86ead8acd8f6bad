"""OpenAPI of the file imports: routes that read their body themselves (multipart or raw
CSV) declare it here, with the columns the importer checks, so `/docs` shows what to send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Column", "columns_table", "upload_body"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    format: str  # Bahasa Indonesia, for people
    example: str


def columns_table(columns: Sequence[Column]) -> str:
    """The columns as a Markdown table (Swagger UI renders it)."""
    rows = [
        f"| `{c.name}` | {'ya' if c.required else 'tidak'} | {c.format} | `{c.example}` |"
        for c in columns
    ]
    return "\n".join(["| kolom | wajib ada | format | contoh |", "|---|---|---|---|", *rows])


def upload_body(
    columns: Sequence[Column], *, multipart: bool = False, xlsx: bool = False
) -> dict[str, Any]:
    """`openapi_extra` of an import route: the body as text/csv (and, when the route takes
    them, a multipart `file` or a raw XLSX), described by its columns."""
    header = ",".join(c.name for c in columns)
    example = ",".join(c.example for c in columns)
    content: dict[str, Any] = {
        "text/csv": {"schema": {"type": "string"}, "example": f"{header}\n{example}\n"}
    }
    if multipart:
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    if xlsx:
        content[XLSX] = {"schema": {"type": "string", "format": "binary"}}
    kinds = "CSV (UTF-8, baris pertama judul kolom)" + (" atau XLSX" if xlsx else "")
    sent = " sebagai multipart (kolom `file`) atau langsung sebagai isi permintaan"
    description = f"Berkas {kinds}{sent if multipart else ''}.\n\n{columns_table(columns)}"
    return {"requestBody": {"required": True, "description": description, "content": content}}
