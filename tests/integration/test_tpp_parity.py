"""Parity: the same small city month gives identical statements through `sikerja simulate`
(files -> domain) and through the running services on the real broker:

employees.csv -> siasn (import) -> EmployeeUpserted -> attendance, tpp
scans.csv -> attendance POST /scans; absences.csv -> attendance POST /absences/import
attendance POST /days/close-range -> AttendanceDayClosed -> tpp
reports.csv: the approved rows simulate accepted -> ReportApproved on sikerja.approval -> tpp

The approvals are published straight onto the broker (the activity -> approval chain has its
own tests; here the point is that TPP turns the same facts into the same money).

`changes`: the share of ASN who change within the month (transfer with a new pagu, join,
leave, new pagu, gap; RULES.md "Employment within a month"): several employees.csv rows per
NIP with aktif_mulai/aktif_sampai, so siasn, attendance and tpp must all honour periods.

`annulments`: annulments.csv (OPD-wide days and by NIP, with and without a code; RULES.md
"Annulled cuts"). Once the live statements equal simulate's without them, BKPSDM records
each line through tpp's POST /api/v1/annulments with a document, in the file's order (the
first annulment of a line gives its reason), and they must equal simulate's with them:
every line's amount, annulled amount and reason, and the statement's OPD.
"""

from __future__ import annotations

import csv
import random
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlmodel import select

from contracts import Topic
from services.attendance.app import create as create_attendance
from services.attendance.config import AttendanceConfig
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from services.tpp.app import create as create_tpp
from sikerja_cli.demo_data import generate
from sikerja_cli.simulate import run_simulation
from tests import examples_doc, factories
from tests.support import eventually, running, who

pytestmark = pytest.mark.integration

BKPSDM = who("197001011995031001", "bkpsdm")
COMPARED = (
    "pagu",
    "discipline",
    "productivity",
    "attendance_deduction",
    "productivity_deduction",
    "net",
    "lines",
)
PDF = b"%PDF-1.4\n% berita acara gangguan mesin sidik jari\n"


def last_month(today: date) -> str:
    """A month that has ended, so attendance may close all of its days."""
    previous = today.replace(day=1) - timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


async def create_topics(settings: Settings) -> None:
    """The test's own (prefixed) topics, created before any consumer subscribes: a consumer
    subscribed to a topic that does not exist yet would see it only at its next metadata
    refresh (minutes)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        wanted = [settings.topic(t.value) for t in Topic]
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, 1, 1) for t in wanted if t not in existing]
        if missing:
            await admin.create_topics(missing)
    finally:
        await admin.close()


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def test_services_match_simulate(settings: Settings, tmp_path: Path) -> None:
    await services_match_simulate(settings, tmp_path, changes=0.3, annulments=(2, 8))


def comparable(statement: dict[str, Any], opd: str) -> dict[str, Any]:
    """What must be equal: the money, every line (the annulment's id is each side's own:
    a UUID live, the CSV line in simulate) and the statement's OPD."""
    out = {k: statement[k] for k in COMPARED}
    out["lines"] = [{k: v for k, v in ln.items() if k != "annulment_id"} for ln in out["lines"]]
    out["opd"] = opd
    return out


async def services_match_simulate(
    settings: Settings,
    tmp_path: Path,
    changes: float,
    annulments: tuple[int, int] = (0, 0),
    employees: int = 30,
    opds: int = 2,
) -> None:
    """`annulments`: (OPD-wide days, annulments by NIP) in the generated annulments.csv."""
    period = last_month(datetime.now(UTC).date())
    data = tmp_path / "city"
    # The test's own topics (settings.topic_prefix) carry only this run's events.
    seed = random.randrange(1 << 30)
    by_opd, by_nip = annulments
    generate(
        data, employees=employees, opds=opds, period=period, seed=seed, changes=changes,
        opd_annulments=by_opd, nip_annulments=by_nip,
    )  # fmt: skip
    statements = await live_matches_simulate(settings, tmp_path, data, period, f"seed {seed}")
    assert statements == employees, seed


async def test_the_worked_example_live(settings: Settings, tmp_path: Path) -> None:
    # docs/examples/transfer-and-outage.md: a transfer on the 16th both ways, an OPD-wide
    # outage annulled on the 19th (its figures are checked by hand in
    # tests/unit/test_example_transfer_outage.py); the live services give the same.
    data = tmp_path / "example"
    shutil.copytree(examples_doc.EXAMPLE, data)
    assert await live_matches_simulate(settings, tmp_path, data, examples_doc.PERIOD, "example")


async def test_annulments_naming_nobody_are_refused_alike(
    settings: Settings, tmp_path: Path
) -> None:
    # Dewi joins Dinas Sosial on the 16th: an annulment of her, or of Dinas Sosial, before
    # then names nobody (simulate lists the line as rejected, live answers 422 in the same
    # words); after then it annuls her lines on both sides, the first one recorded giving a
    # line's reason when two name it.
    data = tmp_path / "example"
    shutil.copytree(examples_doc.EXAMPLE, data)
    dewi = "199408172019032005"
    with (data / "employees.csv").open("a", encoding="utf-8") as rows:
        rows.write(f"{dewi},Dewi Lestari,Dinas Sosial,Pengelola Data,6,,4000000,2026-11-16,\n")
    with (data / "annulments.csv").open("a", encoding="utf-8") as rows:
        rows.write(
            f"{dewi},,2026-11-10,,sebelum masuk\n"
            ",Dinas Sosial,2026-11-13,,belum ada pegawai\n"
            f"{dewi},,2026-11-16,TK,sesudah masuk\n"
            ",Dinas Sosial,2026-11-17,,sesudah masuk\n"
            # her TK of the 16th is named twice: the first recorded gives the reason
            ",Dinas Sosial,2026-11-16,,Listrik padam\n"
        )
    assert await live_matches_simulate(settings, tmp_path, data, examples_doc.PERIOD, "dewi") == 3


