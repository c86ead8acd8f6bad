"""The portal in-process (httpx over ASGI, https so Secure cookies travel): accounts from the
employee master, first password by one-time code, forced change, lockout, per-IP limit,
TOTP for privileged roles with recovery codes, session cookie and timeouts, logout
everywhere, CSRF, role grants and the audit log. Events go through `kit.handle`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from contracts.events import EmployeeDeactivated, EmployeeUpserted
from services.portal import domain
from services.portal.app import create
from services.shared import identity
from services.shared.keys import SigningKey, ensure_dev_keys, load_signing_key
from services.shared.kit import ServiceKit
from services.shared.settings import Settings
from tests import factories
from tests.support import Clock

NOW = datetime(2026, 10, 6, 1, 0, tzinfo=UTC)
OPD_A, OPD_B = "Dinas Kesehatan", "Badan Kepegawaian dan Pengembangan SDM"
ATASAN, ANI, OPS, BK, BUDI = (factories.nip() for _ in range(5))
GOOD = "Bekasi-Kerja-2026"  # a password the policy accepts


@dataclass
class Portal:
    app: FastAPI
    kit: ServiceKit
    clock: Clock
    key: SigningKey

    def client(self, ip: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="https://portal")

    def token(self, role: str, nip: str | None = None, opd: str | None = None) -> dict[str, str]:
        claims = {"role": role, "nip": nip, "opd": opd, "aud": "portal"}
        signed = identity.mint(self.key.jwk, self.key.kid, claims, timedelta(minutes=5))
        return {"Authorization": f"Bearer {signed}"}


def upserted(nip: str, opd: str, atasan: str | None = None) -> EmployeeUpserted:
    return factories.employee(
        nip,
        atasan,
        NOW,
        nama=f"Pegawai {nip[-3:]}",
        opd=opd,
        jabatan="Analis",
        kelas_jabatan=9,
        tpp_pagu=5_000_000,
    )


def make(settings: Settings, rate_storage: str = "memory://", **options: Any) -> Portal:
    clock = Clock(NOW)
    app = create(
        settings,
        clock=clock,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),  # fast tests
        rate_storage=rate_storage,
        **options,
    )
    kit: ServiceKit = app.state.kit
    kit.migrate()
    return Portal(app, kit, clock, ensure_dev_keys(settings))


@pytest.fixture
async def portal(memory_settings: Settings) -> AsyncIterator[Portal]:
    p = make(memory_settings)
    for event in (
        upserted(ATASAN, OPD_A),
        upserted(ANI, OPD_A, atasan=ATASAN),
        upserted(OPS, OPD_A),
        upserted(BK, OPD_B),
        upserted(BUDI, OPD_B),
    ):
        assert await p.kit.handle(event.to_bytes()) == "handled"
    yield p


async def code_for(p: Portal, nip: str) -> str:
    async with p.client() as http:
        r = await http.post(f"/api/v1/accounts/{nip}/setup-code", headers=p.token("bkpsdm", BK))
    assert r.status_code == 201, r.text
    return str(r.json()["code"])


async def with_password(p: Portal, nip: str, password: str = GOOD) -> None:
    code = await code_for(p, nip)
    async with p.client() as http:
        body = {"nip": nip, "code": code, "new_password": password}
        r = await http.post("/api/v1/first-password", json=body)
    assert r.status_code == 204, r.text


async def login(http: httpx.AsyncClient, nip: str, password: str = GOOD) -> httpx.Response:
    return await http.post("/api/v1/session", json={"nip": nip, "password": password})


async def audit(p: Portal, **query: str) -> list[dict[str, Any]]:
    async with p.client() as http:
        r = await http.get("/api/v1/audit", params=query, headers=p.token("auditor", BUDI))
    assert r.status_code == 200, r.text
    return list(r.json())


async def grant(p: Portal, nip: str, role: str, opd: str | None = None) -> None:
    async with p.client() as http:
        r = await http.post(
            f"/api/v1/accounts/{nip}/grants",
            json={"role": role, "opd": opd},
            headers=p.token("bkpsdm", BK),
        )
    assert r.status_code == 201, r.text


# -- accounts -----------------------------------------------------------------------------------
async def test_an_account_per_employee_with_atasan_derived(portal: Portal) -> None:
    async with portal.client() as http:
        ani = await http.get(f"/api/v1/accounts/{ANI}", headers=portal.token("bkpsdm", BK))
        boss = await http.get(f"/api/v1/accounts/{ATASAN}", headers=portal.token("bkpsdm", BK))
    assert ani.json()["opd"] == OPD_A and ani.json()["roles"] == ["asn"]
    assert ani.json()["has_password"] is False
    assert boss.json()["roles"] == ["atasan", "asn"]  # ANI names ATASAN as atasan
    created = await audit(portal, action="account_created")
    assert {e["target"] for e in created} == {ATASAN, ANI, OPS, BK, BUDI}

    # ANI moves to another atasan: ATASAN is asn only again
    moved = upserted(ANI, OPD_A, atasan=OPS)
    assert await portal.kit.handle(moved.to_bytes()) == "handled"
    async with portal.client() as http:
        boss = await http.get(f"/api/v1/accounts/{ATASAN}", headers=portal.token("bkpsdm", BK))
    assert boss.json()["roles"] == ["asn"]


async def test_a_deactivated_employee_cannot_log_in(portal: Portal) -> None:
    await with_password(portal, BUDI)
    gone = EmployeeDeactivated(occurred_at=NOW, producer="siasn", nip=BUDI, reason="pensiun")
    assert await portal.kit.handle(gone.to_bytes()) == "handled"
    async with portal.client() as http:
        r = await login(http, BUDI)
    assert r.status_code == 401


async def test_first_password_by_one_time_code(portal: Portal) -> None:
    code = await code_for(portal, ANI)
    async with portal.client() as http:
        weak = await http.post(
            "/api/v1/first-password", json={"nip": ANI, "code": code, "new_password": "rahasia"}
        )
        assert weak.status_code == 422
        assert "minimal 10 karakter" in weak.json()["detail"]
        body = {"nip": ANI, "code": code, "new_password": GOOD}
        assert (await http.post("/api/v1/first-password", json=body)).status_code == 204
        again = await http.post("/api/v1/first-password", json=body)  # the code is spent
        assert again.status_code == 403 and "sekali pakai" in again.json()["detail"]
        r = await login(http, ANI)
    assert r.status_code == 200 and r.json()["state"] == "active"
    assert (await audit(portal, nip=ANI, action="first_password_set"))[0]["actor_nip"] == ANI


async def test_logging_in_with_the_code_forces_a_change(portal: Portal) -> None:
    code = await code_for(portal, ANI)
    async with portal.client() as http:
        r = await login(http, ANI, code)
        assert r.json()["state"] == "must_change"
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        blocked = await http.post("/api/v1/session/token", params={"aud": "tpp"}, headers=csrf)
        assert blocked.status_code == 409 and blocked.json()["code"] == "wrong_step"
        changed = await http.post(
            "/api/v1/session/password", json={"new_password": GOOD}, headers=csrf
        )
        assert changed.status_code == 200 and changed.json()["state"] == "active"
        ok = await http.post("/api/v1/session/token", params={"aud": "tpp"}, headers=csrf)
        assert ok.status_code == 200
    async with portal.client() as other:
        assert (await login(other, ANI, code)).status_code == 401  # the code worked once
        assert (await login(other, ANI)).status_code == 200


# -- limits ----------------------------------------------------------------------------------------
async def test_wrong_passwords_lock_the_nip_with_a_bahasa_message(portal: Portal) -> None:
    await with_password(portal, ANI)
    async with portal.client() as http:
        for _ in range(domain.LoginPolicy().failures_per_nip - 1):
            r = await login(http, ANI, "Salah-Sandi-123")
            assert r.status_code == 401 and r.json()["detail"] == "NIP atau kata sandi salah."
        r = await login(http, ANI, "Salah-Sandi-123")
        assert r.status_code == 429
        assert r.headers["content-type"] == "application/problem+json"
        assert "Akun dikunci sementara" in r.json()["detail"]
        assert "menit" in r.json()["detail"]
        right = await login(http, ANI)  # even the right password waits
        assert right.status_code == 429 and right.json()["code"] == "login_locked"
    assert len(await audit(portal, nip=ANI, action="login_failed")) == 5
    assert len(await audit(portal, nip=ANI, action="lockout")) == 1


async def test_failures_per_ip_are_limited(memory_settings: Settings) -> None:
    p = make(memory_settings, login_policy=domain.LoginPolicy(failures_per_ip=3))
    for nip in (ANI, BUDI):
        assert await p.kit.handle(upserted(nip, OPD_A).to_bytes()) == "handled"
    await with_password(p, ANI)
    async with p.client("10.9.9.9") as http:
        for nip in (BUDI, OPS, ATASAN):  # different NIPs: no NIP is locked
            assert (await login(http, nip, "Salah-Sandi-123")).status_code == 401
        r = await login(http, ANI)
        assert r.status_code == 429
        assert "dari alamat ini" in r.json()["detail"]
    async with p.client("10.9.9.10") as http:
        assert (await login(http, ANI)).status_code == 200


async def test_one_office_behind_one_address_can_all_log_in(memory_settings: Settings) -> None:
    """Found by bench_portal: an office's 200 ASN behind one NAT address at 07:30. Only
    failed attempts count against the address; a successful login costs nothing."""
    p = make(memory_settings, login_policy=domain.LoginPolicy(failures_per_ip=3))
    for nip in (ANI, BUDI):
        assert await p.kit.handle(upserted(nip, OPD_A).to_bytes()) == "handled"
    await with_password(p, ANI)
    async with p.client("10.9.9.9") as http:
        for _ in range(5):  # more than the address's failure budget
            assert (await login(http, ANI)).status_code == 200
        for nip in (BUDI, OPS):
            assert (await login(http, nip, "Salah-Sandi-123")).status_code == 401
        assert (await login(http, ANI)).status_code == 200  # 2 failures of 3: still open


async def test_one_office_behind_one_address_can_all_set_first_passwords(
    memory_settings: Settings,
) -> None:
    p = make(memory_settings, login_policy=domain.LoginPolicy(failures_per_ip=3))
    staff = [factories.nip() for _ in range(5)]
    for nip in staff:
        assert await p.kit.handle(upserted(nip, OPD_A).to_bytes()) == "handled"
    for nip in staff:  # more first passwords than the address's failure budget
        await with_password(p, nip)


# -- TOTP -----------------------------------------------------------------------------------------
async def test_totp_is_required_for_privileged_roles_and_recovery_codes_work_once(
    portal: Portal,
) -> None:
    await grant(portal, OPS, "operator", OPD_A)
    await with_password(portal, OPS)
    async with portal.client() as http:
        r = await login(http, OPS)
        assert (r.json()["state"], r.json()["role"], r.json()["opd"]) == (
            "enrol_totp",
            "operator",
            OPD_A,
        )
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        blocked = await http.post("/api/v1/session/token", params={"aud": "tpp"}, headers=csrf)
        assert blocked.status_code == 409
        enrolment = (await http.get("/api/v1/session/totp/enrolment")).json()
        assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
        assert enrolment["qr_svg"].startswith("<svg")
        secret = enrolment["secret"]
        wrong = await http.post(
            "/api/v1/session/totp/enrolment", json={"code": "000000"}, headers=csrf
        )
        assert wrong.status_code == 403
        code = pyotp.TOTP(secret).at(NOW)
        done = await http.post("/api/v1/session/totp/enrolment", json={"code": code}, headers=csrf)
        assert done.status_code == 200, done.text
        recovery = done.json()["recovery_codes"]
        assert len(recovery) == domain.RECOVERY_CODES and len(set(recovery)) == len(recovery)
        assert (await http.get("/api/v1/session")).json()["state"] == "active"

    async def second_step(code: str) -> httpx.Response:
        async with portal.client() as http:
            r = await login(http, OPS)
            assert r.json()["state"] == "totp"
            csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
            return await http.post("/api/v1/session/totp", json={"code": code}, headers=csrf)

    assert (await second_step(pyotp.TOTP(secret).at(NOW))).status_code == 403  # replayed
    portal.clock.moment = NOW + timedelta(minutes=2)
    ok = await second_step(pyotp.TOTP(secret).at(portal.clock.moment))
    assert ok.status_code == 200 and ok.json()["state"] == "active"
    assert (await second_step(recovery[0])).json()["state"] == "active"
    again = await second_step(recovery[0])
    assert again.status_code == 403  # a recovery code works once
    assert len(await audit(portal, nip=OPS, action="recovery_code_used")) == 1
    assert len(await audit(portal, nip=OPS, action="totp_enrolled")) == 1


# -- sessions ------------------------------------------------------------------------------------
async def test_the_session_cookie_is_secure_httponly_samesite(portal: Portal) -> None:
    await with_password(portal, ANI)
    async with portal.client() as http:
        r = await login(http, ANI)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("sikerja_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags


async def test_idle_and_absolute_timeouts(portal: Portal) -> None:
    await with_password(portal, ANI)
    policy = domain.SessionPolicy()
    async with portal.client() as http:
        await login(http, ANI)
        portal.clock.moment = NOW + policy.idle - timedelta(minutes=1)
        assert (await http.get("/api/v1/session")).status_code == 200
        portal.clock.moment += policy.idle - timedelta(minutes=1)  # active again just in time
        assert (await http.get("/api/v1/session")).status_code == 200
        portal.clock.moment += policy.idle
        assert (await http.get("/api/v1/session")).status_code == 401
        portal.clock.moment -= policy.idle  # an ended session stays ended
        assert (await http.get("/api/v1/session")).status_code == 401

    portal.clock.moment = start = NOW + timedelta(days=1)
    async with portal.client() as http:
        await login(http, ANI)
        while portal.clock.moment < start + policy.absolute - timedelta(minutes=20):
            portal.clock.moment += timedelta(minutes=20)
            assert (await http.get("/api/v1/session")).status_code == 200
        portal.clock.moment = start + policy.absolute
        assert (await http.get("/api/v1/session")).status_code == 401


async def test_logout_and_logout_everywhere(portal: Portal) -> None:
    await with_password(portal, ANI)
    async with portal.client() as phone, portal.client() as laptop, portal.client() as tab:
        await login(phone, ANI)
        csrf = {"X-CSRF-Token": (await login(laptop, ANI)).json()["csrf_token"]}
        tab_csrf = {"X-CSRF-Token": (await login(tab, ANI)).json()["csrf_token"]}
        assert (await tab.delete("/api/v1/session", headers=tab_csrf)).status_code == 204
        assert (await tab.get("/api/v1/session")).status_code == 401
        assert (await phone.get("/api/v1/session")).status_code == 200
        r = await laptop.post("/api/v1/session/logout-all", headers=csrf)
        assert r.json() == {"sessions_ended": 2}
        assert (await phone.get("/api/v1/session")).status_code == 401
        assert (await laptop.get("/api/v1/session")).status_code == 401
    assert len(await audit(portal, nip=ANI, action="logout_everywhere")) == 1


async def test_a_service_token_carries_the_session_identity(portal: Portal) -> None:
    await with_password(portal, ATASAN)
    async with portal.client() as http:
        csrf = {"X-CSRF-Token": (await login(http, ATASAN)).json()["csrf_token"]}
        r = await http.post("/api/v1/session/token", params={"aud": "approval"}, headers=csrf)
    keys = identity.Jwks(portal.kit.settings.jwks_source())
    who = identity.verify(r.json()["token"], "approval", keys)
    assert (who.nip, who.role, who.opd) == (ATASAN, "atasan", OPD_A)
    with pytest.raises(identity.WrongAudience):
        identity.verify(r.json()["token"], "tpp", keys)


# -- CSRF ----------------------------------------------------------------------------------------
async def test_csrf_is_refused_on_the_api_and_on_forms(portal: Portal) -> None:
    await with_password(portal, ANI)
    async with portal.client() as http:
        csrf = (await login(http, ANI)).json()["csrf_token"]
        for headers in ({}, {"X-CSRF-Token": "tebakan"}):
            r = await http.post("/api/v1/session/token", params={"aud": "tpp"}, headers=headers)
            assert r.status_code == 403 and r.json()["code"] == "csrf"
        r = await http.post("/api/v1/session/logout-all", headers={"X-CSRF-Token": csrf[:-1]})
        assert r.status_code == 403
        assert (await http.get("/api/v1/session")).status_code == 200  # still logged in
        # the page's logout form without the session's token
        page = await http.post("/keluar", data={"csrf_token": "tebakan"})
        assert page.status_code == 403 and "token CSRF" in page.text
        assert (await http.get("/api/v1/session")).status_code == 200

    async with portal.client() as browser:
        form = {"nip": ANI, "password": GOOD, "csrf_token": "tebakan"}
        refused = await browser.post("/masuk", data=form)
        assert refused.status_code == 403 and "sikerja_session" not in browser.cookies
        page = await browser.get("/masuk")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        ok = await browser.post("/masuk", data={**form, "csrf_token": token})
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        home = await browser.get("/")
        assert home.status_code == 200 and ANI in home.text


async def test_the_enrolment_page_shows_the_qr_code_inline(portal: Portal) -> None:
    await grant(portal, BUDI, "auditor")
    await with_password(portal, BUDI)
    async with portal.client() as browser:
        token = (await browser.get("/masuk")).text.split('name="csrf_token" value="')[1][:43]
        form = {"nip": BUDI, "password": GOOD, "csrf_token": token}
        r = await browser.post("/masuk", data=form)
        assert r.headers["location"] == "/totp/daftar"
        page = await browser.get("/totp/daftar")
    assert page.status_code == 200 and "<svg" in page.text and "autentikator" in page.text
    assert "http" not in page.text.split("<svg")[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # no outside resource


# -- grants and resets ---------------------------------------------------------------------------
async def test_roles_are_granted_and_revoked_only_by_bkpsdm_and_audited(portal: Portal) -> None:
    async with portal.client() as http:
        body = {"role": "auditor"}
        for who in (portal.token("operator", OPS, OPD_A), portal.token("auditor", BUDI)):
            r = await http.post(f"/api/v1/accounts/{ANI}/grants", json=body, headers=who)
            assert r.status_code == 403
        bk = portal.token("bkpsdm", BK)
        assert (
            await http.post(f"/api/v1/accounts/{ANI}/grants", json={"role": "atasan"}, headers=bk)
        ).status_code == 422  # atasan is derived, never granted
        no_opd = await http.post(
            f"/api/v1/accounts/{ANI}/grants", json={"role": "operator"}, headers=bk
        )
        assert no_opd.status_code == 422
        r = await http.post(f"/api/v1/accounts/{ANI}/grants", json=body, headers=bk)
        assert r.status_code == 201
        dup = await http.post(f"/api/v1/accounts/{ANI}/grants", json=body, headers=bk)
        assert dup.status_code == 409
        assert (await http.get(f"/api/v1/accounts/{ANI}", headers=bk)).json()["roles"] == [
            "auditor",
            "asn",
        ]
        denied = await http.delete(f"/api/v1/accounts/{ANI}/grants/auditor", headers=who)
        assert denied.status_code == 403
        gone = await http.delete(f"/api/v1/accounts/{ANI}/grants/auditor", headers=bk)
        assert gone.status_code == 204
    granted = await audit(portal, nip=ANI, action="role_granted")
    revoked = await audit(portal, nip=ANI, action="role_revoked")
    assert [(e["actor_nip"], e["actor_role"], e["detail"]["role"]) for e in granted] == [
        (BK, "bkpsdm", "auditor")
    ]
    assert granted[0]["ip"] == "10.0.0.1"
    assert [(e["actor_nip"], e["detail"]["role"]) for e in revoked] == [(BK, "auditor")]


async def test_a_reset_by_the_opd_operator_is_audited_and_ends_the_old_password(
    portal: Portal,
) -> None:
    await with_password(portal, ANI)
    async with portal.client() as http:
        await login(http, ANI)
        other_opd = portal.token("operator", BUDI, OPD_B)
        r = await http.post(f"/api/v1/accounts/{ANI}/setup-code", headers=other_opd)
        assert r.status_code == 403
        own = portal.token("operator", OPS, OPD_A)
        r = await http.post(f"/api/v1/accounts/{ANI}/setup-code", headers=own)
        assert r.status_code == 201
        assert (await http.get("/api/v1/session")).status_code == 401  # sessions ended
        assert (await login(http, ANI)).status_code == 401  # the old password is gone
        assert (await login(http, ANI, r.json()["code"])).json()["state"] == "must_change"
    resets = await audit(portal, nip=ANI, action="password_reset")
    assert [(e["actor_nip"], e["actor_role"], e["target"]) for e in resets] == [
        (OPS, "operator", ANI)
    ]
    # an operator cannot reset a privileged account (BKPSDM does)
    await grant(portal, BK, "bkpsdm")
    async with portal.client() as http:
        r = await http.post(f"/api/v1/accounts/{BK}/setup-code", headers=own)
    assert r.status_code == 403


async def test_logins_are_audited_with_where_from(portal: Portal) -> None:
    await with_password(portal, ANI)
    async with portal.client("192.168.7.7") as http:
        await login(http, ANI, "Salah-Sandi-123")
        await login(http, ANI)
    failed = await audit(portal, nip=ANI, action="login_failed")
    ok = await audit(portal, nip=ANI, action="login")
    assert [(e["ip"], e["actor_nip"]) for e in failed] == [("192.168.7.7", ANI)]
    assert [(e["ip"], e["actor_role"], e["at"][:10]) for e in ok] == [
        ("192.168.7.7", "asn", "2026-10-06")
    ]
    async with portal.client() as http:
        r = await http.get("/api/v1/audit", headers=portal.token("asn", ANI))
    assert r.status_code == 403


async def test_accounts_are_listed_for_bkpsdm_and_the_own_opd_operator(portal: Portal) -> None:
    async with portal.client() as http:
        every = await http.get("/api/v1/accounts", headers=portal.token("bkpsdm", BK))
        mine = await http.get("/api/v1/accounts", headers=portal.token("operator", OPS, OPD_A))
        other = await http.get(
            "/api/v1/accounts", params={"opd": OPD_B}, headers=portal.token("operator", OPS, OPD_A)
        )
        asn = await http.get("/api/v1/accounts", headers=portal.token("asn", ANI))
    assert {a["nip"] for a in every.json()} == {ATASAN, ANI, OPS, BK, BUDI}
    assert {a["nip"] for a in mine.json()} == {ATASAN, ANI, OPS}
    assert (other.status_code, asn.status_code) == (403, 403)


async def test_a_code_spent_by_a_concurrent_request_is_not_spent_twice(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two logins with the same one-time code at once: the second one read the code as
    unused before the first committed; it must still not get in."""
    from services.portal import accounts, store

    code = await code_for(portal, ANI)
    read = store.usable_setup_codes

    def read_then_other_request_wins(uow: Any, nip: str, now: datetime) -> list[Any]:
        rows = read(uow, nip, now)
        with portal.kit.uow() as other:  # the concurrent request spends it and commits
            for row in read(other, nip, now):
                row.used_at = now
                other.session.add(row)
            other.commit()
        return rows

    monkeypatch.setattr(accounts.store, "usable_setup_codes", read_then_other_request_wins)
    async with portal.client() as http:
        r = await login(http, ANI, code)
    assert r.status_code == 401


