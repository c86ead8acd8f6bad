"""The ASN's SKP page and the atasan's pages (subordinates' month, Plt delegations) against
the real services in-process (the mesh of test_portal_pages.py), and each page refused to the
wrong person with the reason on the page."""

from __future__ import annotations

import re
from datetime import date, datetime

import httpx

from contracts.events import AttendanceDayClosed, FingerprintRecorded
from services.kernel.calendar import WIB
from services.portal.routes.skp import NOT_A_PERSON
from services.portal.routes.team import NOT_ATASAN
from services.portal.routes.work import nav_of
from tests import factories
from tests.service import test_portal_pages as pages
from tests.service.test_portal_operator import operator_of
from tests.service.test_portal_pages import MON, NOW, Mesh, csrf_of, employee, signed_in
from tests.support import who

mesh = pages.mesh  # the same in-process services and portal, as this module's fixture


async def known(mesh: Mesh, *people: tuple[str, str | None]) -> None:
    """(nip, atasan) known to every service; attendance reads 'today' from the test's clock."""
    mesh.services["attendance"].state.kit.clock = lambda: NOW
    for kit in mesh.kits().values():
        for nip, atasan in people:
            await kit.handle(employee(nip, atasan).to_bytes())


async def unlock(mesh: Mesh, nip: str, day: date = MON) -> None:
    """A scan reached activity for `day`: the person may file a report for it."""
    scan = FingerprintRecorded(occurred_at=NOW, producer="attendance", nip=nip,
                               scan_id=f"s-{nip}-{day}", scanned_at=NOW, work_date=day)  # fmt: skip
    assert await mesh.services["activity"].state.kit.handle(scan.to_bytes()) == "handled"


async def file(browser: httpx.AsyncClient, description: str, target: str = "") -> None:
    form = await browser.get("/laporan/baru?tanggal=2026-10-05")
    fields = {"work_date": "2026-10-05", "description": description, "output": "dokumen",
              "quantity": "1", "minutes": "60", "skp_target_id": target,
              "csrf_token": csrf_of(form.text)}  # fmt: skip
    r = await browser.post("/laporan/baru", data=fields)
    assert r.status_code == 303, r.text


def numbers(row: str) -> list[str]:
    """The numeric cells of a table row's HTML, in order."""
    return re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)


def targets(page: str) -> dict[tuple[str, str], list[str]]:
    """(activity, indicator) -> [target, this month, so far] of the SKP page's table."""
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th><td data-label="Indikator">([^<]*)</td>'
                      r"(.*?)</tr>", page)  # fmt: skip
    return {(activity, indicator): numbers(rest) for activity, indicator, rest in rows}


