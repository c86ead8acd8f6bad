"""The operator's TPP download and device commands, and BKPSDM's and the auditor's rule sets,
openings, SIASN page and anomaly report, against the real services in-process (the mesh of
test_portal_pages.py, with siasn too); and the refusals for the wrong role."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote, unquote

import httpx
import pytest
from openpyxl import Workbook, load_workbook

from contracts.events import KinerjaResultConfirmed, TppPeriodClosed
from services.shared.settings import Settings
from tests import factories
from tests.service.test_portal_city import follow, granted, people
from tests.service.test_portal_pages import (
    MON,
    NOW,
    OPD,
    Mesh,
    csrf_of,
    employee,
    meshed,
    signed_in,
    totp_done,
)
from tests.support import who

OTHER = "Dinas Perhubungan"
REFUSED = "Halaman itu bukan untuk peran Anda."


@pytest.fixture
async def mesh(memory_settings: Settings) -> AsyncIterator[Mesh]:
    """test_portal_pages' mesh with siasn as well (the SIASN page calls it)."""
    async with meshed(memory_settings, clocked_tpp=True, siasn=True) as found:
        yield found


def service(mesh: Mesh, name: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=mesh.services[name])
    return httpx.AsyncClient(transport=transport, base_url=f"http://{name}")


async def signed_in_as(
    mesh: Mesh, role: str, opd: str | None = None
) -> tuple[str, httpx.AsyncClient]:
    nip = factories.nip()
    await people(mesh, nip)
    await granted(mesh, nip, role, opd)
    return nip, await totp_done(mesh, nip)


# -- operator: the OPD's TPP and its payroll ------------------------------------------------------
async def test_the_operator_downloads_the_payroll_of_their_own_opd_only(mesh: Mesh) -> None:
    mine, theirs = factories.nip(), factories.nip()
    await people(mesh, mine)
    tpp = mesh.services["tpp"].state.kit
    await tpp.handle(employee(theirs, None).model_copy(update={"opd": OTHER}).to_bytes())
    for nip in (mine, theirs):
        await tpp.handle(factories.day_closed(nip, MON, 1, NOW, late=37).to_bytes())
    _, office = await signed_in_as(mesh, "operator", OPD)
    home = await office.get("/")
    assert 'href="/tpp-opd"' in home.text
    page = await office.get("/tpp-opd?periode=2026-10")
    assert page.status_code == 200, page.text
    assert "Masih berjalan" in page.text and mine in page.text and theirs not in page.text
    # an open month: the final list is refused with what to do, the draft is given
    r = await office.get("/tpp-opd/2026-10/unduh.xlsx")
    assert "belum ditutup" in await follow(office, r)
    sheet = await office.get("/tpp-opd/2026-10/unduh.xlsx?draf=1")
    assert sheet.status_code == 200, sheet.text
    assert "tpp-2026-10-dinas-kesehatan.xlsx" in sheet.headers["content-disposition"]
    book = load_workbook(io.BytesIO(sheet.content), read_only=True)
    assert book.sheetnames == ["Ringkasan", OPD]  # not the other OPD's
    nips = {row[1] for row in book[OPD].iter_rows(min_row=3, values_only=True)}
    assert mine in nips and theirs not in nips
    # naming another OPD changes nothing: the session's OPD is the only one asked for
    sheet = await office.get(f"/tpp-opd/2026-10/unduh.xlsx?draf=1&opd={quote(OTHER)}")
    assert load_workbook(io.BytesIO(sheet.content), read_only=True).sheetnames[1] == OPD
    # a month without anything yet: the page says so and what to do
    empty = await office.get("/tpp-opd?periode=2025-01")
    assert "Pilih bulan lain" in empty.text
    await office.aclose()


