"""The siasn service consumes the month's confirmed kinerja results (approval) and TPP's
period close: a result is due for SIASN once both are in (docs/rules.md "Monthly kinerja
result"). A correction after sending marks SIASN's record for deletion and re-sends."""

from __future__ import annotations

from contracts.events import KinerjaResultConfirmed, TppPeriodClosed
from services.shared.employees import find_employee, periods_of
from services.shared.handlers import Handlers
from services.shared.uow import UnitOfWork
from services.siasn.domain import month_placement, predikat
from services.siasn.models import DUE, SENDING, SENT, WAITING, KinerjaDelivery


def _opd_in(uow: UnitOfWork, nip: str, period: str) -> str:
    """The NIP's OPD in the month `period` (who the person was then, not now:
    domain.month_placement), else the latest period's."""
    placement = month_placement(periods_of(uow, nip), period)
    if placement is not None:
        return placement.opd
    employee = find_employee(uow, nip)
    return employee.opd if employee is not None else ""


def _row(uow: UnitOfWork, nip: str, period: str) -> KinerjaDelivery:
    row = uow.session.get(KinerjaDelivery, (nip, period))
    if row is None:
        opd = _opd_in(uow, nip, period)
        row = KinerjaDelivery(nip=nip, period=period, opd=opd, updated_at=uow.clock())
    return row


def on_result(uow: UnitOfWork, event: KinerjaResultConfirmed) -> None:
    row = _row(uow, event.nip, event.period)
    if event.revision <= row.revision:
        return  # an older or repeated decision: the newer one stands
    row.hasil_kerja, row.perilaku_kerja = event.hasil_kerja, event.perilaku_kerja
    row.predikat = predikat(event.hasil_kerja, event.perilaku_kerja)
    row.confirmed_by, row.revision = event.confirmed_by, event.revision
    if row.state == SENT and row.siasn_record_id:
        # a correction after sending: SIASN's record goes first, then the new one is sent
        row.delete_record_id, row.siasn_record_id = row.siasn_record_id, None
    if row.state != SENDING:  # in flight: the deliverer sees the newer revision after
        row.state = DUE if row.closed else WAITING
        row.attempts, row.next_attempt_at, row.last_error = 0, None, ""
    row.updated_at = uow.clock()
    uow.session.add(row)


def on_closed(uow: UnitOfWork, event: TppPeriodClosed) -> None:
    row = _row(uow, event.nip, event.period)
    if row.closed:
        return
    row.closed = True
    if row.state == WAITING and row.hasil_kerja is not None:
        row.state = DUE
    row.updated_at = uow.clock()
    uow.session.add(row)


def handlers() -> Handlers:
    return Handlers(on_result, on_closed)
