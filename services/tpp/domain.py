"""The TPP of a month (docs/rules.md "TPP of a month"): day facts + approved reports -> statement.

Pure: plain values in, plain values out; every number comes from the RuleSet. Amounts are
integer rupiah, rounded once per line, half up. The same code serves the live TPP service
and `sikerja simulate`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from contracts.nip import nip_refusal
from services.kernel.bahasa import rupiah as rp
from services.kernel.calendar import parse_period, period_bounds, year_problem
from services.kernel.employment import ONE_DAY, last_active, month_pagu, ordered, period_on
from services.kernel.employment import Period as EmploymentPeriod
from services.kernel.ruleset import RuleSet

NON_WORKING = "non_working"  # a closed day that later became a holiday: costs and earns nothing
PRESENT = "present"

_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_PERCENT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class DayRecord:
    """The latest AttendanceDayClosed revision of one date."""

    day: date
    status: str
    minutes_late: int | None  # None: no check-in
    minutes_early: int | None  # None: no check-out


@dataclass(frozen=True)
class StatementLine:
    day: date
    code: str
    # Attendance lines: percent of the pagu. LKH lines: percent of the produktivitas
    # component (100 / required report days), quantized to 4 places — documented reading.
    percent: Decimal
    amount: int
    article: str
    # Set when BKPSDM annulled the line (RULES.md "Annulled cuts"): `amount` is then 0 and
    # `annulled_amount` is what the line would have cost.
    annulled_amount: int | None = None
    annulled_reason: str | None = None
    annulment_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date": self.day.isoformat(),
            "code": self.code,
            "percent": str(self.percent),
            "amount": self.amount,
            "article": self.article,
        }
        if self.annulled_amount is not None:  # only annulled lines carry the keys
            out["annulled_amount"] = self.annulled_amount
            out["annulled_reason"] = self.annulled_reason
            out["annulment_id"] = self.annulment_id
        return out


@dataclass(frozen=True)
class Statement:
    nip: str
    period: str
    rules_name: str
    pagu: int
    discipline: int
    productivity: int
    lines: tuple[StatementLine, ...]
    attendance_deduction: int
    attendance_deduction_uncapped: int
    productivity_deduction: int
    productivity_deduction_uncapped: int
    required_report_days: int
    approved_report_days: int  # required report days that have an approved report
    net: int
    # How `pagu` came from the employment periods (`month_statement` sets it); not part of
    # the statement's money, so not compared and not in `to_dict` (simulate's output).
    pagu_basis: PaguBasis | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nip": self.nip,
            "pagu": self.pagu,
            "discipline": self.discipline,
            "productivity": self.productivity,
            "attendance_deduction": self.attendance_deduction,
            "productivity_deduction": self.productivity_deduction,
            "net": self.net,
            "lines": [line.to_dict() for line in self.lines],
        }


def round_rupiah(value: Decimal) -> int:
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: Decimal) -> int:
    """`percent`% of `amount`, rounded half up to the rupiah."""
    return round_rupiah(Decimal(amount) * percent / _HUNDRED)


def _unknown_status(status: str, rules: RuleSet) -> ValueError:
    return ValueError(f"status hari '{status}' tidak dikenal oleh rule set '{rules.name}'")


def day_attendance_lines(record: DayRecord, pagu: int, rules: RuleSet) -> list[StatementLine]:
    """The attendance lines of one working day (late and early lines of a day add up)."""
    status = record.status
    if status == NON_WORKING or status in rules.no_deduction_statuses:
        return []
    if status in (rules.tk.status, rules.its.status):
        # A whole-day line replaces the missing check-in/check-out lines of that day.
        penalty = rules.tk if status == rules.tk.status else rules.its
        return [_line(record.day, penalty.code, penalty.percent, penalty.article, pagu)]
    if status != PRESENT:
        raise _unknown_status(status, rules)
    found: list[StatementLine] = []
    if record.minutes_late is None:
        p = rules.missing_checkin
        found.append(_line(record.day, p.code, p.percent, p.article, pagu))
    else:
        band = rules.late_band(record.minutes_late)
        if band.percent > 0 and band.code and band.article:
            found.append(_line(record.day, band.code, band.percent, band.article, pagu))
    if record.minutes_early is None:
        p = rules.missing_checkout
        found.append(_line(record.day, p.code, p.percent, p.article, pagu))
    else:
        band = rules.early_band(record.minutes_early)
        if band.percent > 0 and band.code and band.article:
            found.append(_line(record.day, band.code, band.percent, band.article, pagu))
    return found


def _line(day: date, code: str, percent: Decimal, article: str, pagu: int) -> StatementLine:
    return StatementLine(day, code, percent, percent_of(pagu, percent), article)


def compute_statement(
    nip: str,
    period: str,
    pagu: int,
    days: Iterable[DayRecord],
    approved_report_days: set[date],
    rules: RuleSet,
    annulments: Iterable[Annulment] = (),
    *,
    periods: Sequence[EmploymentPeriod] | None = None,
) -> Statement:
    """The month's statement of one ASN. `days`: one record per date (latest revision).
    `annulments`: those of this NIP (`annulments_for`), applied once the lines are built.

    `periods` (RULES.md "Employment within a month"): a day no period covers carries no
    line and is no required report day; a line is the pagu of its date's period x its
    percentage. `pagu` is then the month's (`month_statement` computes it). Without
    `periods`, `pagu` holds on every day (one open period)."""
    if pagu < 0:
        raise ValueError("pagu TPP tidak boleh negatif")
    year, month = parse_period(period)
    discipline = percent_of(pagu, rules.discipline_share)
    productivity = pagu - discipline

    in_period = sorted(
        (d for d in days if d.day.year == year and d.day.month == month), key=lambda d: d.day
    )
    seen: set[date] = set()
    lines: list[StatementLine] = []
    required: list[date] = []
    known = rules.known_statuses()
    for record in in_period:
        if record.day in seen:
            raise ValueError(f"tanggal {record.day} muncul lebih dari sekali untuk NIP {nip}")
        seen.add(record.day)
        if record.status != NON_WORKING and record.status not in known:
            raise _unknown_status(record.status, rules)
        day_pagu = pagu
        if periods is not None:
            in_force = period_on(periods, record.day)
            if in_force is None:
                continue  # not active: kept by attendance, costs and earns nothing
            day_pagu = in_force.tpp_pagu
        lines.extend(day_attendance_lines(record, day_pagu, rules))
        if record.status in rules.report_required_statuses:
            required.append(record.day)

    missing = [d for d in required if d not in approved_report_days]
    lkh_lines: list[StatementLine] = []
    if required:
        share = (_HUNDRED / len(required)).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)
        amount = round_rupiah(Decimal(productivity) / len(required))
        lkh_lines = [
            StatementLine(d, rules.lkh.code, share, amount, rules.lkh.article) for d in missing
        ]

    annulled = list(annulments)
    if annulled:  # after the lines are built: required report days stay as they are
        lines = apply_annulments(lines, annulled)
        lkh_lines = apply_annulments(lkh_lines, annulled)
    attendance_uncapped = sum(line.amount for line in lines)
    productivity_uncapped = sum(line.amount for line in lkh_lines)
    if rules.attendance_cap == "discipline":
        attendance = min(attendance_uncapped, discipline)
        productivity_deduction = min(productivity_uncapped, productivity)
    else:  # "pagu": attendance may reach into produktivitas, but the net never goes below 0
        attendance = min(attendance_uncapped, pagu)
        productivity_deduction = min(productivity_uncapped, productivity, pagu - attendance)

    all_lines = sorted([*lines, *lkh_lines], key=lambda line: (line.day, line.code))
    return Statement(
        nip=nip,
        period=f"{year:04d}-{month:02d}",
        rules_name=rules.name,
        pagu=pagu,
        discipline=discipline,
        productivity=productivity,
        lines=tuple(all_lines),
        attendance_deduction=attendance,
        attendance_deduction_uncapped=attendance_uncapped,
        productivity_deduction=productivity_deduction,
        productivity_deduction_uncapped=productivity_uncapped,
        required_report_days=len(required),
        approved_report_days=len(required) - len(missing),
        net=pagu - attendance - productivity_deduction,
    )


def month_statement(
    nip: str,
    period: str,
    periods: Sequence[EmploymentPeriod],
    working_days: Sequence[date],
    days: Iterable[DayRecord],
    approved_report_days: set[date],
    rules: RuleSet,
    annulments: Iterable[Annulment] = (),
) -> tuple[Statement, EmploymentPeriod] | None:
    """The statement of `period` from the NIP's employment periods, and the period of its
    last active working day (whose OPD owns the statement); None when no working day of
    the month is active (no statement). `working_days`: the month's, from the calendar.

    Pagu of the month = Σ day pagu over the working days (0 when not active) ÷ working
    days, half up (kernel `month_pagu`); every line takes the pagu of its own date."""
    owner = last_active(periods, working_days)
    if owner is None:
        return None
    pagu = month_pagu(periods, working_days)
    statement = compute_statement(
        nip, period, pagu, days, approved_report_days, rules, annulments, periods=periods
    )
    return replace(statement, pagu_basis=pagu_basis(period, periods, working_days)), owner


# -- how the month's pagu came about (RULES.md "Employment within a month") ---------------


@dataclass(frozen=True)
class PaguPart:
    """One employment period as far as it falls in the month."""

    first: date  # first day of the period in the month
    last: date  # last day of the period in the month
    opd: str
    jabatan: str
    tpp_pagu: int
    working_days: int  # the month's working days this period covers


@dataclass(frozen=True)
class OutsideSpan:
    """Consecutive days of the month no period covers ("di luar masa kerja")."""

    first: date
    last: date
    working_days: int


@dataclass(frozen=True)
class PaguBasis:
    """The arithmetic of the month's pagu: Σ(part working days × part pagu) ÷ working days,
    half up. `prorated` is False when one pagu covers every working day (nothing to explain)."""

    working_days: int
    active_working_days: int
    parts: tuple[PaguPart, ...]
    outside: tuple[OutsideSpan, ...]
    day_pagu_total: int  # Σ over the working days of that day's pagu (0 when not active)
    pagu: int

    @property
    def prorated(self) -> bool:
        pagus = {p.tpp_pagu for p in self.parts if p.working_days}
        return self.active_working_days < self.working_days or len(pagus) > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "working_days": self.working_days,
            "active_working_days": self.active_working_days,
            "prorated": self.prorated,
            "periods": [
                {
                    "first": p.first.isoformat(),
                    "last": p.last.isoformat(),
                    "opd": p.opd,
                    "jabatan": p.jabatan,
                    "tpp_pagu": p.tpp_pagu,
                    "working_days": p.working_days,
                }
                for p in self.parts
            ],
            "outside": [
                {
                    "first": o.first.isoformat(),
                    "last": o.last.isoformat(),
                    "working_days": o.working_days,
                }
                for o in self.outside
            ],
            "day_pagu_total": self.day_pagu_total,
            "pagu": self.pagu,
        }


def pagu_basis(
    period: str, periods: Sequence[EmploymentPeriod], working_days: Sequence[date]
) -> PaguBasis:
    """The periods that touch `period` clipped to the month, with the working days each
    covers, the spans outside every period, and the sum `month_pagu` divides."""
    first, last = period_bounds(period)
    working = set(working_days)
    parts: list[PaguPart] = []
    for p in ordered(periods):
        if not p.overlaps(first, last):
            continue
        start = max(p.first or first, first)
        end = min(p.last or last, last)
        covered = sum(1 for d in working if start <= d <= end)
        parts.append(PaguPart(start, end, p.opd, p.jabatan, p.tpp_pagu, covered))
    outside: list[OutsideSpan] = []
    day = first
    while day <= last:
        if period_on(periods, day) is not None:
            day += ONE_DAY
            continue
        start = day
        while day + ONE_DAY <= last and period_on(periods, day + ONE_DAY) is None:
            day += ONE_DAY
        outside.append(OutsideSpan(start, day, sum(1 for d in working if start <= d <= day)))
        day += ONE_DAY
    return PaguBasis(
        working_days=len(working),
        active_working_days=sum(p.working_days for p in parts),
        parts=tuple(parts),
        outside=tuple(outside),
        day_pagu_total=sum(p.working_days * p.tpp_pagu for p in parts),
        pagu=month_pagu(periods, working_days),
    )


# -- annulled cuts (RULES.md "Annulled cuts") ---------------------------------------------


@dataclass(frozen=True)
class Annulment:
    """BKPSDM's annulment of the cuts of one date: of one NIP or of one OPD (every employee
    whose period on that date is in it), of one line code or (None) of every line."""

    id: str
    day: date
    nip: str | None
    opd: str | None
    code: str | None
    reason: str

    def covers(self, nip: str, opd_on_day: str | None) -> bool:
        """Does it name this employee (`opd_on_day`: their OPD on `day`, None: not active)?"""
        if self.nip is not None:
            return self.nip == nip
        return opd_on_day is not None and opd_on_day == self.opd


def annulments_for(
    nip: str, annulments: Iterable[Annulment], opd_on: Callable[[date], str | None]
) -> list[Annulment]:
    """The annulments that name `nip`; `opd_on(day)`: the employee's OPD on that day
    (from their period; None when not active), never their OPD of today."""
    return [a for a in annulments if a.covers(nip, opd_on(a.day) if a.nip is None else None)]


def apply_annulments(
    lines: Sequence[StatementLine], annulments: Iterable[Annulment]
) -> list[StatementLine]:
    """Each line an annulment covers (same date; same code, or any code when it names none)
    stays with amount 0, what it would have cost and the reason; the first annulment in
    the given order gives the reason. Lines already annulled are kept as they are."""
    by_day: dict[date, list[Annulment]] = {}
    for a in annulments:
        by_day.setdefault(a.day, []).append(a)
    out: list[StatementLine] = []
    for line in lines:
        match = next(
            (a for a in by_day.get(line.day, ()) if a.code is None or a.code == line.code), None
        )
        if match is None or line.annulled_amount is not None:
            out.append(line)
        else:
            out.append(
                replace(
                    line,
                    amount=0,
                    annulled_amount=line.amount,
                    annulled_reason=match.reason,
                    annulment_id=match.id,
                )
            )
    return out


MAX_REASON = 500


@dataclass(frozen=True)
class AnnulmentRequest:
    """What BKPSDM (or a line of annulments.csv) asks for, checked in shape."""

    day: date
    nip: str | None
    opd: str | None
    code: str | None
    reason: str


def parse_annulment(
    tanggal: str,
    nip: str,
    opd: str,
    kode: str,
    alasan: str,
    codes_of: Callable[[date], Iterable[str]],
    today: date | None = None,
) -> AnnulmentRequest:
    """The fields of one annulment (form or CSV line), or ValueError in Bahasa. `codes_of`:
    the line codes of the rule set in force on a date (`line_codes`); `today` (WIB): no
    annulment ahead of it."""
    text = tanggal.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"tanggal '{text}' tidak valid; gunakan format YYYY-MM-DD") from None
    if problem := year_problem(day.year):
        raise ValueError(f"tanggal '{text}' tidak valid: {problem}")
    if today is not None and day > today:
        raise ValueError(
            f"tanggal {day:%d-%m-%Y} belum terjadi; pembatalan potongan hanya untuk hari ini "
            "atau tanggal yang sudah lewat"
        )
    nip, opd = nip.strip(), opd.strip()
    if bool(nip) == bool(opd):
        which = "keduanya terisi" if nip else "keduanya kosong"
        raise ValueError(f"isi tepat satu dari nip atau opd ({which})")
    if nip and (refusal := nip_refusal(nip)):
        raise ValueError(refusal)
    code = kode.strip().upper() or None
    known = sorted(set(codes_of(day)))
    if code is not None and code not in known:
        raise ValueError(
            f"kode '{kode.strip()}' tidak dikenal; isi salah satu dari {', '.join(known)} "
            "atau kosongkan untuk semua potongan tanggal itu"
        )
    reason = " ".join(alasan.split())
    if not reason:
        raise ValueError("alasan pembatalan wajib diisi")
    if len(reason) > MAX_REASON:
        raise ValueError(f"alasan terlalu panjang ({len(reason)} karakter, batas {MAX_REASON})")
    return AnnulmentRequest(day, nip or None, opd or None, code, reason)


def not_active_refusal(nip: str, day: date) -> str:
    """An annulment of a NIP with no period on its date names nobody (live and simulate)."""
    return f"NIP {nip} tidak tercatat sebagai pegawai aktif pada tanggal {day:%d-%m-%Y}"


def opd_empty_refusal(opd: str, day: date) -> str:
    """An annulment of an OPD nobody's period on its date is in names nobody."""
    return f"tidak ada pegawai OPD '{opd}' pada tanggal {day:%d-%m-%Y}"