async def test_the_asn_adds_an_skp_target_and_an_approved_report_realises_it(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    await known(mesh, (boss, None), (staff, boss))
    await unlock(mesh, staff)
    asn = await signed_in(mesh, staff)
    page = await asn.get("/skp?periode=2026-10")
    assert page.status_code == 200 and "Belum ada target SKP tahun 2026" in page.text
    assert 'href="/skp" aria-current="page"' in page.text  # in the ASN's menu

    # a quantity in words: the form comes back with what to write, nothing is lost
    fields = {"periode": "2026-10", "activity": "Menyusun notula rapat pimpinan",
              "indicator": "notula", "target_quantity": "dua belas",
              "csrf_token": csrf_of(page.text)}  # fmt: skip
    refused = await asn.post("/skp", data=fields)
    assert refused.status_code == 422 and "Isi target jumlah dengan angka bulat" in refused.text
    assert "Menyusun notula rapat pimpinan</textarea>" in refused.text
    # activity's own refusal (no activity written) is on the page, with the next step
    empty = await asn.post("/skp", data={**fields, "activity": " ", "target_quantity": "12"})
    assert empty.status_code == 422 and "Kegiatan SKP wajib diisi." in empty.text
    assert "Periksa isian Anda lalu kirim lagi." in empty.text

    r = await asn.post("/skp", data={**fields, "target_quantity": "12"})
    assert r.status_code == 303, r.text
    page = await asn.get(r.headers["location"])
    assert "Target SKP tersimpan" in page.text
    # the year's target, this month's realisation, the realisation so far
    added = ("Menyusun notula rapat pimpinan", "notula")
    assert targets(page.text) == {added: ["12", "0 (0%)", "0 (0%)"]}

    # the report form offers the target; the linked report, once approved, realises it
    form = await asn.get("/laporan/baru?tanggal=2026-10-05")
    option = re.search(r'<option value="([^"]+)">Menyusun notula rapat pimpinan \(notula\)',
                       form.text)  # fmt: skip
    assert option, form.text
    await file(asn, "Notula rapat pimpinan 5 Oktober", option.group(1))
    await mesh.pump()
    atasan = await signed_in(mesh, boss)
    queue = await atasan.get("/persetujuan")
    rid = re.search(r'name="report_ids" value="([^"]+)"', queue.text)
    assert rid
    # a revision keeps the link: the form comes back with the target chosen
    ask = {
        "kind": "revisi",
        "reason": "Sebutkan rapat yang mana",
        "csrf_token": csrf_of(queue.text),
    }
    await atasan.post(f"/persetujuan/{rid.group(1)}/keputusan", data=ask)
    await mesh.pump()
    form = await asn.get(f"/laporan/{rid.group(1)}/perbaiki")
    assert f'<option value="{option.group(1)}" selected>' in form.text
    fields = {"work_date": "2026-10-05", "description": "Notula rapat pimpinan 5 Oktober (rapat "
              "anggaran)", "output": "dokumen", "quantity": "1", "minutes": "60",
              "skp_target_id": option.group(1), "csrf_token": csrf_of(form.text)}  # fmt: skip
    r = await asn.post(f"/laporan/{rid.group(1)}/perbaiki", data=fields)
    assert r.status_code == 303, r.text
    await mesh.pump()
    queue = await atasan.get("/persetujuan")
    assert "rapat anggaran" in queue.text
    r = await atasan.post(
        "/persetujuan/setujui",
        data={"report_ids": [rid.group(1)], "csrf_token": csrf_of(queue.text)},
    )
    assert "1 laporan disetujui" in (await atasan.get(r.headers["location"])).text
    await mesh.pump()
    page = await asn.get("/skp?periode=2026-10")
    # 1 of 12 this month and so far: 8.33...% shown with a decimal comma
    assert list(targets(page.text).values()) == [["12", "1 (8,3%)", "1 (8,3%)"]]
    # September: the same target, nothing realised yet that month nor before
    september = await asn.get("/skp?periode=2026-09")
    assert list(targets(september.text).values()) == [["12", "0 (0%)", "0 (0%)"]]
    await asn.aclose()
    await atasan.aclose()


async def test_the_skp_page_is_refused_to_an_operator_session(mesh: Mesh) -> None:
    office = await operator_of(mesh)
    r = await office.get("/skp")
    assert (r.status_code, r.headers["location"]) == (303, "/")
    assert NOT_A_PERSON in (await office.get("/")).text
    r = await office.post("/skp", data={"activity": "x", "indicator": "y", "target_quantity": "1"})
    assert (r.status_code, r.headers["location"]) == (303, "/")
    await office.aclose()


async def test_the_atasan_sees_each_direct_subordinates_month_in_one_page(mesh: Mesh) -> None:
    boss, ahmad, budi = factories.nip(), factories.nip(), factories.nip()
    other_boss, stranger = factories.nip(), factories.nip()
    await known(mesh, (boss, None), (ahmad, boss), (budi, boss), (other_boss, None),
                (stranger, other_boss))  # fmt: skip
    # Ahmad: Thursday 1 on time, Friday 2 40 minutes late (07:30 start); Budi: no scan at all
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["attendance"]), base_url="http://a"
    ) as attendance:
        times = ("2026-10-01 07:21:00", "2026-10-01 16:05:00", "2026-10-02 08:10:00",
                 "2026-10-02 16:05:00")  # fmt: skip
        scans = {"scans": [{"nip": ahmad, "waktu": w} for w in times]}
        r = await attendance.post("/api/v1/scans", json=scans, headers=who(None, "bkpsdm"))
        assert [s["status"] for s in r.json()] == ["accepted"] * 4, r.text
    # Ahmad files two reports on Monday, one approved; Budi files none
    await unlock(mesh, ahmad)
    asn = await signed_in(mesh, ahmad)
    await file(asn, "Rekap surat masuk")
    await file(asn, "Arsip surat keluar")
    await mesh.pump()
    atasan = await signed_in(mesh, boss)
    queue = await atasan.get("/persetujuan")
    first = re.search(r'name="report_ids" value="([^"]+)"', queue.text)
    assert first
    chosen = {"report_ids": [first.group(1)], "csrf_token": csrf_of(queue.text)}
    await atasan.post("/persetujuan/setujui", data=chosen)
    await mesh.pump()
    # TPP knows Monday closed: Ahmad present on time with an approved report (nothing cut);
    # Budi absent without notice: TK 5 % of 5,000,000 = 250,000, and the day was a required
    # report day without one: LKH = produktivitas 3,000,000 / 1 day; net 1,750,000
    for nip, status, check_in in ((ahmad, "present", datetime(2026, 10, 5, 7, 20, tzinfo=WIB)),
                                  (budi, "tanpa_keterangan", None)):  # fmt: skip
        closed = AttendanceDayClosed(
            occurred_at=NOW, producer="attendance", nip=nip, work_date=MON, revision=1,
            status=status, check_in=check_in,
            check_out=datetime(2026, 10, 5, 16, 5, tzinfo=WIB) if check_in else None,
            minutes_late=0, minutes_early=0,
        )  # fmt: skip
        assert await mesh.services["tpp"].state.kit.handle(closed.to_bytes()) == "handled"

    page = await atasan.get("/bawahan?periode=2026-10")
    assert page.status_code == 200, page.text
    assert 'href="/bawahan" aria-current="page"' in page.text and 'href="/plt"' in page.text

    def cells(nip: str) -> list[str]:
        row = re.search(r'<span class="hint">NIP ' + nip + r"</span></th>(.*?)</tr>", page.text)
        assert row, page.text
        return numbers(row.group(1))

    # present, late, TK (Thu 1 and Fri 2 are over; Monday is today and not over); reports
    # filed, approved, waiting; TPP net
    assert cells(ahmad) == ["2", "1", "0", "2", "1", "1", "Rp 5.000.000"]
    assert cells(budi) == ["0", "0", "2", "0", "0", "0", "Rp 1.750.000"]
    assert stranger not in page.text  # another atasan's subordinate
    assert "1 laporan menunggu keputusan Anda" in page.text
    # a month without any statement yet: said in words, not as an error
    september = await atasan.get("/bawahan?periode=2026-09")
    assert september.status_code == 200 and 'class="galat"' not in september.text
    assert september.text.count("belum ada") == 2
    await asn.aclose()
    await atasan.aclose()


