"""The closer: the only caller of the clock for day closing. Every tick it closes each
ended date of the look-back window that is not closed yet, and refreshes the device
offline metric."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sqlmodel import select

from services.attendance import quarantine, store
from services.attendance.config import AttendanceConfig
from services.attendance.models import Device
from services.attendance.routes.devices import refresh_offline_metric
from services.kernel.calendar import WIB
from services.shared.kit import ServiceKit
from services.shared.logs import get_logger

log = get_logger("sikerja.attendance.scheduler")


def closing_window(today_wib: date, lookback_days: int) -> list[date]:
    """The ended dates the closer looks after: the `lookback_days` before today (WIB)."""
    return [today_wib - timedelta(days=n) for n in range(lookback_days, 0, -1)]


def tick(kit: ServiceKit, config: AttendanceConfig, now: datetime) -> list[store.CloseResult]:
    """One pass of the closer at `now`; one transaction per date. A date not closed yet is
    closed for everyone; a closed one only for active employees still without a closing."""
    today = now.astimezone(WIB).date()
    try:
        with kit.uow() as uow:
            # Waiting scans whose employee is known by now (held while its EmployeeUpserted
            # was being applied): released before the dates are closed.
            max_future = timedelta(minutes=config.max_future_minutes)
            released = quarantine.sweep(uow, now=now, max_future=max_future)
            uow.commit()
        if released:
            log.info("quarantined scans released", scans=released)
    except Exception as exc:  # noqa: BLE001 - e.g. a concurrent release won: retried next tick
        log.warning("quarantine sweep failed", error=repr(exc))
    with kit.uow() as uow:
        window = closing_window(today, config.close_lookback_days)
        closed = store.closed_dates(uow, window)
        devices = list(uow.session.exec(select(Device)).all())
    refresh_offline_metric(devices, now, config.device_offline_after_s)
    results = []
    for day in sorted(window):
        with kit.uow() as uow:
            # Every worker process runs a closer: one closes a date at a time, and the next
            # one reads what it wrote (re-closing emits only changes, so nothing twice).
            uow.serialize(f"attendance.close:{day.isoformat()}")
            nips: set[str] | None = None
            if day in closed:
                # Employees who joined the projection after the date was closed.
                if not store.load_calendar(uow, [day.year]).is_working_day(day):
                    continue
                nips = store.unclosed_employees(uow, day)
                if not nips:
                    continue
            result = store.close_date(
                uow, day, closed_at=now, ruleset=kit.settings.ruleset, nips=nips
            )
            uow.commit()
        log.info("day closed", **result.as_dict())
        results.append(result)
    return results


async def run(kit: ServiceKit, config: AttendanceConfig) -> None:
    while True:
        try:
            await asyncio.to_thread(tick, kit, config, kit.clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next tick retries; closing is idempotent
            log.error("closer tick failed", error=repr(exc))
        await asyncio.sleep(config.scheduler_interval_s)