def line_codes(rules: RuleSet) -> list[str]:
    """Every line code the rule set can write (what an annulment may name)."""
    codes = [b.code for b in (*rules.late_bands, *rules.early_bands) if b.code]
    codes += [rules.missing_checkin.code, rules.missing_checkout.code]
    codes += [rules.tk.code, rules.its.code, rules.lkh.code]
    return sorted(set(codes))


def deduction_caps(statement: Statement, rules: RuleSet) -> tuple[int, int]:
    """The caps the two deduction totals were held to: (attendance, produktivitas)."""
    if rules.attendance_cap == "discipline":
        return statement.discipline, statement.productivity
    return statement.pagu, min(
        statement.productivity, statement.pagu - statement.attendance_deduction
    )


def period_of(day: date) -> str:
    """The period (YYYY-MM) a business date belongs to."""
    return f"{day.year:04d}-{day.month:02d}"


def statement_from_dict(data: dict[str, Any], *, nip: str, period: str, rules: str) -> Statement:
    """Rebuild a Statement from its stored form (`Statement.to_dict()` plus the counters)."""
    lines = tuple(
        StatementLine(
            date.fromisoformat(ln["date"]),
            ln["code"],
            Decimal(ln["percent"]),
            int(ln["amount"]),
            ln["article"],
            ln.get("annulled_amount"),
            ln.get("annulled_reason"),
            ln.get("annulment_id"),
        )
        for ln in data["lines"]
    )
    return Statement(
        nip=nip,
        period=period,
        rules_name=rules,
        pagu=int(data["pagu"]),
        discipline=int(data["discipline"]),
        productivity=int(data["productivity"]),
        lines=lines,
        attendance_deduction=int(data["attendance_deduction"]),
        attendance_deduction_uncapped=int(
            data.get("attendance_deduction_uncapped", data["attendance_deduction"])
        ),
        productivity_deduction=int(data["productivity_deduction"]),
        productivity_deduction_uncapped=int(
            data.get("productivity_deduction_uncapped", data["productivity_deduction"])
        ),
        required_report_days=int(data.get("required_report_days", 0)),
        approved_report_days=int(data.get("approved_report_days", 0)),
        net=int(data["net"]),
    )