async def test_bkpsdm_resets_a_lost_authenticator(portal: Portal) -> None:
    await grant(portal, BUDI, "auditor")
    await with_password(portal, BUDI)
    async with portal.client() as http:
        r = await login(http, BUDI)
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        secret = (await http.get("/api/v1/session/totp/enrolment")).json()["secret"]
        code = pyotp.TOTP(secret).at(NOW)
        done = await http.post("/api/v1/session/totp/enrolment", json={"code": code}, headers=csrf)
        recovery = done.json()["recovery_codes"]
        denied = await http.delete(
            f"/api/v1/accounts/{BUDI}/totp", headers=portal.token("operator", OPS, OPD_B)
        )
        assert denied.status_code == 403
        r = await http.delete(f"/api/v1/accounts/{BUDI}/totp", headers=portal.token("bkpsdm", BK))
        assert r.status_code == 204
        assert (await http.get("/api/v1/session")).status_code == 401  # sessions ended
        again = await login(http, BUDI)
        assert again.json()["state"] == "enrol_totp"  # a new authenticator, new secret
        assert (await http.get("/api/v1/session/totp/enrolment")).json()["secret"] != secret
    async with portal.client() as http:
        r = await login(http, BUDI)
        step = await http.post(
            "/api/v1/session/totp",
            json={"code": recovery[0]},
            headers={"X-CSRF-Token": r.json()["csrf_token"]},
        )
        assert step.status_code == 409  # no TOTP step until a new authenticator is enrolled
    resets = await audit(portal, nip=BUDI, action="totp_reset")
    assert [(e["actor_nip"], e["target"]) for e in resets] == [(BK, BUDI)]


