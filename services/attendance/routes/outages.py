"""Device outages attendance proposes to BKPSDM (RULES.md "Annulled cuts"): the days an
OPD's devices sent nothing while its employees were due. BKPSDM confirms one by recording
an OPD annulment in tpp citing `usulan` (the portal or the operator carries it over)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request

from services.attendance import outages
from services.kernel.calendar import WIB
from services.shared.http import Who, kit_of, now_of, period_bounds_or_422
from services.shared.scope import CITY_READERS, caller_opd, forbidden

router = APIRouter()


@router.get(
    "/device-outages",
    summary="Usulan gangguan mesin sidik jari",
    description=(
        "Pasangan (OPD, tanggal) hari kerja yang sudah lewat tanpa data apa pun dari mesin OPD "
        "itu, padahal pegawainya wajib hadir. BKPSDM mengonfirmasi dengan mencatat pembatalan "
        "potongan OPD di layanan TPP, mengutip `usulan`. Operator: OPD-nya saja."
    ),
    tags=["Mesin sidik jari"],
)
def device_outages(
    request: Request, who: Who, period: str, opd: str | None = None
) -> list[dict[str, Any]]:
    if who.role not in CITY_READERS:
        mine = caller_opd(who) if who.role == "operator" else None
        if mine is None or (opd is not None and opd != mine):
            raise forbidden("melihat usulan gangguan mesin OPD ini")
        opd = mine
    first, last = period_bounds_or_422(period, "bad_period")
    yesterday = now_of(request).astimezone(WIB).date() - timedelta(days=1)
    with kit_of(request).uow() as uow:
        found = outages.device_outages(uow, first, min(last, yesterday), opd)
    return [
        {
            "opd": o.opd,
            "tanggal": o.day.isoformat(),
            "mesin": list(o.devices),
            "pegawai_wajib_hadir": o.expected,
            "usulan": o.reference,
            "alasan_usulan": o.reason,
        }
        for o in found
    ]
