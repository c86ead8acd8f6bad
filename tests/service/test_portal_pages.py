"""The portal's pages against the real services, in-process: attendance, activity, approval,
tpp and notifier built by their own app factories, reached by the portal's Backend through a
transport that routes by host:port (what service_url names), with a token the portal minted
for the logged-in person. Events travel between the services' outboxes and handlers by hand
(`Mesh.pump`), as the broker would carry them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from contracts.events import (
    AttendanceDayClosed,
    EmployeeUpserted,
    FingerprintRecorded,
    ReportRejected,
)
from services.activity.app import create as create_activity
from services.approval.app import create as create_approval
from services.attendance.app import create as create_attendance
from services.kernel.calendar import WIB
from services.notifier.app import create as create_notifier
from services.portal.app import create as create_portal
from services.portal.backend import ServiceError, message_of
from services.shared.settings import Settings
from services.siasn.app import create as create_siasn
from services.tpp.app import create as create_tpp
from tests import factories
from tests.support import emitted, who

MON = date(2026, 10, 5)
NOW = datetime(2026, 10, 5, 14, 0, tzinfo=WIB)
OPD = "Dinas Kesehatan"
GOOD = "Bekasi-Kerja-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Routed(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app listening (by name) at its host:port."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self.apps = {key: httpx.ASGITransport(app=app) for key, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.url.host}:{request.url.port}"
        return await self.apps[key].handle_async_request(request)


@dataclass
class Mesh:
    services: dict[str, FastAPI]
    portal: FastAPI
    seen: dict[str, int] = field(default_factory=dict)

    def kits(self) -> dict[str, Any]:
        kits = {name: app.state.kit for name, app in self.services.items()}
        return {**kits, "portal": self.portal.state.kit}

    async def pump(self) -> None:
        """Deliver every new outbox event to every other service, until none is new."""
        kits = self.kits()
        moved = True
        while moved:
            moved = False
            for name, kit in kits.items():
                events = emitted(kit)
                fresh = events[self.seen.get(name, 0) :]
                self.seen[name] = len(events)
                for event in fresh:
                    moved = True
                    for other, target in kits.items():
                        if other != name:
                            await target.handle(event.to_bytes())

    def browser(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.portal, client=("10.0.0.9", 40000))
        return httpx.AsyncClient(transport=transport, base_url="https://portal")


def employee(nip: str, atasan: str | None) -> EmployeeUpserted:
    return EmployeeUpserted(
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        producer="siasn",
        nip=nip,
        nama=f"Pegawai {nip[-4:]}",
        opd=OPD,
        jabatan="Analis",
        kelas_jabatan=9,
        atasan_nip=atasan,
        tpp_pagu=5_000_000,
    )


@asynccontextmanager
async def meshed(
    settings: Settings, *, clocked_tpp: bool = False, siasn: bool = False
) -> AsyncIterator[Mesh]:
    """The services in-process behind the portal (one mesh for every portal page test)."""
    clock = lambda: NOW  # noqa: E731
    services = {
        "attendance": create_attendance(settings),
        "activity": create_activity(settings, clock=clock),
        "approval": create_approval(settings, clock=clock),
        "tpp": create_tpp(settings, clock=clock) if clocked_tpp else create_tpp(settings),
        "notifier": create_notifier(settings, clock=clock, scheduler=False),
    }
    if siasn:
        services["siasn"] = create_siasn(settings, clock=clock)
    by_address = {
        settings.service_url(name).removeprefix("http://"): app for name, app in services.items()
    }
    portal = create_portal(
        settings,
        clock=clock,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        rate_storage="memory://",
        service_transport=Routed(by_address),
    )
    for app in [*services.values(), portal]:
        app.state.kit.migrate()
    try:
        yield Mesh(services, portal)
    finally:
        await portal.state.backend.aclose()


@pytest.fixture
async def mesh(memory_settings: Settings) -> AsyncIterator[Mesh]:
    async with meshed(memory_settings) as found:
        yield found


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


async def signed_in(mesh: Mesh, nip: str, then: str = "/") -> httpx.AsyncClient:
    """A browser logged in as `nip` (first password from a BKPSDM's one-time code)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        boss = who(factories.nip(), "bkpsdm")
        code = (await api.post(f"/api/v1/accounts/{nip}/setup-code", headers=boss)).json()["code"]
        body = {"nip": nip, "code": code, "new_password": GOOD}
        assert (await api.post("/api/v1/first-password", json=body)).status_code == 204
    browser = mesh.browser()
    token = csrf_of((await browser.get("/masuk")).text)
    r = await browser.post("/masuk", data={"nip": nip, "password": GOOD, "csrf_token": token})
    assert (r.status_code, r.headers["location"]) == (303, then), r.text
    return browser


async def test_asn_files_atasan_asks_revision_asn_revises_atasan_approves(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    for kit in mesh.kits().values():
        for event in (employee(boss, None), employee(staff, boss)):
            await kit.handle(event.to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["attendance"]), base_url="http://a"
    ) as attendance:
        scan = {"scans": [{"nip": staff, "waktu": "2026-10-05 07:21:00"}]}
        r = await attendance.post("/api/v1/scans", json=scan, headers=who(None, "bkpsdm"))
        assert r.status_code == 200 and r.json()[0]["status"] == "accepted", r.text
    await mesh.pump()

    asn = await signed_in(mesh, staff)
    home = await asn.get("/")
    assert home.status_code == 200
    assert "Senin, 5 Oktober 2026" in home.text and "07.21" in home.text
    assert (
        "bisa mengisi laporan" in home.text
        and 'href="/laporan/baru?tanggal=2026-10-05"' in home.text
    )

    form = await asn.get("/laporan/baru?tanggal=2026-10-05")
    assert 'accept="image/*" capture="environment"' in form.text
    fields = {"work_date": "2026-10-05", "description": "Menyusun notula rapat",
              "output": "notula", "quantity": "1", "minutes": "90",
              "csrf_token": csrf_of(form.text)}  # fmt: skip
    r = await asn.post(
        "/laporan/baru", data=fields, files={"bukti": ("foto.png", PNG, "image/png")}
    )
    assert r.status_code == 303, r.text
    mine = await asn.get(r.headers["location"])
    assert "Laporan terkirim ke atasan" in mine.text and "Menunggu persetujuan atasan" in mine.text
    await mesh.pump()

    atasan = await signed_in(mesh, boss)
    queue = await atasan.get("/persetujuan")
    assert queue.status_code == 200 and "Menyusun notula rapat" in queue.text
    report_id = re.search(r'name="report_ids" value="([^"]+)"', queue.text)
    assert report_id
    rid = report_id.group(1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["activity"]), base_url="http://a"
    ) as activity:  # the phone's photo reached activity with the report
        evidence = await activity.get(f"/api/v1/reports/{rid}/evidence", headers=who(staff, "asn"))
    assert [(e["name"], e["size"]) for e in evidence.json()] == [("foto.png", len(PNG))]
    # a revision without a reason is not sent: the page says what to write
    token = csrf_of(queue.text)
    r = await atasan.post(f"/persetujuan/{rid}/keputusan", data={"kind": "revisi", "reason": " ",
                                                                  "csrf_token": token})  # fmt: skip
    assert "Tulis alasannya" in (await atasan.get(r.headers["location"])).text
    r = await atasan.post(
        f"/persetujuan/{rid}/keputusan",
        data={"kind": "revisi", "reason": "Lampirkan daftar hadir rapat", "csrf_token": token},
    )
    assert "Permintaan revisi terkirim" in (await atasan.get(r.headers["location"])).text
    await mesh.pump()

    inbox = await asn.get("/pemberitahuan")
    assert "Lampirkan daftar hadir rapat" in inbox.text, inbox.text
    mine = await asn.get("/laporan?periode=2026-10")
    assert "Diminta revisi" in mine.text and f"/laporan/{rid}/perbaiki" in mine.text
    form = await asn.get(f"/laporan/{rid}/perbaiki")
    assert "Lampirkan daftar hadir rapat" in form.text
    fields = {**fields, "description": "Menyusun notula rapat dan daftar hadir",
              "csrf_token": csrf_of(form.text)}  # fmt: skip
    r = await asn.post(f"/laporan/{rid}/perbaiki", data=fields)
    assert (
        r.status_code == 303 and "Perbaikan terkirim" in (await asn.get(r.headers["location"])).text
    )
    await mesh.pump()

    # Monday is closed with the report still waiting: the statement cuts for it
    closed = AttendanceDayClosed(
        occurred_at=NOW, producer="attendance", nip=staff, work_date=MON, revision=1,
        status="present", check_in=datetime(2026, 10, 5, 7, 21, tzinfo=WIB),
        check_out=datetime(2026, 10, 5, 16, 30, tzinfo=WIB), minutes_late=0, minutes_early=0,
    )  # fmt: skip
    assert await mesh.services["tpp"].state.kit.handle(closed.to_bytes()) == "handled"
    lkh_line = "<tr><td>Senin, 5 Oktober 2026</td><td>Laporan kegiatan harian hari itu belum"
    assert lkh_line in (await asn.get("/tpp?periode=2026-10")).text

    queue = await atasan.get("/persetujuan")
    assert "daftar hadir" in queue.text
    r = await atasan.post(
        "/persetujuan/setujui", data={"report_ids": [rid], "csrf_token": csrf_of(queue.text)}
    )
    assert "1 laporan disetujui" in (await atasan.get(r.headers["location"])).text
    await mesh.pump()
    assert "Disetujui" in (await asn.get("/laporan?periode=2026-10")).text
    # the approval reached tpp: Monday's line is gone from the statement
    statement = await asn.get("/tpp?periode=2026-10")
    assert "Perkiraan diterima" in statement.text and lkh_line not in statement.text
    await asn.aclose()
    await atasan.aclose()