async def test_a_cross_site_form_cannot_post_a_login(portal: Portal) -> None:
    """A form from another site can send text/plain but not application/json: the JSON
    login refuses it (login CSRF)."""
    await with_password(portal, ANI)
    body = f'{{"nip": "{ANI}", "password": "{GOOD}"}}'
    async with portal.client() as http:
        r = await http.post("/api/v1/session", content=body, headers={"Content-Type": "text/plain"})
        assert r.status_code == 422 and "sikerja_session" not in http.cookies
        ok = await http.post(
            "/api/v1/session", content=body, headers={"Content-Type": "application/json"}
        )
        assert ok.status_code == 200


def csrf_of(page: httpx.Response) -> str:
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


async def test_the_pages_take_a_code_login_through_the_forced_change(portal: Portal) -> None:
    code = await code_for(portal, ANI)
    async with portal.client() as browser:
        form = {"nip": ANI, "password": code.lower(), "csrf_token": ""}  # typed in lower case
        form["csrf_token"] = csrf_of(await browser.get("/masuk"))
        r = await browser.post("/masuk", data=form)
        assert (r.status_code, r.headers["location"]) == (303, "/ganti-kata-sandi")
        assert (await browser.get("/")).headers["location"] == "/ganti-kata-sandi"
        page = await browser.get("/ganti-kata-sandi")
        assert "harus mengganti kata sandi" in page.text
        token = csrf_of(page)
        mismatch = {"new_password": GOOD, "repeat": GOOD + "x", "csrf_token": token}
        r = await browser.post("/ganti-kata-sandi", data=mismatch)
        assert r.status_code == 422 and "tidak sama" in r.text
        weak = {"new_password": ANI + "a", "repeat": ANI + "a", "csrf_token": token}
        r = await browser.post("/ganti-kata-sandi", data=weak)
        assert r.status_code == 422 and "tidak boleh memuat NIP" in r.text
        good = {"new_password": GOOD, "repeat": GOOD, "csrf_token": token}
        r = await browser.post("/ganti-kata-sandi", data=good)
        assert (r.status_code, r.headers["location"]) == (303, "/")
        home = await browser.get("/")
        assert "peran <strong>ASN</strong>" in home.text
        out = await browser.post("/keluar", data={"csrf_token": csrf_of(home)})
        assert (out.status_code, out.headers["location"]) == (303, "/masuk")
        assert (await browser.get("/")).headers["location"] == "/masuk"


