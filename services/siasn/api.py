"""Employee master import: every accepted line becomes EmployeeUpserted (through the outbox)."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import Field as PydanticField

from services.kernel.calendar import WIB
from services.kernel.employment import Period
from services.kernel.kinerja import RATING_LABEL
from services.kernel.uploads import not_text_reason
from services.shared import scope
from services.shared.documents import read_body
from services.shared.employees import periods_by_nip, periods_of
from services.shared.http import Actor, Problem, Who, kit_of, period_key
from services.shared.openapi import Column, upload_body
from services.shared.scope import CITY_READERS, CITY_WRITERS, require_roles
from services.shared.uow import UnitOfWork
from services.siasn import commands, queries
from services.siasn.adapter import SiasnError
from services.siasn.delivery import Deliverer
from services.siasn.domain import (
    COLUMNS,
    FIRST_COLUMN,
    LAST_COLUMN,
    PIN_COLUMN,
    PREDIKAT_NAMA,
    TPP_PAGU_MAX,
    XLSX_MAGIC,
    month_placement,
    parse_employees,
)
from services.siasn.models import STATE_LABEL, KinerjaDelivery, SyncRun
from services.siasn.sync import SyncBusy, SyncRunner
from services.siasn.workbook import parse_employees_xlsx

router = APIRouter()

# 15,000 ASN at ~150 bytes a line is ~2 MB: room for far more, none for a runaway body.
MAX_IMPORT_BYTES = 25 * 1024 * 1024
# What /docs says of each column the import checks (a column without words fails here).
_FORMATS = {
    "nip": ("NIP 18 digit; beberapa baris boleh, satu per masa kerja", "199001012015011001"),
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
        Column(
            FIRST_COLUMN,
            False,
            "hari pertama masa kerja baris ini (YYYY-MM-DD); kosong untuk NIP baru = hari impor",
            "2026-07-01",
        ),
        Column(
            LAST_COLUMN,
            False,
            "hari terakhir masa kerja (YYYY-MM-DD); kosong = masih aktif; isi bila pegawai keluar",
            "2026-12-31",
        ),
    ],
    xlsx=True,
)


@router.post(
    "/employees/import",
    summary="Impor data pegawai dari berkas CSV atau XLSX",
    description=(
        "Hanya BKPSDM (atau akun layanan). Tiap baris satu masa kerja (aktif_mulai s.d. "
        "aktif_sampai); baris yang bertumpang tindih dengan baris lain NIP yang sama ditolak. "
        "Baris yang tidak berubah tidak diumumkan lagi saat diimpor ulang; tiap baris buruk "
        "dilaporkan dengan alasannya."
    ),
    tags=["Data pegawai"],
    openapi_extra=IMPORT_BODY,
)
async def import_employees(request: Request, who: Who) -> dict[str, object]:
    """Body: employees.csv (text/csv, UTF-8) or an XLSX (its first sheet). Unchanged rows
    emit nothing on re-import.
    BKPSDM's (or a job's) only: the file sets every person's OPD, atasan and TPP pagu, and
    an OPD operator is one of the people it pays."""
    require_roles(who, CITY_WRITERS, "mengimpor data induk pegawai")
    kit = kit_of(request)
    data = await read_body(request, MAX_IMPORT_BYTES, "berkas pegawai")
    now = kit.clock()
    with kit.uow() as uow:
        known = queries.known_atasan(uow)
        periods = queries.known_periods(uow)
    today = now.astimezone(WIB).date()
    if data.startswith(XLSX_MAGIC):  # the first sheet of a workbook, off the event loop
        rows, rejected = await to_thread.run_sync(parse_employees_xlsx, data, known, periods, today)
    else:
        if reason := not_text_reason(data[:8192]):
            raise Problem(422, reason, code="not_csv")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(400, "Berkas harus berenkode UTF-8", code="encoding") from None
        rows, rejected = parse_employees(text, known, periods, today)
    with kit.uow() as uow:
        changed = commands.upsert_employees(uow, rows, now)
    return {
        "accepted": len(rows),
        "changed": changed,
        "rejected": [{"line": r.line, "reason": r.reason} for r in rejected],
    }


# --- SIASN sync and BKPSDM's tables ---------------------------------------------------------
BKPSDM = "bkpsdm"
READERS = (BKPSDM, "auditor", "system")


def _require(who: Actor, *roles: str, what: str) -> None:
    if not who.is_(*roles):
        raise Problem(
            403,
            f"Hanya {' / '.join(r.upper() for r in roles if r != 'system')} yang dapat {what}.",
            code="forbidden",
        )


def _runner(request: Request) -> SyncRunner:
    runner: SyncRunner = request.app.state.siasn_sync
    return runner


def _run_view(run: SyncRun) -> dict[str, object]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "read": run.read,
        "upserted": run.upserted,
        "deactivated": run.deactivated,
        "unchanged": run.unchanged,
        "rejected": json.loads(run.rejected_json),
        "error": run.error,
    }


@router.post(
    "/siasn/sync",
    summary="Sinkronkan data pegawai dari SIASN sekarang",
    description=(
        "Membaca setiap ASN kota dari SIASN dan hanya mengumumkan perubahan. Dengan wait=true "
        "jawaban menunggu sampai selesai; tanpa itu jawaban 202 dengan nomor sinkronisasi."
    ),
    tags=["SIASN"],
    status_code=202,
)
async def sync_now(request: Request, who: Who, wait: bool = False) -> JSONResponse:
    _require(who, BKPSDM, "system", what="menjalankan sinkronisasi SIASN")
    runner = _runner(request)
    if runner.client is None:
        raise Problem(409, "SIASN belum dikonfigurasi untuk layanan ini", code="siasn_off")
    if runner.busy:
        raise Problem(409, "Sinkronisasi SIASN sedang berjalan", code="sync_busy")
    run_id = await to_thread.run_sync(runner.begin, who.nip or who.role)
    if not wait:
        task = asyncio.create_task(runner.run(who.nip or who.role, run_id))
        request.app.state.siasn_tasks.add(task)
        task.add_done_callback(request.app.state.siasn_tasks.discard)
        return JSONResponse({"id": run_id, "status": "berjalan"}, 202)
    try:
        await runner.run(who.nip or who.role, run_id)
    except SiasnError as exc:
        raise Problem(502, f"SIASN tidak dapat dibaca: {exc}", code="siasn_unavailable") from None
    except SyncBusy as exc:
        raise Problem(409, str(exc).capitalize(), code="sync_busy") from None
    with kit_of(request).uow() as uow:
        run = queries.sync_run(uow, run_id)
        assert run is not None
        return JSONResponse(jsonable_encoder(_run_view(run)), 200)


@router.get(
    "/siasn/sync",
    summary="Riwayat sinkronisasi SIASN",
    description="Sinkronisasi terbaru lebih dulu, dengan catatan yang ditolak dan alasannya.",
    tags=["SIASN"],
)
def sync_runs(request: Request, who: Who, limit: int = Query(20, ge=1, le=200)) -> list[object]:
    _require(who, *READERS, what="melihat riwayat sinkronisasi SIASN")
    with kit_of(request).uow() as uow:
        runs = queries.sync_runs(uow, limit)
        return [_run_view(r) for r in runs]


class UnitBody(BaseModel):
    opd: str = PydanticField(min_length=1, max_length=200, description="nama OPD")
    unor_nama: str = PydanticField("", max_length=300, description="nama unit di SIASN")


@router.put(
    "/siasn/units/{unor_id}",
    summary="Petakan unit SIASN ke OPD",
    description="Tabel BKPSDM: unit (unor) SIASN mana termasuk OPD mana.",
    tags=["SIASN"],
)
def put_unit(unor_id: str, body: UnitBody, request: Request, who: Who) -> dict[str, str]:
    _require(who, BKPSDM, "system", what="memetakan unit SIASN")
    kit = kit_of(request)
    with kit.uow() as uow:
        commands.put_unit(uow, unor_id, body.opd, body.unor_nama, who.nip or who.role, kit.clock())
    return {"unor_id": unor_id, "opd": body.opd.strip()}


@router.get(
    "/siasn/units",
    summary="Tabel unit SIASN ke OPD",
    description="Pemetaan unit SIASN ke OPD yang dipegang BKPSDM.",
    tags=["SIASN"],
)
def list_units(request: Request, who: Who) -> list[dict[str, object]]:
    _require(who, *READERS, "operator", what="melihat pemetaan unit SIASN")
    with kit_of(request).uow() as uow:
        rows = queries.units(uow)
        return [{"unor_id": r.unor_id, "opd": r.opd, "unor_nama": r.unor_nama} for r in rows]


class PaguBody(BaseModel):
    berlaku_mulai: date = PydanticField(description="tanggal pagu mulai berlaku")
    pagu: dict[int, int] = PydanticField(
        description="pagu TPP sebulan (rupiah) per kelas jabatan 1..17", min_length=1
    )


@router.post(
    "/siasn/pagu",
    summary="Tetapkan pagu TPP per kelas jabatan",
    description=(
        "Tabel BKPSDM: pagu per kelas jabatan mulai tanggal tertentu. Versi lama tetap "
        "tersimpan; sinkronisasi memakai versi yang berlaku hari itu."
    ),
    tags=["SIASN"],
)
def post_pagu(body: PaguBody, request: Request, who: Who) -> dict[str, object]:
    _require(who, BKPSDM, "system", what="menetapkan pagu TPP")
    bad = [k for k, v in body.pagu.items() if not 1 <= k <= 17 or not 0 <= v <= TPP_PAGU_MAX]
    if bad:
        raise Problem(
            422,
            f"kelas jabatan harus 1 sampai 17 dan pagu 0 sampai {TPP_PAGU_MAX:,}".replace(",", ".")
            + f" (salah: kelas {bad})",
            code="invalid_pagu",
        )
    kit = kit_of(request)
    with kit.uow() as uow:
        commands.put_pagu(uow, body.berlaku_mulai, body.pagu, who.nip or who.role, kit.clock())
    return {"berlaku_mulai": body.berlaku_mulai, "kelas": sorted(body.pagu)}


@router.get(
    "/siasn/pagu",
    summary="Tabel pagu TPP per kelas jabatan",
    description="Setiap versi pagu dengan tanggal mulai berlakunya.",
    tags=["SIASN"],
)
def list_pagu(request: Request, who: Who) -> list[dict[str, object]]:
    _require(who, *READERS, what="melihat tabel pagu TPP")
    with kit_of(request).uow() as uow:
        rows = queries.pagu_versions(uow)
        return [
            {"kelas_jabatan": r.kelas_jabatan, "berlaku_mulai": r.berlaku_mulai, "pagu": r.pagu}
            for r in rows
        ]


# --- monthly results to SIASN ---------------------------------------------------------------
@router.get(
    "/siasn/results",
    summary="Hasil kinerja bulanan dan status kirimnya ke SIASN",
    description=(
        "Per ASN, OPD dan bulan: penilaian, predikat, status pengiriman, ID ASN di SIASN "
        "(`siasn_id`) dan nomor catatannya di SIASN (`siasn_record_id`). BKPSDM dan auditor "
        "melihat seluruh kota; operator hanya OPD-nya; ASN hanya dirinya (atasan juga "
        "bawahannya bila menyebut `nip`)."
    ),
    tags=["SIASN"],
)
def list_results(
    request: Request,
    who: Who,
    period: str | None = None,
    opd: str | None = None,
    nip: str | None = None,
    state: str | None = None,
    limit: int = Query(500, ge=1, le=5000),
) -> list[dict[str, object]]:
    key = period_key(period) if period else None
    with kit_of(request).uow() as uow:
        opd, nip = _results_scope(uow, who, opd, nip)
        rows = queries.results(uow, key, opd, nip, state, limit)
        periods = periods_by_nip(uow, {r.nip for r in rows})
        rows = [r for r in rows if _month_visible(who, periods, r)]
        ids = queries.siasn_ids(uow, [r.nip for r in rows])
        return [
            {
                "nip": r.nip,
                "period": r.period,
                "opd": r.opd,
                "hasil_kerja": r.hasil_kerja,
                "hasil_kerja_label": RATING_LABEL.get(r.hasil_kerja or ""),
                "perilaku_kerja": r.perilaku_kerja,
                "perilaku_kerja_label": RATING_LABEL.get(r.perilaku_kerja or ""),
                "predikat": r.predikat,
                "predikat_nama": PREDIKAT_NAMA.get(r.predikat or 0),
                "confirmed_by": r.confirmed_by,
                "revision": r.revision,
                "closed": r.closed,
                "state": r.state,
                "state_label": STATE_LABEL.get(r.state, r.state),
                "siasn_id": ids.get(r.nip),
                "siasn_record_id": r.siasn_record_id,
                "sent_revision": r.sent_revision,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "last_error": r.last_error,
                "updated_at": r.updated_at,
            }
            for r in rows
        ]


def _results_scope(
    uow: UnitOfWork, who: Actor, opd: str | None, nip: str | None
) -> tuple[str | None, str | None]:
    """The (opd, nip) filters the caller may use: the city's readers any; an operator their
    own OPD (and its people); anyone else themself (an atasan also a subordinate they name).
    A named NIP must be the caller's in some period (else 403, as for an unknown NIP); which
    months they then see is `_month_visible`'s."""
    what = "melihat hasil kinerja ASN ini untuk SIASN"
    if who.role in CITY_READERS:
        return opd, nip
    if nip is not None:
        periods = periods_of(uow, nip)
        if not any(scope.may_see_person(who, nip, p) for p in [*periods, None]):
            raise scope.forbidden(what)
    if who.role == "operator":
        mine = scope.caller_opd(who)
        if mine is None or (opd is not None and opd != mine):
            raise scope.forbidden("melihat hasil kinerja OPD lain untuk SIASN")
        return mine, nip  # a row's OPD is already that of its month (handlers._opd_in)
    if who.nip is None:
        raise scope.forbidden(what)
    return opd, nip or who.nip


def _month_visible(who: Actor, periods: dict[str, list[Period]], row: KinerjaDelivery) -> bool:
    """A month's result is read by the person and the atasan of that month (the period of its
    last active day), not the atasan of the latest period."""
    if who.role in CITY_READERS or who.role == "operator":
        return True  # the city; an operator is filtered by the row's OPD (the month's)
    placement = month_placement(periods.get(row.nip, []), row.period)
    return scope.may_see_person(who, row.nip, placement)


@router.get(
    "/siasn/backlog",
    summary="Antrean hasil kinerja yang belum diterima SIASN",
    description="Jumlah hasil yang siap dikirim, sedang dikirim, atau menunggu dicoba lagi.",
    tags=["SIASN"],
)
async def backlog(request: Request, who: Who) -> dict[str, object]:
    _require(who, *READERS, what="melihat antrean SIASN")
    deliverer: Deliverer = request.app.state.siasn_delivery
    counts = await to_thread.run_sync(deliverer.backlog)
    return {"total": sum(counts.values()), "by_state": counts}