# -- operator: device commands --------------------------------------------------------------------
async def test_the_operator_queues_a_re_upload_and_sees_the_devices_answer(mesh: Mesh) -> None:
    await people(mesh, factories.nip())
    await mesh.services["attendance"].state.kit.handle(
        employee(factories.nip(), None).model_copy(update={"opd": OTHER}).to_bytes()
    )
    async with service(mesh, "attendance") as api:
        for sn, opd in (("BKS010", OPD), ("DSH010", OTHER)):
            device = {"sn": sn, "opd": opd, "nama": f"Mesin {sn}"}
            r = await api.post("/api/v1/devices", json=device, headers=who(None, "bkpsdm"))
            assert r.status_code == 201, r.text
        _, office = await signed_in_as(mesh, "operator", OPD)
        devices = await office.get("/mesin")
        assert 'href="/mesin/BKS010/perintah"' in devices.text
        page = await office.get("/mesin/BKS010/perintah")
        assert page.status_code == 200 and "Belum ada perintah" in page.text
        token = csrf_of(page.text)
        # an end before the start: refused with what to do, the choice kept
        bad = {"jenis": "kirim_ulang", "dari": "2026-10-06", "sampai": "2026-10-05",
               "csrf_token": token}  # fmt: skip
        r = await office.post("/mesin/BKS010/perintah", data=bad)
        assert r.status_code == 422 and "tanggal akhir" in r.text and 'value="2026-10-06"' in r.text
        good = {**bad, "dari": "2026-10-05", "sampai": "2026-10-06"}
        text = await follow(office, await office.post("/mesin/BKS010/perintah", data=good))
        assert "Kirim ulang pindaian 2026-10-05 s.d. 2026-10-06" in text
        assert "Menunggu mesin terhubung" in text
        # the device picks it up on its next heartbeat and answers
        asked = await api.get("/iclock/getrequest", params={"SN": "BKS010"})
        found = re.match(r"C:(\d+):DATA QUERY ATTLOG StartTime=2026-10-05 00:00:00\t"
                         r"EndTime=2026-10-06 23:59:59", asked.text)  # fmt: skip
        assert found, asked.text
        assert "Sudah diambil mesin" in (await office.get("/mesin/BKS010/perintah")).text
        r = await api.post("/iclock/devicecmd", params={"SN": "BKS010"},
                           content=f"ID={found.group(1)}&Return=0&CMD=DATA\n")  # fmt: skip
        assert r.status_code == 200, r.text
        done = await office.get("/mesin/BKS010/perintah")
        assert "Selesai" in done.text and "Berhasil" in done.text
        # another OPD's device: neither its page nor a command
        theirs = await office.get("/mesin/DSH010/perintah")
        assert "tidak ada di daftar mesin OPD Anda" in theirs.text
        r = await office.post("/mesin/DSH010/perintah", data={**good, "jenis": "nyalakan_ulang"})
        assert r.status_code == 403 and "tidak berwenang" in r.text
        commands = await api.get("/api/v1/devices/DSH010/commands", headers=who(None, "bkpsdm"))
        assert commands.json() == []
    await office.aclose()


# -- BKPSDM: rule sets and the preview ------------------------------------------------------------
async def test_bkpsdm_previews_a_month_under_another_rule_set(mesh: Mesh) -> None:
    late, on_time = factories.nip(), factories.nip()
    await people(mesh, late, on_time)
    tpp = mesh.services["tpp"].state.kit
    await tpp.handle(factories.day_closed(late, MON, 1, NOW, late=37).to_bytes())
    await tpp.handle(factories.day_closed(on_time, MON, 1, NOW, late=0).to_bytes())
    _, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/aturan?periode=2026-10")
    assert page.status_code == 200, page.text
    assert "berlaku rule set <strong>bekasi-perwali-69-2019</strong>" in page.text
    assert "contoh-daerah-lain" in page.text and "07:30–16:00" in page.text
    result = await office.get("/aturan/pratinjau?periode=2026-10&aturan=contoh-daerah-lain")
    assert result.status_code == 200, result.text
    # 37 minutes late: TL1 of Bekasi (16-60 min) against TL2 of the other (31-90 min)
    assert "Potongan TL1 tanggal 05-10-2026" in result.text
    assert "Potongan TL2 tanggal 05-10-2026" in result.text
    csv_link = re.search(r'href="(/aturan/pratinjau\.csv\?[^"]+)"', result.text)
    assert csv_link, result.text
    sheet = await office.get(csv_link.group(1).replace("&amp;", "&"))
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    by_nip = {r["nip"]: r for r in rows}
    assert late in by_nip
    row = by_nip[late]
    assert int(row["selisih"]) == int(row["tpp_bersih_contoh-daerah-lain"]) - int(
        row["tpp_bersih_lama"]
    )
    assert "TL2" in row["perubahan"]
    # an unknown rule set: back to the page with the names that exist
    r = await office.get("/aturan/pratinjau?periode=2026-10&aturan=tidak-ada")
    assert "tidak dikenal" in await follow(office, r)
    await office.aclose()