async def test_pages_say_what_to_do_when_a_service_refuses_or_is_down(mesh: Mesh) -> None:
    staff = factories.nip()
    await mesh.portal.state.kit.handle(employee(staff, None).to_bytes())
    asn = await signed_in(mesh, staff)
    # activity does not know this person yet: its refusal is on the page, in Bahasa
    page = await asn.get("/laporan/baru?tanggal=2026-10-05")
    assert page.status_code == 200 and 'class="galat"' in page.text
    # a service that cannot be reached
    mesh.portal.state.backend.transport = httpx.MockTransport(
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused"))
    )
    await mesh.portal.state.backend.aclose()
    statement = await asn.get("/tpp?periode=2026-10")
    assert "Layanan TPP sedang tidak dapat dihubungi" in statement.text
    await asn.aclose()


def test_a_problem_json_becomes_a_message_with_the_next_step() -> None:
    body = {"type": "about:blank", "title": "Conflict", "status": 409,
            "detail": "Laporan sudah diputuskan", "code": "invalid_transition"}  # fmt: skip
    err = message_of("approval", httpx.Response(409, json=body))
    assert isinstance(err, ServiceError)
    assert err.message == (
        "Laporan sudah diputuskan. Muat ulang halaman untuk melihat keadaan terbaru."
    )
    down = message_of("tpp", httpx.Response(502, text="Bad gateway"))
    assert down.message == "Layanan TPP sedang bermasalah. Coba lagi beberapa menit lagi."


