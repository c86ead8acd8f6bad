"""Employee master import: every accepted line becomes EmployeeUpserted (through the outbox)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from contracts.events import EmployeeUpserted
from services.kernel.uploads import not_text_reason
from services.shared.documents import read_body
from services.shared.http import Problem, Who, kit_of
from services.shared.openapi import Column, upload_body
from services.shared.scope import CITY_WRITERS, require_roles
from services.siasn.domain import COLUMNS, PIN_COLUMN, parse_employees

router = APIRouter()

# 15,000 ASN at ~150 bytes a line is ~2 MB: room for far more, none for a runaway body.
MAX_IMPORT_BYTES = 25 * 1024 * 1024
# What /docs says of each column the import checks (a column without words fails here).
_FORMATS = {
    "nip": ("NIP 18 digit, unik dalam berkas", "199001012015011001"),
    "nama": ("nama lengkap, tidak kosong", "Siti Rahmawati"),
    "opd": ("OPD tempat bekerja, tidak kosong", "DISKOMINFO"),
    "jabatan": ("nama jabatan (isi boleh kosong)", "Pranata Komputer"),
    "kelas_jabatan": ("bilangan bulat 1 sampai 17", "7"),
    "atasan_nip": ("NIP atasan langsung; kosong bila tidak ada atasan", "198503152010122002"),
    "tpp_pagu": ("pagu TPP sebulan dalam rupiah, bilangan bulat", "5000000"),
}
IMPORT_BODY = upload_body(
    [
        *(Column(c, True, *_FORMATS[c]) for c in COLUMNS),
        Column(PIN_COLUMN, False, "PIN pegawai di mesin sidik jari bila bukan NIP-nya", "1001"),
    ]
)


@router.post(
    "/employees/import",
    summary="Impor data pegawai dari berkas CSV",
    description=(
        "Hanya BKPSDM (atau akun layanan). Baris yang tidak berubah tidak diumumkan lagi saat "
        "diimpor ulang; tiap baris buruk dilaporkan dengan alasannya."
    ),
    tags=["Data pegawai"],
    openapi_extra=IMPORT_BODY,
)
async def import_employees(request: Request, who: Who) -> dict[str, object]:
    """Body: employees.csv (text/csv, UTF-8). Unchanged rows emit nothing on re-import.
    BKPSDM's (or a job's) only: the file sets every person's OPD, atasan and TPP pagu, and
    an OPD operator is one of the people it pays."""
    require_roles(who, CITY_WRITERS, "mengimpor data induk pegawai")
    kit = kit_of(request)
    data = await read_body(request, MAX_IMPORT_BYTES, "berkas pegawai")
    if reason := not_text_reason(data[:8192]):
        raise Problem(422, reason, code="not_csv")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "Berkas harus berenkode UTF-8", code="encoding") from None
    rows, rejected = parse_employees(text)
    now = kit.clock()
    changed = 0
    with kit.uow() as uow:
        employee = kit.tables.employee
        for row in rows:
            current = uow.session.get(employee, row.nip)
            fields: dict[str, Any] = {
                "nama": row.nama,
                "opd": row.opd,
                "jabatan": row.jabatan,
                "kelas_jabatan": row.kelas_jabatan,
                "atasan_nip": row.atasan_nip,
                "tpp_pagu": row.tpp_pagu,
                "pin": row.pin,
            }
            if (
                current is not None
                and current.active
                and all(getattr(current, k) == v for k, v in fields.items())
            ):
                continue
            if current is None:
                current = employee(nip=row.nip, **fields)
            for key, value in fields.items():
                setattr(current, key, value)
            current.active, current.updated_at = True, now
            uow.session.add(current)
            uow.emit(EmployeeUpserted(occurred_at=now, producer="siasn", nip=row.nip, **fields))
            changed += 1
        uow.commit()
    return {
        "accepted": len(rows),
        "changed": changed,
        "rejected": [{"line": r.line, "reason": r.reason} for r in rejected],
    }