# -- BKPSDM: openings -----------------------------------------------------------------------------
async def test_bkpsdm_opens_a_date_and_the_list_says_who_and_why(mesh: Mesh) -> None:
    staff = factories.nip()
    await people(mesh, staff)
    bk, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/pembukaan")
    assert page.status_code == 200 and "Belum ada tanggal yang dibuka" in page.text
    fields = {"nip": staff, "tanggal": "2026-10-01", "alasan": "", "batas": "2026-10-09",
              "csrf_token": csrf_of(page.text)}  # fmt: skip
    r = await office.post("/pembukaan", data=fields)
    assert r.status_code == 422 and "Isi alasan" in r.text and f'value="{staff}"' in r.text
    fields["alasan"] = "Mesin sidik jari lantai 2 mati sepanjang hari"
    text = await follow(office, await office.post("/pembukaan", data=fields))
    assert f"Tanggal 2026-10-01 dibuka untuk NIP {staff}" in text
    assert "Kamis, 1 Oktober 2026" in text and f"NIP {bk}" in text
    assert "Mesin sidik jari lantai 2 mati" in text and "Jumat, 9 Oktober 2026 pukul 23.59" in text
    # a wrong NIP: activity's reason and what to do
    r = await office.post("/pembukaan", data={**fields, "nip": "12345"})
    assert r.status_code == 422 and "NIP" in r.text
    await office.aclose()


