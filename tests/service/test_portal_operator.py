"""The OPD operator's pages against the real services in-process (the mesh of
test_portal_pages.py): absences with their documents, devices, the import's per-line report
and the day recap; and none of them for an ASN."""

from __future__ import annotations

import re

import httpx

from services.portal.routes.work import nav_of
from tests import factories
from tests.service import test_portal_pages as pages
from tests.service.test_portal_pages import OPD, Mesh, csrf_of, employee, signed_in, totp_done
from tests.support import who

mesh = pages.mesh  # the same in-process services and portal, as this module's fixture

PDF = b"%PDF-1.4\n" + b"0" * 64
ATTENDANCE = "http://attendance"


def attendance(mesh: Mesh) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=mesh.services["attendance"])
    return httpx.AsyncClient(transport=transport, base_url=ATTENDANCE)


async def operator_of(mesh: Mesh, *staff: str) -> httpx.AsyncClient:
    """An operator of OPD (after TOTP), with `staff` known to every service."""
    ops = factories.nip()
    for kit in mesh.kits().values():
        for nip in (ops, *staff):
            await kit.handle(employee(nip, None).to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.portal), base_url="https://portal"
    ) as api:
        r = await api.post(f"/api/v1/accounts/{ops}/grants", json={"role": "operator", "opd": OPD},
                           headers=who(factories.nip(), "bkpsdm"))  # fmt: skip
        assert r.status_code == 201, r.text
    return await totp_done(mesh, ops)


async def test_the_operator_records_an_absence_with_its_document_and_reads_it_back(
    mesh: Mesh,
) -> None:
    staff = factories.nip()
    office = await operator_of(mesh, staff)
    page = await office.get("/ketidakhadiran?periode=2026-10")
    assert page.status_code == 200 and "Belum ada ketidakhadiran" in page.text
    assert 'href="/mesin"' in page.text and 'href="/rekap"' in page.text  # the menu
    fields = {"nip": staff, "jenis": "cuti_sakit", "mulai": "2026-10-06", "selesai": "2026-10-07",
              "keterangan": "demam", "csrf_token": csrf_of(page.text)}  # fmt: skip
    r = await office.post(
        "/ketidakhadiran", data=fields, files={"dokumen": ("surat.pdf", PDF, "application/pdf")}
    )
    assert r.status_code == 303, r.text
    listed = await office.get(r.headers["location"])
    assert f"Ketidakhadiran NIP {staff} tercatat" in listed.text
    assert "Selasa, 6 Oktober 2026 s.d. Rabu, 7 Oktober 2026" in listed.text
    link = re.search(r'href="(/ketidakhadiran/[^"]+/dokumen)">surat.pdf</a>', listed.text)
    assert link, listed.text
    document = await office.get(link.group(1))
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-type"] == "application/pdf"
    # without a document, and a wrong date: the service's reason is on the page, the form kept
    fields = {**fields, "mulai": "2026-10-09", "selesai": "2026-10-08"}
    refused = await office.post("/ketidakhadiran", data=fields)
    assert refused.status_code == 422 and 'class="galat"' in refused.text
    assert "Periksa isian Anda lalu kirim lagi." in refused.text
    assert 'value="2026-10-09"' in refused.text and "surat.pdf" in refused.text
    await office.aclose()


