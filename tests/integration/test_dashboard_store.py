"""The city dashboard's month counts on the real stores (SQLite and PostgreSQL): attendance's
days per OPD and activity's on-time filing per OPD are counted by the database (no MAX of a
boolean: PostgreSQL has none), a NIP transferred within the month in the OPD of each date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from services.activity import queries as activity_queries
from services.activity.app import build_kit as activity_kit
from services.activity.domain import ReportLimits
from services.activity.models import Report
from services.activity.queries import FilingRules
from services.attendance import queries as attendance_queries
from services.attendance.app import build_kit as attendance_kit
from services.attendance.models import DayClosing
from services.kernel.calendar import WIB, indonesia_calendar
from services.shared.settings import Settings

A, B = "199001012015011001", "198503152010122002"
X, Y = "DISKOMINFO", "BAPPEDA"
AT = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def periods(kit: object, moved_on: date) -> None:
    """A in X until the day before `moved_on`, in Y from it; B in X all along."""
    table = kit.tables.employee_period  # type: ignore[attr-defined]
    with kit.uow() as uow:  # type: ignore[attr-defined]
        uow.session.add(table(nip=A, first_day=None, last_day=date(2026, 10, moved_on.day - 1),
                              nama="A", opd=X))  # fmt: skip
        uow.session.add(table(nip=A, first_day=moved_on, last_day=None, nama="A", opd=Y))
        uow.session.add(table(nip=B, first_day=None, last_day=None, nama="B", opd=X))
        uow.commit()


def test_attendance_days_per_opd(store_url: str, tmp_path: Path) -> None:
    kit = attendance_kit(Settings(data_dir=tmp_path, database_url=store_url))
    kit.migrate()
    periods(kit, date(2026, 10, 16))
    with kit.uow() as uow:
        for nip, day, status, late in (
            (A, 14, "present", 10),  # X, terlambat
            (A, 16, "present", 0),  # Y, hadir
            (A, 19, "tanpa_keterangan", None),  # Y
            (B, 5, "present", 0),  # X, hadir
            (B, 6, "cuti_sakit", None),  # X, an absence
            (B, 10, "non_working", None),  # Saturday: not counted
        ):
            uow.session.add(DayClosing(nip=nip, work_date=date(2026, 10, day), status=status,
                                       minutes_late=late, closed_at=AT))  # fmt: skip
        uow.commit()
    got = attendance_queries.opds_attendance(kit, date(2026, 10, 1), date(2026, 10, 31))
    # X: 3 days, hadir 1 + terlambat 1 -> 66.7 %; Y: 2 days, hadir 1 -> 50.0 %
    assert [(o["opd"], o["hari_pegawai"], o["hadir"], o["terlambat"], o["tanpa_keterangan"],
             o["ketidakhadiran"], o["tingkat_kehadiran"]) for o in got["opds"]] == [
        (Y, 2, 1, 0, 1, 0, 50.0),
        (X, 3, 1, 1, 0, 1, 66.7),
    ]  # fmt: skip
    kit.engine.dispose()


def test_on_time_filing_per_opd(store_url: str, tmp_path: Path) -> None:
    kit = activity_kit(Settings(data_dir=tmp_path, database_url=store_url))
    kit.migrate()
    periods(kit, date(2026, 10, 7))

    def wib(day: int, hour: int) -> datetime:
        return datetime(2026, 10, day, hour, tzinfo=WIB)

    with kit.uow() as uow:
        for i, (nip, day, filed, status, imported) in enumerate((
            (A, 5, wib(5, 15), "pending", False),  # X, on the day
            (A, 6, wib(6, 15), "withdrawn", False),  # X, withdrawn: no report
            (A, 7, wib(8, 9), "approved", False),  # Y, next morning: before the deadline
            (A, 8, wib(12, 8), "approved", False),  # Y, after Friday 23.59: through an opening
            (B, 1, wib(20, 8), "approved", True),  # X, loaded by the migration import
            (B, 2, wib(2, 16), "approved", False),  # X, on the day
        )):  # fmt: skip
            uow.session.add(Report(id=f"r{i}", nip=nip, work_date=date(2026, 10, day),
                                   description="x", status=status, imported=imported,
                                   filed_at=filed, updated_at=filed))  # fmt: skip
        uow.commit()
    rules = FilingRules(1, time(23, 59), ReportLimits(), indonesia_calendar)
    with kit.uow() as uow:
        got = activity_queries.opds_filing(
            uow, rules, date(2026, 10, 1), date(2026, 10, 31), wib(12, 10)
        )
    # Monday the 12th 10.00: judged 1, 2, 5, 6, 7, 8 October (the 9th's deadline is tonight).
    # X: A on 1, 2, 5, 6 and B on all six = 10 days; on the day 2 (A 5th, B 2nd), imported 1,
    #   none 7 -> 2 / 10 = 20.0 %. Y: A on 7 and 8 = 2 days: before the deadline 1, after 1.
    assert got["hari_dinilai"] == [f"2026-10-{d:02d}" for d in (1, 2, 5, 6, 7, 8)]
    assert [(o["opd"], o["hari_wajib"], o["hari_itu"], o["sebelum_batas"], o["lewat_batas"],
             o["diimpor"], o["tidak_ada"], o["persen_tepat_waktu"]) for o in got["opds"]] == [
        (Y, 2, 0, 1, 1, 0, 0, 50.0),
        (X, 10, 2, 0, 0, 1, 7, 20.0),
    ]  # fmt: skip
    kit.engine.dispose()