class Counting(httpx.AsyncBaseTransport):
    """The portal's way to the services, counting the calls in flight at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.now, self.peak, self.calls = inner, 0, 0, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.calls += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_the_recap_calls_the_services_concurrently_not_one_after_another(
    mesh: Mesh,
) -> None:
    boss = factories.nip()
    team = [factories.nip() for _ in range(6)]
    await known(mesh, (boss, None), *((nip, boss) for nip in team))
    atasan = await signed_in(mesh, boss)
    backend = mesh.portal.state.backend
    assert backend.transport is not None
    await backend.aclose()
    counting = backend.transport = Counting(backend.transport)
    page = await atasan.get("/bawahan?periode=2026-10")
    assert page.status_code == 200 and all(nip in page.text for nip in team)
    assert counting.calls == 3 * len(team)  # attendance, activity and tpp per subordinate
    assert counting.peak > 1
    await atasan.aclose()


async def test_a_failing_service_leaves_the_other_numbers_and_says_what_to_do(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    await known(mesh, (boss, None), (staff, boss))
    atasan = await signed_in(mesh, boss)
    backend = mesh.portal.state.backend
    routed = backend.transport
    assert routed is not None

    async def no_tpp(request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(backend.settings.service_url("tpp")):
            raise httpx.ConnectError("refused")
        return await routed.handle_async_request(request)

    await backend.aclose()
    backend.transport = httpx.MockTransport(no_tpp)
    page = await atasan.get("/bawahan?periode=2026-10")
    assert page.status_code == 200
    assert "Layanan TPP sedang tidak dapat dihubungi" in page.text and "Pegawai " in page.text
    row = re.search(r'<span class="hint">NIP ' + staff + r"</span></th>(.*?)</tr>", page.text)
    assert row and numbers(row.group(1))[:3] == ["0", "0", "2"]
    await atasan.aclose()


async def test_the_atasan_names_a_plt_who_then_decides_and_revokes_it(mesh: Mesh) -> None:
    boss, staff, plt, other_boss = (factories.nip() for _ in range(4))
    await known(mesh, (boss, None), (staff, boss), (plt, None), (other_boss, None),
                (factories.nip(), other_boss))  # fmt: skip
    atasan = await signed_in(mesh, boss)
    page = await atasan.get("/plt")
    assert page.status_code == 200 and "Belum ada Plt yang Anda tunjuk." in page.text
    token = csrf_of(page.text)
    # an unknown NIP, a malformed one and an inverted range: each says what to fix, form kept
    unknown = factories.nip()
    r = await atasan.post("/plt", data={"plt_nip": unknown, "start": "2026-10-05",
                                        "end": "2026-10-09", "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and f"NIP {unknown} tidak ada dalam data kepegawaian" in r.text
    assert f'value="{unknown}"' in r.text
    r = await atasan.post("/plt", data={"plt_nip": "12345", "start": "2026-10-05",
                                        "end": "2026-10-09", "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and "NIP harus 18 digit angka" in r.text
    r = await atasan.post("/plt", data={"plt_nip": plt, "start": "2026-10-09",
                                        "end": "2026-10-05", "csrf_token": token})  # fmt: skip
    assert r.status_code == 422 and 'class="galat"' in r.text and 'value="2026-10-09"' in r.text

    r = await atasan.post("/plt", data={"plt_nip": plt, "start": "2026-10-05",
                                        "end": "2026-10-09", "csrf_token": token})  # fmt: skip
    assert r.status_code == 303, r.text
    page = await atasan.get(r.headers["location"])
    assert f"Pegawai {plt[-4:]} (NIP {plt}) ditunjuk sebagai Plt Anda." in page.text
    assert "Senin, 5 Oktober 2026 s.d. Jumat, 9 Oktober 2026" in page.text
    assert "Sedang berlaku" in page.text
    revoke = re.search(r'action="(/plt/[^"]+/cabut)"', page.text)
    assert revoke

    # the Plt (an ASN without subordinates) finds the staff's report marked in the queue
    await unlock(mesh, staff)
    asn = await signed_in(mesh, staff)
    await file(asn, "Rekap presensi mingguan")
    await mesh.pump()
    deputy = await signed_in(mesh, plt)
    queue = await deputy.get("/persetujuan")
    assert "Rekap presensi mingguan" in queue.text
    assert f"sebagai Plt untuk NIP {boss}" in queue.text

    # another atasan cannot revoke it: approval's refusal is on their page
    intruder = await signed_in(mesh, other_boss)
    theirs = await intruder.get("/plt")
    assert "Belum ada Plt yang Anda tunjuk." in theirs.text and plt not in theirs.text
    r = await intruder.post(revoke.group(1), data={"csrf_token": csrf_of(theirs.text)})
    refused = await intruder.get(r.headers["location"])
    assert "hanya dapat dicabut oleh atasan yang bersangkutan" in refused.text

    r = await atasan.post(revoke.group(1), data={"csrf_token": csrf_of(page.text)})
    page = await atasan.get(r.headers["location"])
    assert "Penunjukan Plt dicabut" in page.text and "Dicabut" in page.text
    assert "/cabut" not in page.text  # nothing left to revoke
    assert "Rekap presensi mingguan" not in (await deputy.get("/persetujuan")).text
    for browser in (atasan, asn, deputy, intruder):
        await browser.aclose()


async def test_an_asn_is_refused_the_atasan_pages_with_the_reason(mesh: Mesh) -> None:
    boss, staff = factories.nip(), factories.nip()
    await known(mesh, (boss, None), (staff, boss))
    asn = await signed_in(mesh, staff)
    home = await asn.get("/")
    assert 'href="/skp"' in home.text
    assert 'href="/bawahan"' not in home.text and 'href="/plt"' not in home.text
    for method, path in (("GET", "/bawahan"), ("GET", "/plt"), ("POST", "/plt"),
                         ("POST", "/plt/x/cabut")):  # fmt: skip
        r = await asn.request(method, path, data={"csrf_token": "x"} if method == "POST" else None)
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
        refused = await asn.get("/")
        assert refused.status_code == 200 and NOT_ATASAN in refused.text, path
    await asn.aclose()


def test_the_menu_shows_each_page_to_its_roles_only() -> None:
    def hrefs(role: str) -> set[str]:
        return {href for href, _ in nav_of(role)}

    assert {"/skp", "/bawahan", "/plt"} <= hrefs("atasan")
    assert "/skp" in hrefs("asn") and not {"/bawahan", "/plt"} & hrefs("asn")
    for role in ("operator", "bkpsdm", "auditor"):
        assert not {"/skp", "/bawahan", "/plt"} & hrefs(role), role