async def test_the_operator_sees_the_opd_devices_and_the_day_recap(mesh: Mesh) -> None:
    late, absent = factories.nip(), factories.nip()
    office = await operator_of(mesh, late, absent)
    async with attendance(mesh) as api:
        for sn, name in (("BKS001", "Lobi utama"), ("BKS002", "Gedung B")):
            device = {"sn": sn, "opd": OPD, "nama": name, "lokasi": "Jl. Ahmad Yani"}
            r = await api.post("/api/v1/devices", json=device, headers=who(None, "bkpsdm"))
            assert r.status_code == 201, r.text
        other = {"sn": "DSH009", "opd": "Dinas Perhubungan", "nama": "Terminal"}
        await mesh.services["attendance"].state.kit.handle(
            employee(factories.nip(), None).model_copy(update={"opd": other["opd"]}).to_bytes()
        )
        r = await api.post("/api/v1/devices", json=other, headers=who(None, "bkpsdm"))
        assert r.status_code == 201, r.text
        scan = {"scans": [{"nip": late, "waktu": "2026-10-05 08:40:00"}]}
        r = await api.post("/api/v1/scans", json=scan, headers=who(None, "bkpsdm"))
        assert r.status_code == 200 and r.json()[0]["status"] == "accepted", r.text

    devices = await office.get("/mesin")
    assert devices.status_code == 200, devices.text
    assert "Lobi utama" in devices.text and "Gedung B" in devices.text
    assert "Terminal" not in devices.text  # another OPD's
    assert devices.text.count("Belum pernah terhubung") == 2

    recap = await office.get("/rekap?tanggal=2026-10-05")
    assert recap.status_code == 200, recap.text
    assert "Senin, 5 Oktober 2026" in recap.text and "3 pegawai" in recap.text  # with the operator
    row = re.search(
        r"<br><span class=\"hint\">" + late + r"</span></td><td>([^<]+?) <span[^>]*>[^<]*</span>"
        r"</td>\s*<td>([^<]+)</td><td>[^<]*</td><td class=\"num\">([^<]+)</td>",
        recap.text,
    )
    assert row, recap.text
    # 08:40 against a 07:30 start: 70 minutes late
    assert row.groups() == ("Hadir", "08:40", "70 menit")
    assert re.search(r'<span class="big">2</span><br>Tanpa keterangan', recap.text), recap.text
    await office.aclose()


async def test_an_import_reports_each_bad_line_and_keeps_the_good_ones(mesh: Mesh) -> None:
    staff = factories.nip()
    office = await operator_of(mesh, staff)
    page = await office.get("/impor")
    assert page.status_code == 200 and 'type="file"' in page.text
    csv = (
        f"nip,waktu\n{staff},2026-10-05 07:25:00\n12345,2026-10-05 07:26:00\n"
        f"{staff},2026-10-05 16:31:00\n"
    ).encode()
    r = await office.post(
        "/impor",
        data={"jenis": "pindaian", "csrf_token": csrf_of(page.text)},
        files={"berkas": ("absen.csv", csv, "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert "<strong>2</strong> baris tersimpan" in r.text
    assert "<strong>1</strong> baris ditolak" in r.text
    bad = re.search(r'<tr><td class="num">3</td><td>([^<]+)</td></tr>', r.text)
    assert bad and "NIP" in bad.group(1), r.text
    async with attendance(mesh) as api:  # the good lines are in attendance
        scans = await api.get(f"/api/v1/employees/{staff}/scans", params={"period": "2026-10"},
                              headers=who(None, "bkpsdm"))  # fmt: skip
    assert len(scans.json()) == 2, scans.text

    absences = f"nip,mulai,selesai,jenis\n{staff},2026-10-08,2026-10-08,cuti_tahunan\n"
    absences += f"{staff},2026-10-09,2026-10-09,cuti_liburan\n"
    r = await office.post(
        "/impor",
        data={"jenis": "ketidakhadiran", "csrf_token": csrf_of(r.text)},
        files={"berkas": ("cuti.csv", absences.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text
    assert "<strong>1</strong> baris tersimpan" in r.text
    assert re.search(r'<tr><td class="num">3</td><td>[^<]*jenis[^<]*</td></tr>', r.text), r.text
    # nothing chosen: what to do, not a crash
    r = await office.post("/impor", data={"jenis": "pindaian", "csrf_token": csrf_of(r.text)})
    assert r.status_code == 422 and "Belum ada berkas yang dipilih" in r.text
    await office.aclose()


async def test_an_asn_is_refused_every_operator_page(mesh: Mesh) -> None:
    staff = factories.nip()
    await mesh.portal.state.kit.handle(employee(staff, None).to_bytes())
    asn = await signed_in(mesh, staff)
    for path in ("/ketidakhadiran", "/mesin", "/impor", "/rekap", "/ketidakhadiran/x/dokumen"):
        r = await asn.get(path)
        assert (r.status_code, r.headers["location"]) == (303, "/"), path
        assert "Halaman itu bukan untuk peran Anda." in (await asn.get("/")).text
    r = await asn.post("/impor", data={"jenis": "pindaian"})
    assert (r.status_code, r.headers["location"]) == (303, "/")
    assert "/mesin" not in [href for href, _ in nav_of("asn")]
    await asn.aclose()
