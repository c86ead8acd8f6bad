"""The month's kinerja result: the atasan (or BKPSDM) confirms or changes the two ratings
of an ASN; each confirmation is announced (KinerjaResultConfirmed) for siasn to deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.approval import commands
from services.approval.routes.deps import Kit, Now, Who, forbidden, period_key
from services.shared.employees import atasan_of
from services.shared.http import Problem

router = APIRouter()
Rating = Literal["di_atas", "sesuai", "di_bawah"]


class ResultIn(BaseModel):
    hasil_kerja: Rating
    perilaku_kerja: Rating
    reason: str = Field("", max_length=1000, description="alasan bila mengubah usulan")


class ResultOut(ResultIn):
    nip: str
    period: str
    confirmed_by: str
    revision: int
    confirmed_at: datetime


@router.put(
    "/kinerja/{nip}/{period}",
    response_model=ResultOut,
    summary="Tetapkan hasil kinerja bulanan",
    description=(
        "Atasan langsung (atau BKPSDM) menetapkan hasil kerja dan perilaku kerja sebulan; "
        "perubahan setelah terkirim ke SIASN dikirim ulang sebagai koreksi."
    ),
    tags=["Hasil kinerja"],
)
def confirm_result(
    nip: str, period: str, body: ResultIn, who: Who, now: Now, kit: Kit
) -> ResultOut:
    key = period_key(period)
    with kit.uow() as uow:
        atasan = atasan_of(uow, nip)
        if not (who.is_("bkpsdm") or (who.nip is not None and who.nip == atasan)):
            raise forbidden("Hanya atasan langsung atau BKPSDM yang menetapkan hasil kinerja.")
        if who.nip is None:
            raise Problem(422, "Token penilai tidak memuat NIP", code="no_actor_nip")
        row = commands.confirm_kinerja(
            uow, nip, key, body.hasil_kerja, body.perilaku_kerja, body.reason, who.nip, now
        )
        return ResultOut(
            nip=nip, period=key, hasil_kerja=row.hasil_kerja, perilaku_kerja=row.perilaku_kerja,
            reason=row.reason, confirmed_by=row.confirmed_by, revision=row.revision,
            confirmed_at=row.confirmed_at,
        )  # fmt: skip
