"""BKPSDM's and the auditor's pages (routes/city.py) against the real services in-process:
the same mesh as test_portal_pages (its fixture and login helpers are reused)."""

from __future__ import annotations

import csv
import io

import httpx

from contracts.events import AttendanceDayClosed
from tests import factories
from tests.service import test_portal_pages
from tests.service.test_portal_pages import (
    MON,
    NOW,
    OPD,
    Mesh,
    csrf_of,
    employee,
    signed_in,
    totp_done,
)
from tests.support import who

mesh = test_portal_pages.mesh  # the same in-process services and portal (a fixture)


async def granted(mesh: Mesh, nip: str, role: str, opd: str | None = None) -> None:
    """Grant through the portal's API, as a BKPSDM of an earlier session did."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        r = await api.post(f"/api/v1/accounts/{nip}/grants", json={"role": role, "opd": opd},
                           headers=who(factories.nip(), "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text


async def people(mesh: Mesh, *nips: str) -> None:
    for kit in mesh.kits().values():
        for nip in nips:
            await kit.handle(employee(nip, None).to_bytes())


async def follow(browser: httpx.AsyncClient, r: httpx.Response) -> str:
    assert r.status_code == 303, r.text
    return (await browser.get(r.headers["location"])).text


async def test_bkpsdm_adds_and_removes_calendar_days(mesh: Mesh) -> None:
    bk = factories.nip()
    await people(mesh, bk)
    await granted(mesh, bk, "bkpsdm")
    office = await totp_done(mesh, bk)
    home = await office.get("/")
    assert 'href="/kalender"' in home.text and 'href="/audit"' in home.text
    page = await office.get("/kalender?tahun=2026")
    assert page.status_code == 200, page.text
    # the seeded national calendar: Proklamasi is a holiday of 2026
    assert "Senin, 17 Agustus 2026" in page.text and "Nasional" in page.text
    token = csrf_of(page.text)
    fields = {"tanggal": "2026-10-06", "nama": "Libur uji kota", "jenis": "libur",
              "csrf_token": token}  # fmt: skip
    text = await follow(office, await office.post("/kalender/tambah", data=fields))
    assert "ditetapkan sebagai hari libur" in text
    assert "<td>Selasa, 6 Oktober 2026</td><td>Libur uji kota</td><td>BKPSDM</td>" in text
    saturday = {"tanggal": "2026-10-10", "nama": "Sabtu pengganti", "jenis": "kerja",
                "csrf_token": token}  # fmt: skip
    text = await follow(office, await office.post("/kalender/tambah", data=saturday))
    assert "<td>Sabtu, 10 Oktober 2026</td><td>Sabtu pengganti</td>" in text
    # a missing date or kind says what to do, and nothing is saved
    text = await follow(office, await office.post("/kalender/tambah", data={**fields,
                                                  "tanggal": ""}))  # fmt: skip
    assert "Pilih tanggalnya dulu" in text
    text = await follow(office, await office.post("/kalender/2026-10-06/hapus",
                                                  data={"csrf_token": token}))  # fmt: skip
    assert "kembali mengikuti kalender nasional" in text and "Libur uji kota" not in text
    assert "Sabtu pengganti" in text
    await office.aclose()


async def test_bkpsdm_closes_downloads_and_reopens_a_month(mesh: Mesh) -> None:
    bk, staff = factories.nip(), factories.nip()
    await people(mesh, bk, staff)
    closed = AttendanceDayClosed(
        occurred_at=NOW, producer="attendance", nip=staff, work_date=MON, revision=1,
        status="tanpa_keterangan",
    )  # fmt: skip
    assert await mesh.services["tpp"].state.kit.handle(closed.to_bytes()) == "handled"
    await granted(mesh, bk, "bkpsdm")
    office = await totp_done(mesh, bk)

    page = await office.get("/periode?periode=2026-10")
    assert page.status_code == 200 and "Masih terbuka" in page.text, page.text
    # one statement (the staff's Monday, TK: 5 % of the 5,000,000 pagu cut)
    assert '<td class="num">Rp 5.000.000</td>' in page.text
    assert '<td class="num">Rp 250.000</td>' in page.text
    # an open month's payroll is only a draft
    refused = await office.get("/periode/2026-10/unduh.xlsx")
    assert "belum ditutup" in await follow(office, refused)
    confirm = await office.get("/periode/2026-10/yakin/tutup")
    assert "Ya, tutup periode" in confirm.text and "1 pegawai" in confirm.text
    r = await office.post("/periode/2026-10/tutup", data={"csrf_token": csrf_of(confirm.text)})
    text = await follow(office, r)
    # the close also computes the month of the employee with no closed day yet (bk): two
    assert "Periode ditutup: 2 rincian TPP dibekukan" in text and "Sudah ditutup" in text
    xlsx = await office.get("/periode/2026-10/unduh.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"  # a zip: the XLSX itself
    assert 'filename="tpp-2026-10.xlsx"' in xlsx.headers["content-disposition"]
    # closing twice: tpp's refusal is on the page
    again = await office.post("/periode/2026-10/tutup", data={"csrf_token": csrf_of(text)})
    assert "sudah ditutup" in await follow(office, again)

    confirm = await office.get("/periode/2026-10/yakin/buka")
    r = await office.post("/periode/2026-10/buka", data={"csrf_token": csrf_of(confirm.text)})
    text = await follow(office, r)
    assert "Periode dibuka kembali" in text and "Masih terbuka" in text
    audit = await office.get("/audit?aksi=period_closed")
    assert "Periode TPP ditutup" in audit.text and "2026-10" in audit.text
    await office.aclose()


async def test_a_grant_shows_up_in_the_auditors_log_and_csv(mesh: Mesh) -> None:
    bk, aud, ops = factories.nip(), factories.nip(), factories.nip()
    await people(mesh, bk, aud, ops)
    await granted(mesh, bk, "bkpsdm")
    office = await totp_done(mesh, bk)
    page = await office.get("/peran")
    token = csrf_of(page.text)
    # an operator without an OPD: the page says what is missing
    r = await office.post("/peran/beri", data={"nip": ops, "role": "operator", "opd": "",
                                               "csrf_token": token})  # fmt: skip
    assert "memerlukan nama OPD" in await follow(office, r)
    r = await office.post("/peran/beri", data={"nip": aud, "role": "auditor",
                                               "csrf_token": token})  # fmt: skip
    text = await follow(office, r)
    assert f"NIP {aud} sekarang memegang peran Auditor" in text
    assert f"/peran/{aud}/auditor/cabut" in text
    r = await office.post("/peran/beri", data={"nip": aud, "role": "auditor",
                                               "csrf_token": token})  # fmt: skip
    assert "sudah memegang peran" in await follow(office, r)
    r = await office.post("/peran/beri", data={"nip": ops, "role": "operator", "opd": OPD,
                                               "csrf_token": token})  # fmt: skip
    await follow(office, r)

    auditor = await totp_done(mesh, aud)
    log = await auditor.get(f"/audit?aksi=role_granted&nip={aud}&dari=2026-10-05&sampai=2026-10-05")
    assert log.status_code == 200, log.text
    assert "Peran diberikan" in log.text and aud in log.text and ops not in log.text
    assert "1 kejadian" in log.text
    # the days before (the account itself was made on 1 January): nothing
    empty = await auditor.get(f"/audit?nip={aud}&dari=2026-02-01&sampai=2026-10-04")
    assert "Tidak ada kejadian" in empty.text
    csv_r = await auditor.get(f"/audit/unduh.csv?aksi=role_granted&nip={aud}")
    assert csv_r.status_code == 200 and csv_r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_r.content.decode("utf-8-sig"))))
    assert [(r["aksi"], r["nip_pelaku"], r["sasaran"]) for r in rows] == [("role_granted", bk, aud)]
    assert '"role": "auditor"' in rows[0]["rincian"]
    # the auditor reads; role grants are BKPSDM's
    assert "bukan untuk peran" in (await auditor.get("/peran", follow_redirects=True)).text

    r = await office.post(f"/peran/{ops}/operator/cabut", data={"csrf_token": token})
    text = await follow(office, r)
    assert "Peran Operator OPD" in text and f"/peran/{ops}/operator/cabut" not in text
    assert "Peran dicabut" in (await auditor.get(f"/audit?nip={ops}")).text
    await office.aclose()
    await auditor.aclose()


async def test_an_asn_and_an_operator_are_refused(mesh: Mesh) -> None:
    staff, ops = factories.nip(), factories.nip()
    await people(mesh, staff, ops)
    await granted(mesh, ops, "operator", OPD)
    asn = await signed_in(mesh, staff)
    operator = await totp_done(mesh, ops)
    for browser in (asn, operator):
        home = await browser.get("/")
        assert 'href="/kalender"' not in home.text and 'href="/audit"' not in home.text
        token = csrf_of(home.text)
        for path in ("/kalender", "/periode", "/periode/2026-10/yakin/tutup", "/peran", "/audit",
                     "/audit/unduh.csv", "/periode/2026-10/unduh.xlsx"):  # fmt: skip
            r = await browser.get(path)
            assert (r.status_code, r.headers.get("location")) == (303, "/"), path
        for path, data in (
            ("/periode/2026-10/tutup", {}),
            ("/kalender/tambah", {"tanggal": "2026-10-06", "jenis": "libur"}),
            ("/peran/beri", {"nip": staff, "role": "bkpsdm"}),
        ):
            r = await browser.post(path, data={**data, "csrf_token": token})
            assert (r.status_code, r.headers.get("location")) == (303, "/"), path
        assert "bukan untuk peran" in (await browser.get("/")).text
    # nothing happened: the ASN holds no role, October is open
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["tpp"]), base_url="http://t"
    ) as tpp:
        r = await tpp.get("/api/v1/periods/2026-10", headers=who(None, "bkpsdm"))
        assert r.json()["status"] == "open"
    await asn.aclose()
    await operator.aclose()
