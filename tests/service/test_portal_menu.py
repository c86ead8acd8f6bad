"""The menu (issue 13): on a phone one "Menu" disclosure (<details>, no script) holding the
links in groups, so the page comes first; on wider screens the same links in one list. Every
role keeps every one of its links, in their order of importance, in both."""

from __future__ import annotations

import html
import re

import httpx

from services.portal.routes.work import nav_groups, nav_of
from tests import factories
from tests.service import test_portal_ops as ops
from tests.service.test_portal_ops import signed_in_as
from tests.service.test_portal_pages import OPD, Mesh, employee, signed_in

mesh = ops.mesh  # the in-process services and portal (with siasn), as this module's fixture

# Each role's links, written out here (not read from nav_of): none may go missing.
PERSON = ["/", "/laporan", "/tpp", "/skp"]
LINKS = {
    "asn": [*PERSON, "/pemberitahuan"],
    "atasan": [*PERSON, "/persetujuan", "/kinerja", "/bawahan", "/plt", "/pemberitahuan"],
    "operator": ["/", "/ketidakhadiran", "/mesin", "/impor", "/rekap", "/tpp-opd", "/pegawai",
                 "/pembatalan", "/siasn/hasil", "/pemberitahuan"],
    "bkpsdm": ["/", "/pegawai", "/dasbor", "/kalender", "/periode", "/peran", "/aturan",
               "/pembukaan", "/siasn", "/gangguan-mesin", "/penilai", "/pembatalan",
               "/siasn/hasil", "/anomali", "/audit", "/pemberitahuan"],
    "auditor": ["/", "/dasbor", "/pembatalan", "/siasn/hasil", "/anomali", "/audit",
                "/pemberitahuan"],
}  # fmt: skip
# BKPSDM's 16 links in groups, a group where its most important link is.
BKPSDM_GROUPS = [
    ("Saya", ["/", "/pemberitahuan"]),
    ("Pegawai", ["/pegawai", "/peran", "/penilai"]),
    ("Dasbor & audit", ["/dasbor", "/anomali", "/audit"]),
    ("Kehadiran", ["/kalender", "/pembukaan", "/gangguan-mesin"]),
    ("TPP", ["/periode", "/aturan", "/pembatalan"]),
    ("SIASN", ["/siasn", "/siasn/hasil"]),
]


def menus(page: str) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The phone menu's groups with their links, and the wide list's links, from a page."""
    phone = re.search(r'<details class="menu-kecil"><summary>Menu</summary>(.*?)</details>',
                      page, re.S)  # fmt: skip
    wide = re.search(r'<ul class="menu-lebar">(.*?)</ul>', page, re.S)
    assert phone and wide, page[:3000]
    groups: list[tuple[str, list[str]]] = []
    for name, href in re.findall(r'<p class="menu-grup"[^>]*>([^<]+)</p>|href="([^"]+)"',
                                 phone.group(1)):  # fmt: skip
        if name:
            groups.append((html.unescape(name), []))
        else:
            groups[-1][1].append(href)
    return groups, re.findall(r'href="([^"]+)"', wide.group(1))


async def home_of(mesh: Mesh, role: str) -> str:
    if role in ("asn", "atasan"):
        boss, staff = factories.nip(), factories.nip()
        for kit in mesh.kits().values():
            for event in (employee(boss, None), employee(staff, boss)):
                await kit.handle(event.to_bytes())
        browser: httpx.AsyncClient = await signed_in(mesh, boss if role == "atasan" else staff)
    else:
        _, browser = await signed_in_as(mesh, role, OPD if role == "operator" else None)
    page = await browser.get("/")
    await browser.aclose()
    assert page.status_code == 200, page.text
    return page.text


async def test_every_role_keeps_every_link_in_the_phone_menu_and_the_wide_list(
    mesh: Mesh,
) -> None:
    for role, links in LINKS.items():
        page = await home_of(mesh, role)
        groups, wide = menus(page)
        assert wide == links, role
        in_groups = [href for _, hrefs in groups for href in hrefs]
        assert sorted(in_groups) == sorted(links), role  # each link once
        for _, hrefs in groups:  # within a group, the order of importance
            assert hrefs == [href for href in links if href in hrefs], role
        if role == "bkpsdm":
            assert groups == BKPSDM_GROUPS
        # the current page is marked in both
        assert page.count('<a href="/" aria-current="page">') == 2, role
        # closed until asked for: the page comes first on a phone
        assert '<details class="menu-kecil" open' not in page


def test_every_link_of_every_role_has_a_group() -> None:
    for role in LINKS:
        groups = nav_groups(role)
        assert "Lainnya" not in [group for group, _ in groups], (role, groups)
        in_groups = sorted(href for _, links in groups for href, _ in links)
        assert in_groups == sorted(href for href, _ in nav_of(role)), role
