"""Penilai routes: BKPSDM names who decides the reports of an employee without atasan (every
Kepala OPD; the Sekda, whose atasan is the Wali Kota, not an ASN): an official's NIP, or
BKPSDM itself; and the list of reports nobody can decide yet (issue 14)."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from contracts.nip import nip_problem
from services.approval import commands, domain, queries
from services.approval.models import PenilaiRow
from services.approval.routes.deps import Kit, Now, Who, forbidden, problem
from services.kernel.calendar import WIB
from services.shared import scope
from services.shared.employees import periods_by_nip
from services.shared.http import Day, Problem

router = APIRouter()


class PenilaiIn(BaseModel):
    nip: str = Field(description="NIP pegawai tanpa atasan (Kepala OPD, Sekda)")
    penilai: str = Field(description="NIP pejabat penilai, atau `BKPSDM`")
    nama: str = Field("", max_length=200, description="nama pejabat (wajib bila bukan BKPSDM)")
    jabatan: str = Field("", max_length=200)
    mulai: Day | None = Field(None, description="tanggal laporan pertama; kosong: sejak awal")
    sampai: Day | None = Field(None, description="tanggal laporan terakhir; kosong: seterusnya")


class PenilaiOut(PenilaiIn):
    id: str
    set_by: str
    set_at: datetime
    removed_at: datetime | None
    removed_by: str | None


class HeadOut(BaseModel):
    nip: str
    nama: str
    opd: str
    jabatan: str
    mulai: date | None
    sampai: date | None


class UndecidableOut(BaseModel):
    report_id: str
    nip: str
    work_date: date
    status: str
    imported_decision: str | None
    reason: str


def _out(row: PenilaiRow) -> PenilaiOut:
    return PenilaiOut(
        id=row.id, nip=row.nip, penilai=row.penilai, nama=row.nama, jabatan=row.jabatan,
        mulai=row.first_day, sampai=row.last_day, set_by=row.set_by, set_at=row.set_at,
        removed_at=row.removed_at, removed_by=row.removed_by,
    )  # fmt: skip


def _bkpsdm_officer(who: Who, what: str) -> str:
    if not who.is_("bkpsdm") or not who.nip:
        raise forbidden(f"Hanya petugas BKPSDM (dengan NIP) yang dapat {what}.")
    return who.nip


@router.post(
    "/penilai",
    status_code=201,
    response_model=PenilaiOut,
    summary="Tetapkan penilai pegawai tanpa atasan",
    description=(
        "Oleh BKPSDM: pejabat (NIP) atau BKPSDM sendiri yang memutuskan laporan pegawai tanpa "
        "atasan untuk rentang tanggal laporan. Keputusan lama dari impor migrasi yang menunggu "
        "dicatat saat itu juga."
    ),
    tags=["Penilai pegawai tanpa atasan"],
)
def set_penilai(body: PenilaiIn, who: Who, now: Now, kit: Kit) -> PenilaiOut:
    officer = _bkpsdm_officer(who, "menetapkan penilai")
    if text := nip_problem(body.nip):
        raise Problem(422, f"{text} ({body.nip})", code="invalid_nip")
    penilai = body.penilai.strip()
    if penilai.upper() == domain.BKPSDM:
        penilai = domain.BKPSDM
    elif text := nip_problem(penilai):
        raise Problem(
            422,
            f"Penilai harus NIP pejabat atau BKPSDM: {text} ({penilai})",
            code="invalid_penilai",
        )
    plan = domain.Penilai(body.nip, penilai, body.mulai, body.sampai, officer)
    with kit.uow() as uow:
        try:
            row = commands.set_penilai(uow, plan, body.nama, body.jabatan, officer, now)
        except domain.DomainError as err:
            raise problem(err) from None
        uow.commit()
        return _out(row)


@router.get(
    "/penilai",
    response_model=list[PenilaiOut],
    summary="Daftar penilai pegawai tanpa atasan",
    description="BKPSDM, auditor dan akun layanan; `removed=true` termasuk yang sudah dihapus.",
    tags=["Penilai pegawai tanpa atasan"],
)
def list_penilai(
    who: Who, kit: Kit, nip: str | None = None, removed: bool = False
) -> list[PenilaiOut]:
    scope.require_roles(who, scope.CITY_READERS, "melihat daftar penilai")
    with kit.uow() as uow:
        return [_out(r) for r in queries.penilai_rows(uow, nip=nip, removed=removed)]


@router.delete(
    "/penilai/{penilai_id}",
    response_model=PenilaiOut,
    summary="Hapus penilai",
    description="Oleh BKPSDM; tetap tercatat untuk audit. Keputusan yang sudah diambil tetap.",
    tags=["Penilai pegawai tanpa atasan"],
)
def remove_penilai(penilai_id: str, who: Who, now: Now, kit: Kit) -> PenilaiOut:
    officer = _bkpsdm_officer(who, "menghapus penilai")
    with kit.uow() as uow:
        row = queries.penilai_row(uow, penilai_id)
        if row is None:
            raise Problem(404, "Penilai tidak ditemukan.", code="not_found")
        if commands.remove_penilai(uow, row, officer, now):
            uow.commit()
        return _out(row)


@router.get(
    "/without-atasan",
    response_model=list[HeadOut],
    summary="Pegawai tanpa atasan",
    description=(
        "Pegawai yang periodenya tanpa atasan dan belum berakhir (Kepala OPD, Sekda): mereka "
        "yang memerlukan penilai. BKPSDM, auditor dan akun layanan."
    ),
    tags=["Penilai pegawai tanpa atasan"],
)
def without_atasan(who: Who, kit: Kit, now: Now) -> list[HeadOut]:
    scope.require_roles(who, scope.CITY_READERS, "melihat pegawai tanpa atasan")
    with kit.uow() as uow:
        rows = queries.heads_on(uow, now.astimezone(WIB).date())
    return [
        HeadOut(nip=r.nip, nama=r.nama, opd=r.opd, jabatan=r.jabatan, mulai=r.first_day,
                sampai=r.last_day)
        for r in rows
    ]  # fmt: skip


@router.get(
    "/undecidable",
    response_model=list[UndecidableOut],
    summary="Laporan yang belum dapat diputuskan siapa pun",
    description=(
        "Laporan terbuka (termasuk keputusan lama dari impor migrasi yang menunggu) milik "
        "pegawai tanpa atasan pada tanggal laporannya dan tanpa penilai: BKPSDM menetapkan "
        "penilai agar dapat diputuskan."
    ),
    tags=["Penilai pegawai tanpa atasan"],
)
def undecidable(who: Who, kit: Kit) -> list[UndecidableOut]:
    scope.require_roles(who, scope.CITY_READERS, "melihat laporan yang belum dapat diputuskan")
    with kit.uow() as uow:
        rows = queries.without_atasan(uow)
        owners = {r.owner_nip for r in rows}
        penilai = queries.penilai_of(uow, owners)
        known = periods_by_nip(uow, owners)
    out = []
    for r in rows:
        if domain.penilai_on(penilai, r.owner_nip, r.work_date) is not None:
            continue
        if r.owner_nip in known:
            reason = (
                f"Pegawai tidak memiliki atasan pada tanggal {r.work_date:%d-%m-%Y} dan BKPSDM "
                "belum menetapkan penilai untuk tanggal itu."
            )
        else:
            reason = (
                "Data pegawai belum diterima dari kepegawaian: atasannya belum diketahui; bila "
                "pegawai ini tanpa atasan, BKPSDM perlu menetapkan penilai."
            )
        out.append(
            UndecidableOut(
                report_id=r.report_id,
                nip=r.owner_nip,
                work_date=r.work_date,
                status=r.status,
                imported_decision=r.imported_decision,
                reason=reason,
            )
        )
    return out
