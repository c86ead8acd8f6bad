"""BKPSDM's Pembatalan potongan, Usulan gangguan mesin and Penilai pages (issue 14 in the
portal) against the real services in-process (the mesh of test_portal_ops.py), what the ASN,
the atasan and the operator then see on their TPP pages, and each page refused to the roles it
is not for."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from contracts.events import ActivityReported, EmployeeDeactivated
from services.kernel.calendar import WIB
from services.portal.routes.annulments import OUTAGE_REASON
from tests import factories
from tests.service import test_portal_ops as ops
from tests.service.test_portal_city import follow
from tests.service.test_portal_ops import REFUSED, service, signed_in_as
from tests.service.test_portal_pages import MON, NOW, OPD, Mesh, csrf_of, employee, signed_in
from tests.support import who

mesh = ops.mesh  # the same in-process services and portal, as this module's fixture
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def known(mesh: Mesh, *people: tuple[str, str | None]) -> None:
    for kit in mesh.kits().values():
        for nip, atasan in people:
            await kit.handle(employee(nip, atasan).to_bytes())


async def refused(browser: httpx.AsyncClient, path: str) -> None:
    r = await browser.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/", (path, r.status_code)
    assert REFUSED in (await browser.get("/")).text


def annulment_id(location: str) -> str:
    found = re.fullmatch(r"/pembatalan/([^/]+)", location)
    assert found, location
    return unquote(found.group(1))


async def test_bkpsdm_annuls_a_cut_the_asn_sees_it_at_rp_0_then_bkpsdm_revokes_it(
    mesh: Mesh,
) -> None:
    boss, staff = factories.nip(), factories.nip()
    await known(mesh, (boss, None), (staff, boss))
    # 37 minutes late on Monday: TL1, 0.25% of the 5.000.000 pagu = Rp 12.500 (RULES.md)
    await mesh.services["tpp"].state.kit.handle(
        factories.day_closed(staff, MON, 1, NOW, late=37).to_bytes()
    )
    _, office = await signed_in_as(mesh, "bkpsdm")
    home = await office.get("/")
    for href in ("/pembatalan", "/gangguan-mesin", "/penilai"):
        assert f'href="{href}"' in home.text
    empty = await office.get("/pembatalan?periode=2026-10")
    assert empty.status_code == 200 and "Belum ada pembatalan potongan yang cocok" in empty.text
    form = await office.get("/pembatalan/baru")
    assert form.status_code == 200, form.text
    # the rule set's codes, in words, to choose from (empty: every cut of the date)
    assert '<option value="TL1">TL1 — Terlambat masuk kerja (tingkat 1)</option>' in form.text
    assert '<option value="TK">' in form.text
    token = csrf_of(form.text)
    fields = {"tanggal": "2026-10-05", "sasaran": "nip", "nip": staff, "kode": "TL1",
              "alasan": "Listrik kantor padam pagi itu", "csrf_token": token}  # fmt: skip

    # no document: refused with what to add, the fields kept
    r = await office.post("/pembatalan/baru", data=fields)
    assert r.status_code == 422 and "Isi dokumen pendukung (PDF, JPG atau PNG)" in r.text
    assert "Listrik kantor padam pagi itu</textarea>" in r.text
    # tpp's own refusal (a date not yet a statement's: a NIP nobody knows) is on the page
    stranger = {**fields, "nip": factories.nip()}
    r = await office.post("/pembatalan/baru", data=stranger,
                          files={"dokumen": ("ba.pdf", PDF, "application/pdf")})  # fmt: skip
    assert r.status_code == 422 and "tidak tercatat sebagai pegawai aktif" in r.text
    assert "Pilih lagi berkas dokumennya" in r.text

    document = {"dokumen": ("berita-acara.pdf", PDF, "application/pdf")}
    r = await office.post("/pembatalan/baru", data=fields, files=document)
    assert r.status_code == 303, r.text
    aid = annulment_id(r.headers["location"])
    detail = await follow(office, r)
    assert "Pembatalan potongan tercatat. 1 rincian TPP dihitung ulang." in detail
    assert "Berlaku" in detail and "berita-acara.pdf" in detail
    assert f'href="/pembatalan/{aid}/cabut"' in detail
    assert "Dicatat" in detail and "Listrik kantor padam pagi itu" in detail
    document = await office.get(f"/pembatalan/{aid}/dokumen")
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-type"].startswith("application/pdf")
    listed = await office.get("/pembatalan?periode=2026-10")
    assert f'href="/pembatalan/{aid}"' in listed.text and f"NIP {staff}" in listed.text
    assert "Log pembatalan" in listed.text

    # the ASN: the line stays, at Rp 0, the Rp 12.500 struck through, the reason in words
    asn = await signed_in(mesh, staff)
    mine = await asn.get("/tpp?periode=2026-10")
    assert mine.status_code == 200, mine.text
    assert "Dibatalkan BKPSDM, tidak dipotong." in mine.text
    assert "Alasan: Listrik kantor padam pagi itu" in mine.text
    struck = '<td class="num"><span>Rp 0<br><span class="hint">dibatalkan: <del>Rp 12.500</del>'
    assert struck in mine.text
    assert "1 potongan senilai Rp 12.500 dibatalkan BKPSDM" in mine.text
    # the atasan's recap and the operator's OPD page say so too
    atasan = await signed_in(mesh, boss)
    recap = await atasan.get("/bawahan?periode=2026-10")
    assert "potongan dibatalkan BKPSDM: <del>Rp 12.500</del>" in recap.text
    _, operator = await signed_in_as(mesh, "operator", OPD)
    sheet = await operator.get("/tpp-opd?periode=2026-10")
    assert "dibatalkan BKPSDM: <del>Rp 12.500</del>" in sheet.text
    # the operator reads their OPD's annulments, cannot record or revoke
    theirs = await operator.get("/pembatalan?periode=2026-10")
    assert theirs.status_code == 200 and f'href="/pembatalan/{aid}"' in theirs.text
    assert 'href="/pembatalan/baru"' not in theirs.text and "Log pembatalan" not in theirs.text
    seen = await operator.get(f"/pembatalan/{aid}")
    assert seen.status_code == 200 and "/cabut" not in seen.text
    for path in ("/pembatalan/baru", f"/pembatalan/{aid}/cabut", "/gangguan-mesin", "/penilai"):
        await refused(operator, path)
    # the ASN has no such page
    await refused(asn, "/pembatalan")
    # the auditor: the list and the log, nothing to change
    _, auditor = await signed_in_as(mesh, "auditor")
    audit = await auditor.get("/pembatalan?periode=2026-10")
    assert audit.status_code == 200 and "Log pembatalan" in audit.text
    assert f'<a href="/pembatalan/{aid}">Dicatat</a>' in audit.text
    await refused(auditor, "/pembatalan/baru")

    # revoking: a confirmation step; no reason, no revoke
    confirm = await office.get(f"/pembatalan/{aid}/cabut")
    assert confirm.status_code == 200 and "Ya, cabut pembatalan" in confirm.text
    token = csrf_of(confirm.text)
    r = await office.post(f"/pembatalan/{aid}/cabut", data={"alasan": " ", "csrf_token": token})
    assert r.status_code == 422 and "Tulis alasan pencabutan" in r.text
    why = {"alasan": "Listrik ternyata menyala", "csrf_token": token}
    r = await office.post(f"/pembatalan/{aid}/cabut", data=why)
    text = await follow(office, r)
    assert "Pembatalan dicabut; potongannya berlaku lagi. 1 rincian TPP dihitung ulang." in text
    assert "Dicabut" in text and "Listrik ternyata menyala" in text and "/cabut" not in text
    back = await asn.get("/tpp?periode=2026-10")
    assert "Dibatalkan BKPSDM" not in back.text
    assert '<td class="num">Rp 12.500</td>' in back.text
    for browser in (office, asn, atasan, operator, auditor):
        await browser.aclose()


async def test_a_device_outage_leads_to_the_annulment_form_pre_filled(mesh: Mesh) -> None:
    staff = factories.nip()
    await known(mesh, (staff, None))
    attendance = mesh.services["attendance"].state.kit
    # the device registered on Saturday the 3rd; asked on Wednesday the 7th: Monday 5 and
    # Tuesday 6 are working days with nothing from it while the employee was due
    attendance.clock = lambda: datetime(2026, 10, 3, 9, 0, tzinfo=WIB)
    async with service(mesh, "attendance") as api:
        device = {"sn": "BKS020", "opd": OPD, "nama": "Mesin lobi"}
        r = await api.post("/api/v1/devices", json=device, headers=who(None, "bkpsdm"))
        assert r.status_code == 201, r.text
    attendance.clock = lambda: datetime(2026, 10, 7, 10, 0, tzinfo=WIB)
    _, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/gangguan-mesin?periode=2026-10")
    assert page.status_code == 200, page.text
    assert "Senin, 5 Oktober 2026" in page.text and "Selasa, 6 Oktober 2026" in page.text
    links = re.findall(r'<a class="button" style="margin:0" href="([^"]+)"', page.text)
    assert len(links) == 2
    link = links[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert query["opd"] == [OPD] and query["tanggal"] == ["2026-10-05"]
    assert query["alasan"] == [OUTAGE_REASON]
    form = await office.get(link)
    assert form.status_code == 200, form.text
    usulan = query["usulan"][0]
    assert f'name="usulan" value="{usulan}"' in form.text
    assert f'value="{OPD}"' in form.text and 'value="2026-10-05"' in form.text
    assert 'value="opd" style="width:auto" checked' in form.text
    assert f"{OUTAGE_REASON}</textarea>" in form.text
    # the document is still required
    fields = {"tanggal": "2026-10-05", "sasaran": "opd", "opd": OPD, "kode": "",
              "alasan": OUTAGE_REASON, "usulan": usulan}  # fmt: skip
    fields["csrf_token"] = csrf_of(form.text)
    r = await office.post("/pembatalan/baru", data=fields)
    assert r.status_code == 422 and "dokumen pendukung" in r.text
    r = await office.post("/pembatalan/baru", data=fields,
                          files={"dokumen": ("ba.png", PNG, "image/png")})  # fmt: skip
    assert r.status_code == 303, r.text
    aid = annulment_id(r.headers["location"])
    detail = await follow(office, r)
    assert f"Semua pegawai {OPD}" in detail and usulan in detail
    again = await office.get("/gangguan-mesin?periode=2026-10")
    assert f'<a href="/pembatalan/{aid}">Sudah dikonfirmasi</a>' in again.text
    assert len(re.findall(r">Konfirmasi pembatalan</a>", again.text)) == 1  # Tuesday's left
    await office.aclose()


async def test_bkpsdm_names_a_penilai_for_a_head_whose_report_nobody_could_decide(
    mesh: Mesh,
) -> None:
    head, official = factories.nip(), factories.nip()
    await known(mesh, (head, None))
    report = ActivityReported(occurred_at=NOW, producer="activity", nip=head,
                              report_id=str(uuid.uuid4()), work_date=MON,
                              description="Rapat koordinasi")  # fmt: skip
    assert await mesh.services["approval"].state.kit.handle(report.to_bytes()) == "handled"
    _, office = await signed_in_as(mesh, "bkpsdm")
    page = await office.get("/penilai")
    assert page.status_code == 200, page.text
    assert "Tidak dapat diputuskan (1 laporan)" in page.text
    assert f'<td data-label="NIP"><div class="wrap-any">{head}</div></td>' in page.text
    assert f'href="/penilai?nip={head}#atur"' in page.text
    assert f"Pegawai {head[-4:]}" in page.text and "<strong>Belum ada</strong>" in page.text
    chosen = await office.get(f"/penilai?nip={head}")
    assert (
        f'name="nip" inputmode="numeric" autocomplete="off" maxlength="18" required value="{head}"'
        in chosen.text
    )
    token = csrf_of(chosen.text)
    # an official without a name: what to fill in, the NIP kept
    fields = {"nip": head, "jenis": "pejabat", "penilai": official, "nama": "",
              "jabatan": "Sekretaris Daerah", "mulai": "", "sampai": ""}  # fmt: skip
    fields["csrf_token"] = token
    r = await office.post("/penilai", data=fields)
    assert r.status_code == 422 and "Isi nama pejabat penilai, lalu kirim lagi." in r.text
    assert f'value="{official}"' in r.text
    # approval's own refusal of a NIP is on the page
    r = await office.post("/penilai", data={**fields, "penilai": "12345", "nama": "Bu Sekda"})
    assert r.status_code == 422 and "Penilai harus NIP pejabat atau BKPSDM" in r.text
    r = await office.post("/penilai", data={**fields, "nama": "Bu Sekda", "mulai": "2026-10-01"})
    text = await follow(office, r)
    assert f"Penilai NIP {head} ditetapkan: Bu Sekda (NIP {official})." in text
    assert f"Bu Sekda (NIP {official}), Sekretaris Daerah" in text
    assert "laporan Kamis, 1 Oktober 2026 s.d. seterusnya" in text
    assert "Tidak ada laporan yang tertahan" in text
    removal = re.search(r'action="/penilai/([^/]+)/hapus"', text)
    assert removal
    r = await office.post(f"/penilai/{removal.group(1)}/hapus", data={"csrf_token": token})
    text = await follow(office, r)
    assert f"Penilai NIP {head} dihapus." in text and "Tidak dapat diputuskan (1 laporan)" in text
    # BKPSDM itself as the penilai
    r = await office.post("/penilai", data={**fields, "jenis": "bkpsdm", "penilai": ""})
    assert f"Penilai NIP {head} ditetapkan: BKPSDM." in await follow(office, r)
    _, auditor = await signed_in_as(mesh, "auditor")
    await refused(auditor, "/penilai")
    await office.aclose()
    await auditor.aclose()


async def test_the_heads_list_is_approvals_periods_without_atasan_not_ended(mesh: Mesh) -> None:
    """GET /without-atasan: a head whose period ended before today is not listed; one with
    an atasan is not either."""
    head, staff, gone = factories.nip(), factories.nip(), factories.nip()
    approval = mesh.services["approval"].state.kit
    for nip, atasan in ((head, None), (staff, head), (gone, None)):
        await approval.handle(employee(nip, atasan).to_bytes())
    left = EmployeeDeactivated(occurred_at=NOW, producer="siasn", nip=gone,
                               aktif_sampai=date(2026, 9, 30))  # fmt: skip
    await approval.handle(left.to_bytes())  # approval's today is 5 October: gone ended before
    async with service(mesh, "approval") as api:
        r = await api.get("/api/v1/without-atasan", headers=who(factories.nip(), "auditor"))
        assert r.status_code == 200, r.text
        listed = {h["nip"]: h for h in r.json()}
        assert head in listed and staff not in listed and gone not in listed
        assert listed[head]["opd"] == OPD and listed[head]["nama"] == f"Pegawai {head[-4:]}"
        r = await api.get("/api/v1/without-atasan", headers=who(head, "asn"))
        assert r.status_code == 403