async def test_the_totp_page_step(portal: Portal) -> None:
    await grant(portal, BUDI, "auditor")
    await with_password(portal, BUDI)
    async with portal.client() as browser:  # enrol through the API
        r = await login(browser, BUDI)
        secret = (await browser.get("/api/v1/session/totp/enrolment")).json()["secret"]
        await browser.post(
            "/api/v1/session/totp/enrolment",
            json={"code": pyotp.TOTP(secret).at(NOW)},
            headers={"X-CSRF-Token": r.json()["csrf_token"]},
        )
    portal.clock.moment = NOW + timedelta(minutes=1)
    async with portal.client() as browser:
        form = {"nip": BUDI, "password": GOOD, "csrf_token": csrf_of(await browser.get("/masuk"))}
        r = await browser.post("/masuk", data=form)
        assert r.headers["location"] == "/totp"
        page = await browser.get("/totp")
        wrong = await browser.post("/totp", data={"code": "123456", "csrf_token": csrf_of(page)})
        assert wrong.status_code == 403 and "salah" in wrong.text
        code = pyotp.TOTP(secret).at(portal.clock.moment)
        forged = await browser.post("/totp", data={"code": code, "csrf_token": "tebakan"})
        assert forged.status_code == 403 and "token CSRF" in forged.text
        ok = await browser.post("/totp", data={"code": code, "csrf_token": csrf_of(page)})
        assert (ok.status_code, ok.headers["location"]) == (303, "/")
        assert "Auditor" in (await browser.get("/")).text