async def test_the_statement_explains_each_line_in_words(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    for kit in mesh.kits().values():
        for event in (employee(boss, None), employee(staff, boss)):
            await kit.handle(event.to_bytes())
    # 70 minutes late on Monday: TL2 of Perwali 69/2019 Pasal 9 ayat (2) huruf b, 0.5 % of
    # the 5,000,000 pagu = Rp 25.000
    closed = AttendanceDayClosed(
        occurred_at=NOW, producer="attendance", nip=staff, work_date=MON, revision=1,
        status="present", check_in=datetime(2026, 10, 5, 8, 40, tzinfo=WIB),
        check_out=datetime(2026, 10, 5, 16, 30, tzinfo=WIB), minutes_late=70, minutes_early=0,
    )  # fmt: skip
    assert await mesh.services["tpp"].state.kit.handle(closed.to_bytes()) == "handled"
    asn = await signed_in(mesh, staff)
    page = await asn.get("/tpp?periode=2026-10")
    assert page.status_code == 200, page.text
    row = re.search(r"<tr><td>Senin, 5 Oktober 2026</td><td>Terlambat masuk kerja[^<]*</td>"
                    r"<td>([^<]*)</td><td class=\"num\">([^<]*)</td></tr>", page.text)  # fmt: skip
    assert row, page.text
    assert row.groups() == ("Perwali Kota Bekasi 69/2019 Pasal 9 ayat (2) huruf b", "Rp 25.000")
    # another person's statement is not reachable by changing the URL: the page is "mine"
    assert staff in page.text and boss not in page.text
    await asn.aclose()


async def test_bkpsdm_issues_a_code_and_reads_the_dashboard_after_totp(mesh: Mesh) -> None:
    bk, staff = factories.nip(), factories.nip()
    for nip in (bk, staff):
        await mesh.portal.state.kit.handle(employee(nip, None).to_bytes())
        await mesh.services["tpp"].state.kit.handle(employee(nip, None).to_bytes())
    closed = AttendanceDayClosed(
        occurred_at=NOW, producer="attendance", nip=staff, work_date=MON, revision=1,
        status="tanpa_keterangan",
    )  # fmt: skip
    await mesh.services["tpp"].state.kit.handle(closed.to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        r = await api.post(f"/api/v1/accounts/{bk}/grants", json={"role": "bkpsdm"},
                           headers=who(factories.nip(), "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text
    office = await totp_done(mesh, bk)

    accounts = await office.get("/pegawai")
    assert f"Pegawai {staff[-4:]}" in accounts.text and "belum ada" in accounts.text
    r = await office.post(f"/pegawai/{staff}/kode", data={"csrf_token": csrf_of(accounts.text)})
    code = re.search(r'<p class="big"><code>([^<]+)</code>', r.text)
    assert r.status_code == 200 and code, r.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:  # the code sets the first password: it is the real one
        body = {"nip": staff, "code": code.group(1), "new_password": GOOD}
        assert (await api.post("/api/v1/first-password", json=body)).status_code == 204

    board = await office.get("/dasbor?periode=2026-10")
    assert board.status_code == 200 and "<svg" in board.text
    # TK: 5 % of 5,000,000 = Rp 250.000 cut for attendance; the chart's bar is the OPD's
    # total cut, the same number as the table's last-but-one column
    cells = re.search(
        r"<td>" + re.escape(OPD) + r'</td><td class="num">1</td><td class="num">Rp 250.000</td>'
        r'<td class="num">([^<]+)</td><td class="num">([^<]+)</td>',
        board.text,
    )
    assert cells, board.text
    bar = re.search(r'class="nilai">([^<]+)</text>', board.text)
    assert bar and bar.group(1) == cells.group(2)
    asn = await signed_in(mesh, staff)
    refused = await asn.get("/dasbor", follow_redirects=True)
    assert "Halaman itu bukan untuk peran Anda." in refused.text
    assert "bukan untuk peran" not in (await asn.get("/")).text  # said once
    # words in a link are not put on the page: nobody can make it say "call this number"
    spoof = await asn.get("/persetujuan?galat=Hubungi+0812&info=Hubungi+0812")
    assert "0812" not in spoof.text
    await office.aclose()
    await asn.aclose()


async def test_a_notice_is_marked_read_in_place_with_htmx(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    for kit in mesh.kits().values():
        for event in (employee(boss, None), employee(staff, boss)):
            await kit.handle(event.to_bytes())
    rejected = ReportRejected(
        occurred_at=NOW, producer="approval", nip=staff, report_id=str(uuid.uuid4()),
        work_date=MON, decided_by=boss, reason="Uraian terlalu singkat",
    )  # fmt: skip
    assert await mesh.services["notifier"].state.kit.handle(rejected.to_bytes()) == "handled"
    asn = await signed_in(mesh, staff)
    inbox = await asn.get("/pemberitahuan")
    assert "1 pemberitahuan belum dibaca" in inbox.text and "Uraian terlalu singkat" in inbox.text
    found = re.search(r'hx-post="/pemberitahuan/(\d+)/dibaca"', inbox.text)
    assert found
    r = await asn.post(
        f"/pemberitahuan/{found.group(1)}/dibaca",
        data={"csrf_token": csrf_of(inbox.text)},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r.text.lstrip().startswith("<li") and "Baru" not in r.text
    assert "0 pemberitahuan belum dibaca" in (await asn.get("/pemberitahuan")).text
    await asn.aclose()


async def test_a_plt_without_subordinates_finds_and_decides_the_marked_reports(mesh: Mesh) -> None:
    boss, staff, plt = factories.nip(), factories.nip(), factories.nip()
    for kit in mesh.kits().values():
        for event in (employee(boss, None), employee(staff, boss), employee(plt, None)):
            await kit.handle(event.to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["approval"]), base_url="http://a"
    ) as approval:
        window = {"atasan_nip": boss, "plt_nip": plt, "start": "2026-10-01", "end": "2026-10-31"}
        r = await approval.post("/api/v1/delegations", json=window, headers=who(boss, "atasan"))
        assert r.status_code == 201, r.text
    await mesh.services["activity"].state.kit.handle(
        FingerprintRecorded(
            occurred_at=NOW,
            producer="attendance",
            nip=staff,
            scan_id="s1",
            scanned_at=NOW,
            work_date=MON,
        ).to_bytes()
    )
    await mesh.pump()
    asn = await signed_in(mesh, staff)
    form = await asn.get("/laporan/baru?tanggal=2026-10-05")
    fields = {"work_date": "2026-10-05", "description": "Rekap presensi", "output": "rekap",
              "quantity": "1", "minutes": "45", "csrf_token": csrf_of(form.text)}  # fmt: skip
    assert (await asn.post("/laporan/baru", data=fields)).status_code == 303
    await mesh.pump()

    deputy = await signed_in(mesh, plt)  # an ASN: no subordinates of their own
    home = await deputy.get("/")
    assert "1 laporan menunggu persetujuan Anda" in home.text
    queue = await deputy.get("/persetujuan")
    assert f"sebagai Plt untuk NIP {boss}" in queue.text
    rid = re.search(r'name="report_ids" value="([^"]+)"', queue.text)
    assert rid
    r = await deputy.post(
        f"/persetujuan/{rid.group(1)}/keputusan",
        data={"kind": "setujui", "csrf_token": csrf_of(queue.text)},
    )
    assert "Laporan disetujui." in (await deputy.get(r.headers["location"])).text
    await mesh.pump()
    assert "Disetujui" in (await asn.get("/laporan?periode=2026-10")).text
    await asn.aclose()
    await deputy.aclose()


async def test_a_refused_photo_keeps_the_report_and_says_what_to_do(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    for kit in mesh.kits().values():
        for event in (employee(boss, None), employee(staff, boss)):
            await kit.handle(event.to_bytes())
    scan = FingerprintRecorded(occurred_at=NOW, producer="attendance", nip=staff, scan_id="s1",
                               scanned_at=NOW, work_date=MON)  # fmt: skip
    await mesh.services["activity"].state.kit.handle(scan.to_bytes())
    asn = await signed_in(mesh, staff)
    form = await asn.get("/laporan/baru?tanggal=2026-10-05")
    fields = {"work_date": "2026-10-05", "description": "Rapat koordinasi", "output": "notula",
              "quantity": "1", "minutes": "60", "csrf_token": csrf_of(form.text)}  # fmt: skip
    not_a_photo = {"bukti": ("foto.png", b"MZ\x90\x00 an executable", "image/png")}
    r = await asn.post("/laporan/baru", data=fields, files=not_a_photo)
    assert r.status_code == 303
    page = await asn.get(r.headers["location"])
    assert "Laporan terkirim ke atasan" in page.text and "Rapat koordinasi" in page.text
    assert "Laporan tersimpan, tetapi bukti tidak dapat dilampirkan" in page.text
    await asn.aclose()


async def totp_done(mesh: Mesh, nip: str) -> httpx.AsyncClient:
    """A privileged login through the TOTP enrolment page."""
    browser = await signed_in(mesh, nip, then="/totp/daftar")
    enrol = await browser.get("/totp/daftar")
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", enrol.text)
    assert secret, enrol.text
    code = pyotp.TOTP(secret.group(1)).at(NOW)
    r = await browser.post("/totp/daftar", data={"code": code, "csrf_token": csrf_of(enrol.text)})
    assert "Kode pemulihan" in r.text
    return browser


async def test_an_operator_sees_and_resets_only_their_own_opd(mesh: Mesh) -> None:
    ops, mine, theirs = factories.nip(), factories.nip(), factories.nip()
    other = employee(theirs, None).model_copy(update={"opd": "Dinas Perhubungan"})
    for event in (employee(ops, None), employee(mine, None), other):
        await mesh.portal.state.kit.handle(event.to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        grant = {"role": "operator", "opd": OPD}
        r = await api.post(f"/api/v1/accounts/{ops}/grants", json=grant,
                           headers=who(factories.nip(), "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text
    office = await totp_done(mesh, ops)
    page = await office.get("/pegawai")
    assert mine in page.text and theirs not in page.text
    token = csrf_of(page.text)
    ok = await office.post(f"/pegawai/{mine}/kode", data={"csrf_token": token})
    assert ok.status_code == 200 and '<p class="big"><code>' in ok.text
    refused = await office.post(f"/pegawai/{theirs}/kode", data={"csrf_token": token})
    assert refused.status_code == 403 and 'class="galat"' in refused.text
    assert '<p class="big"><code>' not in refused.text
    await office.aclose()


class Down(httpx.AsyncBaseTransport):
    """A service that cannot be reached."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


async def test_the_city_dashboard_shows_each_service_and_survives_one_down(
    mesh: Mesh, memory_settings: Settings
) -> None:
    bk, staff, other = factories.nip(), factories.nip(), factories.nip()
    elsewhere = "Dinas Perhubungan"
    await mesh.portal.state.kit.handle(employee(bk, None).to_bytes())
    for kit in mesh.kits().values():
        for event in (employee(staff, None), employee(other, None).model_copy(
            update={"opd": elsewhere})):  # fmt: skip
            await kit.handle(event.to_bytes())
    system = who(None, "system")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["attendance"]), base_url="http://a"
    ) as attendance:
        scans = {"scans": [{"nip": other, "waktu": "2026-10-05 07:20:00"},
                           {"nip": other, "waktu": "2026-10-05 16:05:00"}]}  # fmt: skip
        assert (await attendance.post("/api/v1/scans", json=scans, headers=system)).is_success
        r = await attendance.post("/api/v1/days/close?date=2026-10-05", headers=system)
        assert r.status_code == 200, r.text
        device = {"sn": "SNKES01", "opd": OPD, "lokasi": "Lobi gedung A"}
        r = await attendance.post("/api/v1/devices", json=device, headers=system)
        assert r.status_code == 201, r.text
    await mesh.pump()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        r = await api.post(f"/api/v1/accounts/{bk}/grants", json={"role": "bkpsdm"},
                           headers=who(factories.nip(), "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text
    office = await totp_done(mesh, bk)

    board = await office.get("/dasbor?periode=2026-10")
    assert board.status_code == 200
    page = re.sub(r"\s+", " ", board.text)
    # Monday 5 October, pagu 5.000.000 (disiplin 2.000.000, produktivitas 3.000.000), no
    # report filed: the day's LKH line is 3.000.000 / 1 required day = 3.000.000 each.
    # staff: TK 5 % = 250.000 -> net 5.000.000 - 250.000 - 3.000.000 = 1.750.000;
    # other: present on time -> net 5.000.000 - 3.000.000 = 2.000.000. City: 3.750.000.
    by_code = re.findall(
        r'<tr><td><strong>(\w+)</strong>.*?</td><td class="num" data-label="Baris">(\d+)</td>'
        r'<td class="num" data-label="Jumlah">([^<]+)</td>',
        page,
    )
    assert by_code == [("LKH", "2", "Rp 6.000.000"), ("TK", "1", "Rp 250.000")]
    months = re.findall(
        r'<tr><td>(\w+ 2026)</td><td class="num" data-label="Pegawai">(\d+)</td>'
        r'<td class="num" data-label="Dibayar">([^<]+)</td>',
        page,
    )
    empty = [(m, "0", "Rp 0") for m in ("Mei", "Juni", "Juli", "Agustus", "September")]
    assert months == [(f"{m} 2026", n, rp) for m, n, rp in empty] + [
        ("Oktober 2026", "2", "Rp 3.750.000")
    ]
    assert page.count("<polyline") == 3  # paid; attendance and productivity cuts
    # attendance: staff TK (0 of 1 day), other on time (1 of 1): 0,0 % and 100,0 %; city 50,0 %
    present = re.findall(
        r'<tr><td>([^<]+)</td><td class="num" data-label="Hari-pegawai">(\d+)</td>.*?'
        r'data-label="Tingkat kehadiran">([^<]+)</td>',
        page,
    )
    assert present == [(OPD, "1", "0,0%"), (elsewhere, "1", "100,0%")]
    assert "Seluruh kota: 50,0% dari 2 hari-pegawai" in page
    # activity's clock is Monday 5 October 14.00 WIB: only Thursday the 1st's deadline (Friday
    # 23.59) has passed (Friday the 2nd's is Monday 23.59): one required day each, no report
    filed = re.findall(
        r'<tr><td>([^<]+)</td><td class="num" data-label="Hari wajib">(\d+)</td>.*?'
        r'data-label="Tidak ada">(\d+)</td><td class="num" data-label="Tepat waktu">([^<]+)</td>',
        page,
    )
    assert filed == [(OPD, "1", "1", "0,0%"), (elsewhere, "1", "1", "0,0%")]
    # the device never connected: offline, in its OPD and in the list
    assert "1 dari 1 mesin tidak terhubung" in page
    assert f'<td>{OPD}</td><td class="num" data-label="Mesin">1</td>' in page
    assert "SNKES01" in page and "Lobi gedung A" in page and "belum pernah" in page

    # activity cannot be reached: its section says so, the others still show their numbers
    address = memory_settings.service_url("activity").removeprefix("http://")
    mesh.portal.state.backend.transport.apps[address] = Down()
    board = await office.get("/dasbor?periode=2026-10")
    assert board.status_code == 200
    page = re.sub(r"\s+", " ", board.text)
    assert "Layanan laporan kegiatan sedang tidak dapat dihubungi" in page
    assert "Seluruh kota: 50,0% dari 2 hari-pegawai" in page and "Rp 3.750.000" in page

    asn = await signed_in(mesh, staff)
    refused = await asn.get("/dasbor?periode=2026-10", follow_redirects=True)
    assert "Halaman itu bukan untuk peran Anda." in refused.text and "<svg" not in refused.text
    await office.aclose()
    await asn.aclose()