async def live_matches_simulate(
    settings: Settings, tmp_path: Path, data: Path, period: str, label: str
) -> int:
    """Load the month in `data` into siasn, attendance and tpp; the live statements must equal
    simulate's without annulments.csv, then (after BKPSDM records its lines through the API)
    with it. Returns the number of statements compared."""
    # simulate without the annulments first (the live month before BKPSDM acts), then with
    annulled_csv = tmp_path / "annulments.csv"
    has_annulments = (data / "annulments.csv").is_file()
    if has_annulments:
        shutil.move(data / "annulments.csv", annulled_csv)
    before = run_simulation(data, period)
    assert before.statements, label
    annulment_rows: list[dict[str, str]] = []
    if has_annulments:
        shutil.copy(annulled_csv, data / "annulments.csv")
        annulment_rows = read(annulled_csv)
    expected = run_simulation(data, period)
    # every line is accepted but the annulments simulate refuses: the live tpp must refuse
    # them too, in the same words
    assert before.rejected_inputs == [], label
    refused = {r.line: r.reason for r in expected.rejected_inputs if r.file == "annulments.csv"}
    assert [r for r in expected.rejected_inputs if r.file != "annulments.csv"] == [], label

    employees_csv = (data / "employees.csv").read_bytes()
    scans = read(data / "scans.csv")
    atasan = {r["nip"]: r["atasan_nip"] for r in read(data / "employees.csv")}
    approvals = [
        row
        for row in read(data / "reports.csv")
        if row["status"] == "approved" and row["tanggal"].startswith(period)
    ]
    assert approvals, "the demo month has approved reports"
    first = date.fromisoformat(f"{period}-01")
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)

    await create_topics(settings)
    siasn = create_siasn(settings)
    attendance = create_attendance(settings, AttendanceConfig(scheduler_enabled=False))
    tpp = create_tpp(settings)
    async with (
        running(siasn, BKPSDM) as sia,
        running(attendance, BKPSDM) as att,
        running(tpp, BKPSDM) as tp,
    ):
        imported = await sia.post(
            "/api/v1/employees/import",
            content=employees_csv,
            headers={"content-type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["accepted"] == len(read(data / "employees.csv"))

        # attendance closes days only for the employees it knows: wait for its projection.
        att_kit = attendance.state.kit
        employee = att_kit.tables.employee

        async def known() -> set[str]:
            with att_kit.uow() as uow:
                return set(uow.session.exec(select(employee.nip)).all())

        # Only this run's employees: attendance closes days for exactly these.
        await eventually(known, lambda found: found == set(atasan), timeout=30)

        posted = await att.post(
            "/api/v1/scans", json={"scans": [{"nip": r["nip"], "waktu": r["waktu"]} for r in scans]}
        )
        assert posted.status_code == 200, posted.text
        assert {line["status"] for line in posted.json()} == {"accepted"}
        absences = await att.post(
            "/api/v1/absences/import",
            content=(data / "absences.csv").read_bytes(),
            headers={"content-type": "text/csv", **BKPSDM},
        )
        assert absences.status_code == 200, absences.text
        assert absences.json()["rejected"] == 0, absences.text
        closing = await att.post(
            f"/api/v1/days/close-range?start={first}&end={last}", headers=BKPSDM
        )
        assert closing.status_code == 200, closing.text

        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            now = datetime.now(UTC)
            for i, row in enumerate(approvals):
                event = factories.approved(
                    row["nip"],
                    date.fromisoformat(row["tanggal"]),
                    now,
                    report_id=f"parity-{row['nip']}-{row['tanggal']}-{i}",
                    decided_by=atasan[row["nip"]] or "197001011995031001",
                )
                await producer.send(
                    settings.topic(Topic.APPROVAL.value), event.to_bytes(), key=event.key
                )
            await producer.flush()
        finally:
            await producer.stop()

        def wanted(result: Any) -> dict[str, Any]:
            return {
                s.nip: comparable(s.to_dict(), result.employees[s.nip].opd)
                for s in result.statements
            }

        async def statements() -> dict[str, Any]:
            got: dict[str, Any] = {}
            for nip in atasan:
                response = await tp.get(f"/api/v1/employees/{nip}/statements/{period}")
                if response.status_code == 200:
                    body = response.json()
                    got[nip] = comparable(body, body["opd"])
            return got

        want = wanted(before)
        got = await eventually(statements, lambda g: g == want, timeout=60)
        assert got == want, label

        if annulment_rows:
            # BKPSDM's annulments, as the form sends them, once the month's data is in
            for line, row in enumerate(annulment_rows, start=2):  # header is line 1
                recorded = await tp.post(
                    "/api/v1/annulments",
                    data={k: row[k] for k in ("nip", "opd", "tanggal", "kode", "alasan")},
                    files={"dokumen": ("berita-acara.pdf", PDF, "application/pdf")},
                )
                if line in refused:
                    assert recorded.status_code == 422, (label, row, recorded.text)
                    assert recorded.json()["detail"] == refused[line], label
                else:
                    assert recorded.status_code == 201, (label, row, recorded.text)
            want = wanted(expected)
            assert want != wanted(before), (label, "the annulments change some statement")
            got = await eventually(statements, lambda g: g == want, timeout=30)
            assert got == want, label
    return len(expected.statements)
