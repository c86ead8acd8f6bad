"""The month's kinerja result (docs/rules.md "Monthly kinerja result"): SIKERJA proposes the
two ratings of each ASN from the closed month (tpp's summary, the SKP targets, approval's own
decisions); the direct atasan (their Plt for the day, or BKPSDM) confirms them or changes
them with a reason. Each confirmation is announced (KinerjaResultConfirmed) for siasn to
deliver once tpp has closed the month."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.approval import commands, domain, queries
from services.approval.queries import KinerjaView
from services.approval.routes.deps import Kit, Now, Who, forbidden, person, problem, today
from services.kernel.calendar import WIB
from services.kernel.kinerja import PREDIKAT_NAMA, RATING_LABEL, predikat
from services.shared import scope
from services.shared.employees import find_employee
from services.shared.http import Actor, Problem, period_key
from services.shared.uow import UnitOfWork

router = APIRouter()
Rating = Literal["di_atas", "sesuai", "di_bawah"]
MAX_BULK = 500  # one atasan's subordinates, with room


class ResultIn(BaseModel):
    hasil_kerja: Rating
    perilaku_kerja: Rating
    reason: str = Field(
        "", max_length=1000, description="alasan; wajib bila berbeda dari usulan sistem"
    )


class ResultOut(ResultIn):
    nip: str
    period: str
    confirmed_by: str
    as_plt_for: str | None = None
    revision: int
    confirmed_at: datetime


class MonthSummaryOut(BaseModel):
    """What tpp's close of the month says (the proposal's inputs)."""

    pagu: int
    required_days: int
    approved_days: int
    attendance_deduction: int
    attendance_lines: int
    tk_days: int
    skp_all_realised: bool
    closed_at: datetime


class ProposalOut(BaseModel):
    hasil_kerja: Rating
    hasil_kerja_label: str
    perilaku_kerja: Rating
    perilaku_kerja_label: str
    predikat: int
    predikat_nama: str


class ConfirmedOut(ProposalOut):
    reason: str
    confirmed_by: str
    as_plt_for: str | None
    confirmed_at: datetime
    revision: int
    as_proposed: bool  # the ratings the proposal had when they were confirmed


class KinerjaOut(BaseModel):
    nip: str
    nama: str | None
    opd: str | None
    period: str
    atasan_nip: str | None
    as_plt_for: str | None = None  # the caller sees this ASN as Plt of this atasan
    status: Literal["belum_ditutup", "menunggu_penetapan", "ditetapkan"]
    status_label: str
    summary: MonthSummaryOut | None
    proposal: ProposalOut | None
    result: ConfirmedOut | None


STATUS_LABEL = {
    "belum_ditutup": "Bulan belum ditutup; usulan belum ada",
    "menunggu_penetapan": "Menunggu penetapan atasan",
    "ditetapkan": "Sudah ditetapkan",
}


def _ratings(hasil: str, perilaku: str) -> dict[str, object]:
    grade = predikat(hasil, perilaku)
    return {
        "hasil_kerja": hasil,
        "hasil_kerja_label": RATING_LABEL[hasil],
        "perilaku_kerja": perilaku,
        "perilaku_kerja_label": RATING_LABEL[perilaku],
        "predikat": grade,
        "predikat_nama": PREDIKAT_NAMA[grade],
    }


def _out(uow: UnitOfWork, view: KinerjaView, as_plt_for: str | None = None) -> KinerjaOut:
    employee = find_employee(uow, view.nip)
    month, proposal, result = view.month, view.proposal, view.result
    status = "ditetapkan" if result else "menunggu_penetapan" if proposal else "belum_ditutup"
    summary = proposed = confirmed = None
    if month is not None and proposal is not None:
        summary = MonthSummaryOut(
            pagu=month.pagu, required_days=month.required_days,
            approved_days=month.approved_days, attendance_deduction=month.attendance_deduction,
            attendance_lines=month.attendance_lines, tk_days=month.tk_days,
            skp_all_realised=proposal.skp_all_realised, closed_at=month.closed_at,
        )  # fmt: skip
        proposed = ProposalOut.model_validate(
            _ratings(proposal.hasil_kerja, proposal.perilaku_kerja)
        )
    if result is not None:
        as_proposed = (result.proposed_hasil, result.proposed_perilaku) == (
            result.hasil_kerja,
            result.perilaku_kerja,
        )
        confirmed = ConfirmedOut.model_validate(
            _ratings(result.hasil_kerja, result.perilaku_kerja)
            | {
                "reason": result.reason, "confirmed_by": result.confirmed_by,
                "as_plt_for": result.as_plt_for, "confirmed_at": result.confirmed_at,
                "revision": result.revision, "as_proposed": as_proposed,
            }
        )  # fmt: skip
    return KinerjaOut(
        nip=view.nip,
        nama=employee.nama if employee else None,
        opd=employee.opd if employee else None,
        period=view.period,
        atasan_nip=employee.atasan_nip if employee else None,
        as_plt_for=as_plt_for,
        status=status,
        status_label=STATUS_LABEL[status],
        summary=summary,
        proposal=proposed,
        result=confirmed,
    )


def _last_month(now: datetime) -> str:
    return f"{today(now).replace(day=1) - timedelta(days=1):%Y-%m}"


def _plt_for(uow: UnitOfWork, nip: str, day: date) -> list[str]:
    """The atasan NIPs `nip` stands in for on `day`."""
    return [d.atasan_nip for d in queries.active_delegations(uow, plt=nip) if d.covers(day)]


@router.get(
    "/kinerja",
    response_model=list[KinerjaOut],
    summary="Penilaian kinerja bulanan bawahan saya",
    description=(
        "Setiap ASN yang bulannya saya tetapkan (saya atasan langsungnya, atau penilainya bila "
        "ia tanpa atasan, pada hari aktif terakhirnya di bulan itu; juga mereka dari atasan yang "
        "hari ini melimpahkan kepada saya sebagai Plt): usulan sistem dengan predikatnya, dan "
        "penilaian yang sudah ditetapkan (oleh siapa, kapan). Tanpa `period`: bulan lalu."
    ),
    tags=["Hasil kinerja"],
)
def my_kinerja(
    who: Who,
    now: Now,
    kit: Kit,
    period: str | None = Query(None, description="YYYY-MM"),
) -> list[KinerjaOut]:
    me = person(who)
    key = period_key(period) if period else _last_month(now)
    with kit.uow() as uow:
        # those whose month the caller confirms (atasan or penilai of its last active day)
        groups: list[tuple[str | None, list[str]]] = [
            (None, queries.month_subordinates(uow, me, key))
        ]
        for atasan in _plt_for(uow, me, today(now)):
            theirs = [n for n in queries.month_subordinates(uow, atasan, key) if n != me]
            groups.append((atasan, theirs))
        out: list[KinerjaOut] = []
        seen: set[str] = set()
        for as_plt_for, nips in groups:
            fresh = [n for n in nips if n not in seen]
            seen.update(fresh)
            views = queries.kinerja_views(uow, fresh, key)
            out += [_out(uow, views[n], as_plt_for) for n in fresh]
        return out


def _may_read(uow: UnitOfWork, who: Actor, nip: str, day: date) -> bool:
    plt_for = _plt_for(uow, who.nip, day) if who.nip else []
    return scope.may_see_person(who, nip, find_employee(uow, nip), plt_for)


@router.get(
    "/kinerja/{nip}/{period}",
    response_model=KinerjaOut,
    summary="Penilaian kinerja bulanan seorang ASN",
    description="Usulan, penilaian yang ditetapkan dan predikatnya untuk satu bulan.",
    tags=["Hasil kinerja"],
)
def one_kinerja(nip: str, period: str, who: Who, now: Now, kit: Kit) -> KinerjaOut:
    key = period_key(period)
    with kit.uow() as uow:
        # who confirms the month (its atasan or penilai, or their Plt) reads it too
        me = who.nip if who.is_("asn", "atasan") else None
        if not _may_read(uow, who, nip, today(now)) and not (
            me and commands.kinerja_authority(uow, me, nip, key, today(now)) is not None
        ):
            raise forbidden("Anda tidak berwenang melihat penilaian kinerja pegawai ini.")
        view = queries.kinerja_views(uow, [nip], key)[nip]
        return _out(uow, view)


def _authority(uow: UnitOfWork, who: Actor, nip: str, period: str, now: datetime) -> str | None:
    """None as BKPSDM or the month's atasan (or penilai), the atasan's NIP as their Plt;
    else 403 (commands.kinerja_authority: whose month it is)."""
    if who.is_("bkpsdm") and who.nip:
        return None
    if who.is_("asn", "atasan") and who.nip:
        found = commands.kinerja_authority(uow, who.nip, nip, period, today(now))
        if found is not None:
            return found or None
    raise forbidden(
        "Hanya atasan langsung pegawai, Plt yang ditunjuknya untuk hari ini, atau BKPSDM yang "
        "menetapkan hasil kinerja."
    )


def _result_out(row: object) -> ResultOut:
    return ResultOut.model_validate(row, from_attributes=True)


@router.put(
    "/kinerja/{nip}/{period}",
    response_model=ResultOut,
    summary="Tetapkan hasil kinerja bulanan",
    description=(
        "Atasan langsung (Plt-nya untuk hari ini, atau BKPSDM) menetapkan hasil kerja dan "
        "perilaku kerja sebulan. Penilaian yang berbeda dari usulan sistem, atau tanpa usulan "
        "(bulan belum ditutup), wajib disertai alasan. Perubahan setelah terkirim ke SIASN "
        "dikirim ulang sebagai koreksi."
    ),
    tags=["Hasil kinerja"],
)
def confirm_result(
    nip: str, period: str, body: ResultIn, who: Who, now: Now, kit: Kit
) -> ResultOut:
    key = period_key(period)
    with kit.uow() as uow:
        as_plt_for = _authority(uow, who, nip, key, now)
        assert who.nip is not None  # _authority refuses a caller without one
        try:
            row = commands.confirm_kinerja(
                uow, nip, key, body.hasil_kerja, body.perilaku_kerja, body.reason, who.nip, now,
                as_plt_for=as_plt_for,
            )  # fmt: skip
        except domain.DomainError as err:
            raise problem(err) from None
        return _result_out(row)


class BulkIn(BaseModel):
    nips: list[str] = Field(min_length=1, max_length=MAX_BULK)


class BulkItemOut(BaseModel):
    nip: str
    ok: bool
    code: str
    message: str
    result: ResultOut | None = None


class BulkOut(BaseModel):
    period: str
    results: list[BulkItemOut]


@router.post(
    "/kinerja/{period}/confirm-proposals",
    response_model=BulkOut,
    summary="Tetapkan usulan sistem untuk beberapa ASN",
    description=(
        "Menetapkan penilaian tiap ASN yang dipilih persis seperti usulan sistem. Hasil per "
        "ASN: yang tidak berwenang, belum ada usulannya, atau sudah ditetapkan ditolak "
        "sendiri-sendiri tanpa menghentikan yang lain."
    ),
    tags=["Hasil kinerja"],
)
def confirm_proposals(period: str, body: BulkIn, who: Who, now: Now, kit: Kit) -> BulkOut:
    key = period_key(period)
    if not who.is_("asn", "atasan", "bkpsdm") or not who.nip:
        raise forbidden(
            "Hanya atasan langsung, Plt yang ditunjuknya, atau BKPSDM yang menetapkan hasil "
            "kinerja."
        )
    results: list[BulkItemOut] = []
    for nip in dict.fromkeys(body.nips):
        with kit.uow() as uow:
            results.append(_confirm_one(uow, who, nip, key, now))
    return BulkOut(period=key, results=results)


def _confirm_one(uow: UnitOfWork, who: Actor, nip: str, period: str, now: datetime) -> BulkItemOut:
    try:
        as_plt_for = _authority(uow, who, nip, period, now)
    except Problem as refused:
        return BulkItemOut(nip=nip, ok=False, code="forbidden", message=refused.detail)
    view = queries.kinerja_views(uow, [nip], period)[nip]
    if view.proposal is None:
        return BulkItemOut(
            nip=nip, ok=False, code="no_proposal",
            message="Usulan belum ada: bulan ini belum ditutup untuk TPP.",
        )  # fmt: skip
    if view.result is not None:
        return BulkItemOut(
            nip=nip, ok=False, code="already_confirmed",
            message="Penilaian sudah ditetapkan; ubah satu per satu bila perlu.",
        )  # fmt: skip
    assert who.nip is not None
    row = commands.confirm_kinerja(
        uow, nip, period, view.proposal.hasil_kerja, view.proposal.perilaku_kerja, "", who.nip,
        now, as_plt_for=as_plt_for,
    )  # fmt: skip
    confirmed_at = row.confirmed_at.astimezone(WIB)
    return BulkItemOut(
        nip=nip, ok=True, code="ok",
        message=f"Ditetapkan sesuai usulan pada {confirmed_at:%d-%m-%Y %H.%M} WIB.",
        result=_result_out(row),
    )  # fmt: skip
