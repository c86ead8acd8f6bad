"""The atasan's page "Penilaian kinerja bulanan" against the real services in-process (the
mesh of tests/service/test_portal_pages.py): tpp closes September, its TppPeriodClosed
reaches approval, the atasan sees each subordinate's proposal with its predikat, confirms
them all as proposed, changes one (refused without a reason, accepted with one); another
atasan can neither see nor change them.

By hand (docs/rules.md "Monthly kinerja result"): nobody has a day fact in September, so tpp
computes each statement at the close with no required report day (100 % approved) and no
attendance line; nobody has an SKP target. Hasil kerja: sesuai (no target realised);
perilaku kerja: di atas (no attendance line); predikat Baik."""

from __future__ import annotations

import httpx

from tests import factories
from tests.service.test_portal_pages import Mesh, csrf_of, employee, signed_in
from tests.service.test_portal_pages import mesh as mesh  # the fixture
from tests.support import who

PERIOD = "2026-09"


async def _approval(mesh: Mesh, nip: str) -> dict[str, object]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["approval"]), base_url="http://a"
    ) as approval:
        r = await approval.get(f"/api/v1/kinerja/{nip}/{PERIOD}", headers=who(None, "bkpsdm"))
        assert r.status_code == 200, r.text
        body: dict[str, object] = r.json()
        return body


async def test_atasan_confirms_the_proposals_and_changes_one_with_a_reason(mesh: Mesh) -> None:
    boss, first, second, other_boss, theirs = (factories.nip() for _ in range(5))
    people = [employee(boss, None), employee(first, boss), employee(second, boss),
              employee(other_boss, None), employee(theirs, other_boss)]  # fmt: skip
    for kit in mesh.kits().values():
        for event in people:
            await kit.handle(event.to_bytes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=mesh.services["tpp"]), base_url="http://t"
    ) as tpp:
        closed = await tpp.post(f"/api/v1/periods/{PERIOD}/close", headers=who(None, "bkpsdm"))
        assert closed.status_code == 200, closed.text
    await mesh.pump()

    atasan = await signed_in(mesh, boss)
    home = await atasan.get("/")
    assert 'href="/kinerja"' in home.text  # in the atasan's menu
    page = await atasan.get("/kinerja")  # last month by default (today is 5 October)
    assert page.status_code == 200
    assert f"Pegawai {first[-4:]}" in page.text and f"Pegawai {second[-4:]}" in page.text
    assert f"Pegawai {theirs[-4:]}" not in page.text
    assert page.text.count("predikat <strong>Baik</strong>") == 2
    assert "Tetapkan semua sesuai usulan (2)" in page.text
    token = csrf_of(page.text)

    # a change without a reason: approval's refusal, in words, on the page
    change = {"period": PERIOD, "hasil_kerja": "di_atas", "perilaku_kerja": "di_atas",
              "csrf_token": token}  # fmt: skip
    r = await atasan.post(f"/kinerja/{second}/ubah", data=change)
    assert r.status_code == 303
    refused = await atasan.get(r.headers["location"])
    assert "Penilaian berbeda dari usulan sistem" in refused.text and "alasan" in refused.text
    assert (await _approval(mesh, second))["result"] is None

    r = await atasan.post(
        "/kinerja/tetapkan",
        data={"period": PERIOD, "nips": [first, second], "csrf_token": token},
    )
    assert "2 penilaian ditetapkan sesuai usulan." in (await atasan.get(r.headers["location"])).text
    r = await atasan.post(
        f"/kinerja/{second}/ubah", data={**change, "reason": "Menyelesaikan tugas tambahan"}
    )
    after = await atasan.get(r.headers["location"])
    assert f"Penilaian NIP {second} ditetapkan." in after.text
    assert "predikat <strong>Sangat Baik</strong>" in after.text
    assert (
        "berbeda dari usulan" in after.text and "Alasan: Menyelesaikan tugas tambahan" in after.text
    )
    result = (await _approval(mesh, second))["result"]
    assert isinstance(result, dict)
    assert (result["hasil_kerja"], result["revision"], result["confirmed_by"]) == (
        "di_atas", 2, boss,
    )  # fmt: skip

    # another atasan: not on their page, and a change they post is refused by approval
    stranger = await signed_in(mesh, other_boss)
    theirs_page = await stranger.get(f"/kinerja?periode={PERIOD}")
    assert f"Pegawai {first[-4:]}" not in theirs_page.text
    assert f"Pegawai {theirs[-4:]}" in theirs_page.text
    r = await stranger.post(
        f"/kinerja/{first}/ubah",
        data={**change, "reason": "Coba", "csrf_token": csrf_of(theirs_page.text)},
    )
    refused = await stranger.get(r.headers["location"])
    assert "Hanya atasan langsung pegawai" in refused.text
    r = await stranger.post(
        "/kinerja/tetapkan",
        data={"period": PERIOD, "nips": [first], "csrf_token": csrf_of(theirs_page.text)},
    )
    bulk = await stranger.get(r.headers["location"])
    assert "0 penilaian ditetapkan" in bulk.text and f"NIP {first}: Hanya atasan" in bulk.text
    first_result = (await _approval(mesh, first))["result"]
    assert isinstance(first_result, dict)
    assert (first_result["revision"], first_result["confirmed_by"]) == (1, boss)
    # a form from another page (no CSRF token) changes nothing
    forged = {**change, "reason": "x", "csrf_token": ""}
    r = await atasan.post(f"/kinerja/{first}/ubah", data=forged)
    assert "Formulir kedaluwarsa" in (await atasan.get(r.headers["location"])).text
    assert (await _approval(mesh, first))["result"] == first_result
    for browser in (atasan, stranger):
        await browser.aclose()