def report_filing_allowed(has_scan: bool, absence_kind: str | None) -> bool:
    """docs/rules.md "Daily reports": a report for D needs a scan on D or dinas_luar on D.

    Minimal twin of the live gate in services/activity/domain.py, used by the simulation
    (which has no filing time, so the deadline is not checked here)."""
    return has_scan or absence_kind == "dinas_luar"


# -- explaining a recomputation ----------------------------------------------------------


@dataclass(frozen=True)
class StatementChange:
    """One difference between two statements of the same NIP and period."""

    # line_added | line_removed | line_changed | line_annulled | line_restored |
    # rules_changed | net_changed
    kind: str
    message: str  # Bahasa Indonesia, for the ASN
    day: date | None = None
    code: str | None = None
    old: int | str | None = None
    new: int | str | None = None


def diff_statements(old: Statement, new: Statement) -> list[StatementChange]:
    """What changed from `old` to `new` (e.g. recomputed with another rule set or facts)."""
    changes: list[StatementChange] = []
    if old.rules_name != new.rules_name:
        changes.append(
            StatementChange(
                "rules_changed",
                f"Aturan berubah dari {old.rules_name} menjadi {new.rules_name}",
                old=old.rules_name,
                new=new.rules_name,
            )
        )
    old_lines = {(line.day, line.code): line for line in old.lines}
    new_lines = {(line.day, line.code): line for line in new.lines}
    for key in sorted(old_lines.keys() | new_lines.keys()):
        day, code = key
        before, after = old_lines.get(key), new_lines.get(key)
        if before and not after:
            changes.append(
                StatementChange(
                    "line_removed",
                    f"Potongan {code} tanggal {day:%d-%m-%Y} ({rp(before.amount)}) dihapus",
                    day=day,
                    code=code,
                    old=before.amount,
                )
            )
        elif after and not before:
            changes.append(
                StatementChange(
                    "line_added",
                    f"Potongan {code} tanggal {day:%d-%m-%Y} sebesar {rp(after.amount)} "
                    f"({after.percent}%, {after.article})",
                    day=day,
                    code=code,
                    new=after.amount,
                )
            )
        elif before and after and before.annulled_amount is None and after.annulled_amount:
            changes.append(
                StatementChange(
                    "line_annulled",
                    f"Potongan {code} tanggal {day:%d-%m-%Y} ({rp(after.annulled_amount)}) "
                    f"dibatalkan BKPSDM: {after.annulled_reason}",
                    day=day,
                    code=code,
                    old=before.amount,
                    new=after.amount,
                )
            )
        elif before and after and before.annulled_amount and after.annulled_amount is None:
            changes.append(
                StatementChange(
                    "line_restored",
                    f"Pembatalan potongan {code} tanggal {day:%d-%m-%Y} dicabut; potongan "
                    f"{rp(after.amount)} berlaku lagi",
                    day=day,
                    code=code,
                    old=before.amount,
                    new=after.amount,
                )
            )
        elif before and after and (before.amount, before.percent) != (after.amount, after.percent):
            changes.append(
                StatementChange(
                    "line_changed",
                    f"Potongan {code} tanggal {day:%d-%m-%Y} berubah dari {rp(before.amount)} "
                    f"menjadi {rp(after.amount)}",
                    day=day,
                    code=code,
                    old=before.amount,
                    new=after.amount,
                )
            )
    if old.net != new.net:
        changes.append(
            StatementChange(
                "net_changed",
                f"TPP bersih berubah dari {rp(old.net)} menjadi {rp(new.net)}",
                old=old.net,
                new=new.net,
            )
        )
    return changes