# -- BKPSDM: employee import and SIASN ------------------------------------------------------------
async def test_bkpsdm_imports_employees_line_by_line_and_sees_the_siasn_state(
    mesh: Mesh,
) -> None:
    _, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/siasn")
    assert page.status_code == 200, page.text
    assert "Belum pernah disinkronkan" in page.text
    assert re.search(r'<p class="big">0</p>\s*<p>hasil kinerja bulanan', page.text), page.text
    good, bad = factories.nip(), factories.nip()
    lines = ("nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu\n"
             f"{good},Siti Rahmawati,{OPD},Analis,9,,5000000\n"
             f"{bad},Ahmad Fauzi,{OPD},Analis,99,,5000000\n")  # fmt: skip
    r = await office.post(
        "/siasn/impor",
        data={"csrf_token": csrf_of(page.text)},
        files={"berkas": ("pegawai.csv", lines.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert "<strong>1</strong> baris diterima" in r.text
    assert "<strong>1</strong> pegawai baru atau berubah" in r.text
    assert "<strong>1</strong> baris ditolak" in r.text
    assert re.search(r'<tr><td class="num">3</td><td>[^<]*kelas_jabatan[^<]*</td></tr>', r.text)
    download = re.search(r'download="baris-ditolak.csv" href="data:text/csv;charset=utf-8,([^"]+)"',
                         r.text)  # fmt: skip
    assert download, r.text
    assert list(csv.reader(io.StringIO(unquote(download.group(1))))) == [
        ["baris", "alasan"],
        ["3", "kelas_jabatan harus 1 sampai 17"],
    ]
    # the same as a workbook: the good one is unchanged now, the bad row named by its number
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in lines.splitlines():
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    r = await office.post(
        "/siasn/impor",
        data={"csrf_token": csrf_of(r.text)},
        files={"berkas": ("pegawai.xlsx", buf.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    assert "<strong>1</strong> baris diterima" in r.text
    assert "<strong>0</strong> pegawai baru atau berubah" in r.text
    assert re.search(r'<tr><td class="num">3</td><td>[^<]*kelas_jabatan[^<]*</td></tr>', r.text)
    # nothing chosen: what to do
    r = await office.post("/siasn/impor", data={"csrf_token": csrf_of(r.text)})
    assert r.status_code == 422 and "Belum ada berkas yang dipilih" in r.text
    # SIASN is not configured in this deployment: the page says so instead of failing
    r = await office.post("/siasn/sinkron", data={"csrf_token": csrf_of(r.text)})
    assert "SIASN belum dikonfigurasi" in await follow(office, r)
    await office.aclose()


# -- auditor: anomalies ---------------------------------------------------------------------------
async def test_the_auditor_filters_anomalies_by_opd_and_downloads_them(mesh: Mesh) -> None:
    wanderer = factories.nip()
    await people(mesh, wanderer)
    await mesh.services["attendance"].state.kit.handle(
        employee(factories.nip(), None).model_copy(update={"opd": OTHER}).to_bytes()
    )
    async with service(mesh, "attendance") as api:
        r = await api.post("/api/v1/devices", json={"sn": "DSH020", "opd": OTHER},
                           headers=who(None, "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text
        scan = {"scans": [{"nip": wanderer, "waktu": "2026-10-05 07:20:00", "device_sn": "DSH020"}]}
        r = await api.post("/api/v1/scans", json=scan, headers=who(None, "bkpsdm"))
        assert r.status_code == 200 and r.json()[0]["status"] == "accepted", r.text
    _, audit = await signed_in_as(mesh, "auditor")
    assert 'href="/anomali"' in (await audit.get("/")).text
    page = await audit.get(f"/anomali?periode=2026-10&opd={quote(OPD)}")
    assert page.status_code == 200, page.text
    assert "1 anomali pada Oktober 2026 di Dinas Kesehatan" in page.text
    assert f"NIP {wanderer} (OPD {OPD}) memindai di mesin DSH020 milik OPD {OTHER}" in page.text
    other = await audit.get(f"/anomali?periode=2026-10&opd={quote(OTHER)}")
    assert "0 anomali" in other.text and "Tidak ada anomali yang cocok" in other.text
    sheet = await audit.get(f"/anomali/unduh.csv?periode=2026-10&opd={quote(OPD)}")
    assert sheet.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert [(r["tanggal"], r["jenis"], r["nip"], r["mesin"]) for r in rows] == [
        ("2026-10-05", "foreign_device", wanderer, "DSH020")
    ]
    # the auditor reads; BKPSDM's forms are not theirs
    for path in ("/aturan", "/pembukaan", "/siasn"):
        r = await audit.get(path)
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
    await audit.aclose()


# -- the wrong role -------------------------------------------------------------------------------
BKPSDM_PAGES = ("/aturan", "/aturan/pratinjau?aturan=x", "/aturan/pratinjau.csv", "/pembukaan",
                "/siasn", "/anomali", "/anomali/unduh.csv")  # fmt: skip
OPERATOR_PAGES = ("/tpp-opd", "/tpp-opd/2026-10/unduh.xlsx", "/mesin/BKS010/perintah")


async def test_an_asn_and_an_operator_are_refused_the_pages_not_theirs(mesh: Mesh) -> None:
    staff = factories.nip()
    await people(mesh, staff)
    asn = await signed_in(mesh, staff)
    for path in (*BKPSDM_PAGES, *OPERATOR_PAGES):
        r = await asn.get(path)
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
        refused = await asn.get("/")
        assert refused.status_code == 200 and REFUSED in refused.text, path
    for path in ("/pembukaan", "/siasn/impor", "/siasn/sinkron", "/mesin/BKS010/perintah"):
        r = await asn.post(path, data={"csrf_token": "x"})
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
    _, office = await signed_in_as(mesh, "operator", OPD)
    for path in BKPSDM_PAGES:
        r = await office.get(path)
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
        assert REFUSED in (await office.get("/")).text
    await asn.aclose()
    await office.aclose()


async def test_long_work_shows_progress_while_the_server_works(mesh: Mesh) -> None:
    """Issue 13: imports, period close/reopen, a preview and the SIASN sync show a progress
    bar once sent (and cannot be sent twice); the result page follows when the work ends."""
    _, office = await signed_in_as(mesh, "bkpsdm")
    _, operator = await signed_in_as(mesh, "operator", OPD)
    pages = [
        (office, "/siasn", 2),
        (office, "/aturan", 1),
        (office, f"/periode/{MON:%Y-%m}/yakin/tutup", 1),
        (operator, "/impor", 1),
    ]
    for browser, path, forms in pages:
        page = await browser.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert page.text.count("data-proses") == forms, path
        boxes = re.findall(
            r'<div class="proses" role="status" tabindex="-1" hidden><progress', page.text
        )
        assert len(boxes) == forms, path
        assert '<script src="/static/sikerja.js" defer></script>' in page.text
    script = await office.get("/static/sikerja.js")
    assert script.status_code == 200
    assert 'hasAttribute("data-proses")' in script.text and "b.disabled = true" in script.text


async def test_kinerja_results_and_their_siasn_state_per_asn_opd_and_month(mesh: Mesh) -> None:
    """Issue 15: results, delivery state and SIASN ids visible per ASN, OPD and month."""
    ani, other = factories.nip(), factories.nip()
    boss = factories.nip()
    siasn = mesh.services["siasn"].state.kit
    closed_at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    lines = "nip,nama,opd,jabatan,kelas_jabatan,atasan_nip,tpp_pagu,aktif_mulai\n" + "".join(
        f"{nip},Pegawai {nip[-4:]},{opd},Analis,9,{atasan},5000000,2026-01-01\n"
        for nip, opd, atasan in ((boss, OPD, ""), (ani, OPD, boss), (other, OTHER, boss))
    )
    async with service(mesh, "siasn") as http:  # siasn's own master data: its import
        headers = {"content-type": "text/csv", **who(None, "bkpsdm")}
        r = await http.post("/api/v1/employees/import", content=lines.encode(), headers=headers)
        assert r.status_code == 200 and r.json()["accepted"] == 3, r.text
    for nip in (ani, other):
        closed = TppPeriodClosed(occurred_at=closed_at, producer="tpp", nip=nip,
                                 period="2026-10", rules="bekasi-perwali-69-2019",
                                 pagu=5_000_000, net=5_000_000, closed_by=boss)  # fmt: skip
        rated = KinerjaResultConfirmed(occurred_at=closed_at, producer="approval", nip=nip,
                                       period="2026-10", hasil_kerja="di_atas",
                                       perilaku_kerja="di_atas", confirmed_by=boss)  # fmt: skip
        for event in (closed, rated):
            assert await siasn.handle(event.to_bytes()) == "handled"
    _, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/siasn/hasil", params={"periode": "2026-10"})
    assert page.status_code == 200, page.text
    assert ani in page.text and other in page.text
    # di atas + di atas = Sangat Baik (RULES.md matrix); closed and confirmed: due to send
    assert page.text.count("Sangat Baik") == 2 and "Siap dikirim" in page.text
    only_theirs = await office.get("/siasn/hasil", params={"periode": "2026-10", "opd": OTHER})
    assert other in only_theirs.text and ani not in only_theirs.text
    _, operator = await signed_in_as(mesh, "operator", OPD)
    mine = await operator.get("/siasn/hasil", params={"periode": "2026-10", "opd": OTHER})
    assert ani in mine.text and other not in mine.text  # their own OPD, whatever they ask
    plain = factories.nip()
    await people(mesh, plain)
    refused = await (await signed_in(mesh, plain)).get("/siasn/hasil")
    assert refused.status_code == 303 and refused.headers["location"] == "/"