async def test_a_forwarded_privileged_action_is_audited(portal: Portal) -> None:
    from services.portal.accounts import Caller

    portal.app.state.portal.record_forwarded(
        Caller(nip=BK, role="bkpsdm", opd=None), "tpp.period_closed", "2026-10", "10.2.3.4"
    )
    entry = (await audit(portal, action="tpp.period_closed"))[0]
    assert (entry["actor_nip"], entry["target"], entry["ip"]) == (BK, "2026-10", "10.2.3.4")
    assert entry["detail"] == {"forwarded": True}


async def test_unreachable_login_counters_refuse_logins_in_bahasa(
    memory_settings: Settings,
) -> None:
    p = make(memory_settings, rate_storage="redis://127.0.0.1:1/0")  # nothing listens there
    assert await p.kit.handle(upserted(ANI, OPD_A).to_bytes()) == "handled"
    async with p.client() as http:
        r = await login(http, ANI)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert "sementara tidak tersedia" in r.json()["detail"]


async def test_dev_keys_make_the_pair_and_publish_it_for_the_services(tmp_path: Path) -> None:
    """docker-compose: the portal makes its development key pair at first start and the
    services read its public half by URL (SIKERJA_JWKS=http://portal:8000/...)."""
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1", data_dir=tmp_path, dev_keys=True,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
    )  # fmt: skip
    assert not settings.signing_key_path().exists()
    app = create(settings, rate_storage="memory://")
    key = load_signing_key(settings)
    assert key is not None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://portal") as http:
        published = (await http.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in published["keys"]] == [key.kid]
    token = identity.mint(key.jwk, key.kid, {"role": "bkpsdm", "aud": "tpp"}, timedelta(minutes=1))
    by_url = identity.Jwks("http://portal:8000/.well-known/jwks.json", fetch=lambda _: published)
    assert identity.verify(token, "tpp", by_url).role == "bkpsdm"
