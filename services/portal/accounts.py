"""The portal's commands: log in (with its limits), the steps a session owes (new password,
TOTP), one-time codes, role grants, sessions and service tokens. The JSON API and the pages
call these same functions; every outcome that matters is written to the audit log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.portal import credentials, domain, store
from services.portal.models import Account, LoginSession, RecoveryCode, RoleGrant, SetupCode
from services.shared.http import Problem
from services.shared.identity import mint
from services.shared.keys import load_signing_key
from services.shared.kit import ServiceKit
from services.shared.uow import UnitOfWork

TOKEN_TTL = timedelta(minutes=5)
SERVICES = ("attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal")


@dataclass(frozen=True)
class Caller:
    """Who calls the portal's API: a session (cookie) or a signed token (Bearer)."""

    nip: str | None
    role: str
    opd: str | None
    session: LoginSession | None = None

    def is_(self, *roles: str) -> bool:
        return self.role in roles


@dataclass(frozen=True)
class Opened:
    """A session just opened: the raw token goes into the cookie, only its hash is stored."""

    token: str
    session: LoginSession
    roles: list[str]


def _too_many(detail: str, retry_after_s: float, code: str) -> Problem:
    return Problem(
        429,
        detail,
        code=code,
        title="Terlalu banyak percobaan",
        retry_after_s=int(retry_after_s) + 1,
    )


def _acceptable(password: str, nip: str) -> None:
    problems = domain.password_problems(password, nip)
    if problems:
        raise Problem(
            422,
            "Kata sandi baru belum memenuhi syarat: " + "; ".join(problems) + ".",
            code="weak_password",
            problems=problems,
        )


class Limiter:
    """The login counters (limits' moving window). Counters out of reach refuse logins
    (503) rather than let attempts through uncounted."""

    def __init__(self, storage: Storage) -> None:
        self._limiter = MovingWindowRateLimiter(storage)

    def _guard(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except StorageError as exc:
            raise Problem(
                503,
                "Layanan masuk sementara tidak tersedia (penghitung percobaan tidak terjangkau). "
                "Silakan coba lagi beberapa saat lagi.",
                code="rate_limits_unavailable",
            ) from exc

    def hit(self, item: RateLimitItem, *ids: str) -> bool:
        return bool(self._guard(lambda: self._limiter.hit(item, *ids)))

    def test(self, item: RateLimitItem, *ids: str) -> bool:
        return bool(self._guard(lambda: self._limiter.test(item, *ids)))

    def clear(self, item: RateLimitItem, *ids: str) -> None:
        self._guard(lambda: self._limiter.clear(item, *ids))

    def reset_time(self, item: RateLimitItem, *ids: str) -> float:
        return float(self._guard(lambda: self._limiter.get_window_stats(item, *ids).reset_time))


class Portal:
    def __init__(
        self,
        kit: ServiceKit,
        clock: Callable[[], datetime],
        *,
        passwords: credentials.Passwords,
        rate_storage: str,
        login_policy: domain.LoginPolicy,
        session_policy: domain.SessionPolicy,
    ) -> None:
        self.kit, self.clock = kit, clock
        self.passwords = passwords
        self.login_policy, self.session_policy = login_policy, session_policy
        options: dict[str, Any] = {}
        if rate_storage.startswith("redis"):
            # one Redis serves several local runs: keep their counters apart
            options["key_prefix"] = f"sikerja-portal{kit.settings.group_suffix}"
            options["wrap_exceptions"] = True  # one StorageError whatever the backend
        self.storage = cast(Storage, storage_from_string(rate_storage, **options))
        self.limiter = Limiter(self.storage)
        self.nip_limit: RateLimitItem = parse(login_policy.nip_limit())
        self.ip_limit: RateLimitItem = parse(login_policy.ip_limit())

    # -- login --------------------------------------------------------------------------------
    def _retry_after(self, item: RateLimitItem, *ids: str) -> float:
        # the limiter counts in wall-clock time, whatever the app's clock says
        return max(0.0, self.limiter.reset_time(item, *ids) - time.time())

    def login(self, nip: str, password: str, ip: str, role: str | None = None) -> Opened:
        now = self.clock()
        # only failures count against the address: an office's ASN share one NAT address
        if not self.limiter.test(self.ip_limit, "login-ip", ip):
            with self.kit.uow() as uow:
                store.audit(uow, now, "login_limited_ip", actor_nip=nip, ip=ip)
                uow.commit()
            retry = self._retry_after(self.ip_limit, "login-ip", ip)
            raise _too_many(domain.ip_limited_message(retry), retry, "login_ip_limited")
        if not self.limiter.test(self.nip_limit, "login-nip", nip):
            with self.kit.uow() as uow:
                store.audit(uow, now, "login_while_locked", actor_nip=nip, ip=ip)
                uow.commit()
            retry = self._retry_after(self.nip_limit, "login-nip", nip)
            raise _too_many(domain.nip_locked_message(retry), retry, "login_locked")
        with self.kit.uow() as uow:
            account = store.account(uow, nip)
            known = account is not None and account.active
            stored = account.password_hash if account is not None and account.active else None
            ok = self.passwords.check(stored, password)
            must_change = False
            if not ok and known:
                ok = must_change = self._redeem_code(uow, nip, password, now)
            if not ok or account is None:
                store.audit(uow, now, "login_failed", actor_nip=nip, ip=ip)
                self.limiter.hit(self.ip_limit, "login-ip", ip)
                locked = not self.limiter.hit(self.nip_limit, "login-nip", nip) or (
                    not self.limiter.test(self.nip_limit, "login-nip", nip)
                )
                if locked:
                    store.audit(uow, now, "lockout", actor_nip=nip, ip=ip, target=nip)
                uow.commit()
                if locked:
                    retry = self._retry_after(self.nip_limit, "login-nip", nip)
                    raise _too_many(domain.nip_locked_message(retry), retry, "login_locked")
                raise Problem(401, domain.WRONG_CREDENTIALS, code="wrong_credentials")
            if must_change:
                account.must_change = True
            elif account.password_hash and self.passwords.needs_rehash(account.password_hash):
                account.password_hash = self.passwords.hash(password)  # parameters went up
            account.updated_at = now
            uow.session.add(account)
            opened = self._open(uow, account, ip, role, now)
            store.audit(
                uow, now, "login", actor_nip=nip, actor_role=opened.session.role, ip=ip,
                state=opened.session.state, with_code=must_change,
            )  # fmt: skip
            uow.commit()
        self.limiter.clear(self.nip_limit, "login-nip", nip)
        return opened

    def _redeem_code(self, uow: UnitOfWork, nip: str, code: str, now: datetime) -> bool:
        wanted = credentials.code_hash(code)
        for row in store.usable_setup_codes(uow, nip, now):
            if domain.code_usable(row.expires_at, row.used_at, now) and credentials.same(
                row.code_hash, wanted
            ):
                return row.id is not None and store.spend(uow, SetupCode, row.id, now)
        return False

    def roles(self, uow: UnitOfWork, nip: str) -> tuple[list[str], dict[str, str | None]]:
        """The roles a person holds now and, per granted role, its OPD."""
        grants = store.active_grants(uow, nip)
        held = domain.roles_of([g.role for g in grants], store.has_subordinates(uow, nip))
        return held, {g.role: g.opd for g in grants}

    def _open(
        self, uow: UnitOfWork, account: Account, ip: str, wanted: str | None, now: datetime
    ) -> Opened:
        held, grant_opd = self.roles(uow, account.nip)
        if wanted is not None and wanted not in held:
            raise Problem(403, f"Anda tidak memegang peran {wanted}.", code="role_not_held")
        role = wanted or domain.primary_role(held)
        token = credentials.new_token()
        session = LoginSession(
            token_hash=credentials.token_hash(token),
            nip=account.nip,
            role=role,
            opd=grant_opd.get(role) or account.opd or None,
            state=domain.next_state(account.must_change, held, account.totp_enrolled, False),
            csrf=credentials.new_token(),
            ip=ip,
            created_at=now,
            last_seen_at=now,
        )
        uow.session.add(session)
        return Opened(token, session, held)

    # -- sessions -----------------------------------------------------------------------------
    def session_of(self, token: str | None) -> LoginSession | None:
        """The open session of a cookie, touched; an expired one is ended (idle/absolute)."""
        if not token:
            return None
        now = self.clock()
        with self.kit.uow() as uow:
            row = store.session_by_hash(uow, credentials.token_hash(token))
            if row is None or row.ended_at is not None:
                return None
            if domain.session_expired(row.created_at, row.last_seen_at, now, self.session_policy):
                row.ended_at = now
                uow.session.add(row)
                uow.commit()
                return None
            row.last_seen_at = now
            uow.session.add(row)
            uow.commit()
            return row

    def logout(self, session: LoginSession, ip: str, everywhere: bool = False) -> int:
        now = self.clock()
        with self.kit.uow() as uow:
            if everywhere:
                ended = store.end_sessions(uow, session.nip, now)
            else:
                row = store.session_by_hash(uow, session.token_hash)
                ended = 0
                if row is not None and row.ended_at is None:
                    row.ended_at, ended = now, 1
                    uow.session.add(row)
            action = "logout_everywhere" if everywhere else "logout"
            store.audit(
                uow, now, action, actor_nip=session.nip, actor_role=session.role, ip=ip, ended=ended
            )
            uow.commit()
        return ended

    def _advance(self, uow: UnitOfWork, session: LoginSession, totp_ok: bool) -> None:
        account = store.account(uow, session.nip)
        assert account is not None
        held, _ = self.roles(uow, session.nip)
        session.state = domain.next_state(account.must_change, held, account.totp_enrolled, totp_ok)
        uow.session.add(session)

    def _live(self, uow: UnitOfWork, session: LoginSession) -> LoginSession:
        row = store.session_by_hash(uow, session.token_hash)
        if row is None or row.ended_at is not None:
            raise Problem(401, "Sesi sudah berakhir. Silakan masuk kembali.", code="no_session")
        return row

    # -- passwords ----------------------------------------------------------------------------
    def change_password(
        self, session: LoginSession, current: str | None, new: str, ip: str
    ) -> LoginSession:
        now = self.clock()
        with self.kit.uow() as uow:
            row = self._live(uow, session)
            account = store.account(uow, row.nip)
            assert account is not None
            # after a one-time code the code was the proof; otherwise the current password
            if not account.must_change and not self.passwords.check(
                account.password_hash, current or ""
            ):
                store.audit(uow, now, "password_change_failed", actor_nip=row.nip, ip=ip)
                uow.commit()
                raise Problem(403, "Kata sandi saat ini salah.", code="wrong_password")
            self._set_password(account, new, now)
            uow.session.add(account)
            store.end_sessions(uow, row.nip, now, keep=row.token_hash)  # the others log out
            self._advance(uow, row, totp_ok=False)
            store.audit(uow, now, "password_changed", actor_nip=row.nip, actor_role=row.role, ip=ip)
            uow.commit()
            return row

    def _set_password(self, account: Account, new: str, now: datetime) -> None:
        _acceptable(new, account.nip)
        account.password_hash = self.passwords.hash(new)
        account.must_change = False
        account.updated_at = now

    def first_password(self, nip: str, code: str, new: str, ip: str) -> None:
        """Set a password with the operator's one-time code (first password or a reset)."""
        now = self.clock()
        if not self.limiter.test(self.ip_limit, "login-ip", ip):  # failures only, as login
            retry = self._retry_after(self.ip_limit, "login-ip", ip)
            raise _too_many(domain.ip_limited_message(retry), retry, "login_ip_limited")
        with self.kit.uow() as uow:
            account = store.account(uow, nip)
            _acceptable(new, nip)  # before the code is spent
            if account is None or not account.active or not self._redeem_code(uow, nip, code, now):
                store.audit(uow, now, "setup_code_failed", actor_nip=nip, ip=ip)
                self.limiter.hit(self.ip_limit, "login-ip", ip)
                uow.commit()
                raise Problem(
                    403,
                    "Kode sekali pakai tidak valid, sudah dipakai, atau kedaluwarsa. "
                    "Mintalah kode baru kepada operator OPD.",
                    code="bad_setup_code",
                )
            self._set_password(account, new, now)
            uow.session.add(account)
            store.end_sessions(uow, nip, now)
            store.audit(uow, now, "first_password_set", actor_nip=nip, ip=ip)
            uow.commit()

    def issue_setup_code(self, caller: Caller, nip: str, ip: str) -> tuple[str, datetime]:
        """A one-time code for `nip` from its OPD's operator or BKPSDM. An account that had
        a password is thereby reset: the old password stops working, its sessions end."""
        now = self.clock()
        with self.kit.uow() as uow:
            account = store.account(uow, nip)
            refused = Problem(
                403,
                "Kode sekali pakai hanya dapat diterbitkan oleh operator OPD pegawai itu "
                "atau BKPSDM (akun berperan khusus: hanya BKPSDM).",
                code="forbidden",
            )
            if account is None or not account.active:
                if not caller.is_("bkpsdm"):  # an unknown NIP as a foreign one: no probing
                    raise refused
                raise Problem(404, f"Akun ASN dengan NIP {nip} tidak ditemukan.", code="no_account")
            target_roles, _ = self.roles(uow, nip)
            if not domain.may_issue_code(caller.role, caller.opd, account.opd, target_roles):
                raise refused
            code = credentials.random_code()
            expires = now + domain.SETUP_CODE_TTL
            for old in store.usable_setup_codes(uow, nip, now):
                old.used_at = now  # one valid code at a time
                uow.session.add(old)
            uow.session.add(
                SetupCode(
                    nip=nip,
                    code_hash=credentials.code_hash(code),
                    issued_by=caller.nip or caller.role,
                    issued_at=now,
                    expires_at=expires,
                )
            )
            reset = account.password_hash is not None
            if reset:
                account.password_hash, account.updated_at = None, now
                uow.session.add(account)
                store.end_sessions(uow, nip, now)
            store.audit(
                uow,
                now,
                "password_reset" if reset else "setup_code_issued",
                actor_nip=caller.nip,
                actor_role=caller.role,
                ip=ip,
                target=nip,
            )
            uow.commit()
        return code, expires

    # -- TOTP ---------------------------------------------------------------------------------
    def totp_enrolment(self, session: LoginSession) -> tuple[str, str]:
        """The secret being enrolled and its otpauth URI (made once per enrolment)."""
        with self.kit.uow() as uow:
            row = self._live(uow, session)
            account = store.account(uow, row.nip)
            assert account is not None
            if account.totp_enrolled:
                raise Problem(
                    409, "Autentikator sudah terdaftar untuk akun ini.", code="totp_enrolled"
                )
            if account.totp_secret is None:
                account.totp_secret = credentials.new_totp_secret()
                uow.session.add(account)
                uow.commit()
            return account.totp_secret, credentials.totp_uri(account.totp_secret, account.nip)

    def confirm_totp(self, session: LoginSession, code: str, ip: str) -> list[str]:
        """Enrolment done with a first good code; the recovery codes, shown once."""
        now = self.clock()
        with self.kit.uow() as uow:
            row = self._live(uow, session)
            account = store.account(uow, row.nip)
            assert account is not None
            if account.totp_enrolled or account.totp_secret is None:
                raise Problem(409, "Tidak ada pendaftaran autentikator yang berjalan.", code="totp")
            step = credentials.totp_step(account.totp_secret, code, now, None)
            if step is None:
                raise Problem(403, "Kode autentikator salah.", code="wrong_totp")
            account.totp_enrolled, account.totp_last_step = True, step
            uow.session.add(account)
            codes = [credentials.random_code() for _ in range(domain.RECOVERY_CODES)]
            for old in store.unused_recovery_codes(uow, row.nip):
                old.used_at = now
                uow.session.add(old)
            for c in codes:
                uow.session.add(RecoveryCode(nip=row.nip, code_hash=credentials.code_hash(c)))
            self._advance(uow, row, totp_ok=True)
            store.audit(uow, now, "totp_enrolled", actor_nip=row.nip, actor_role=row.role, ip=ip)
            uow.commit()
            return codes

    def second_factor(self, session: LoginSession, code: str, ip: str) -> LoginSession:
        """The TOTP step of a login: a TOTP code (once per time step) or a recovery code
        (once). Failures count against the NIP's login limit."""
        now = self.clock()
        if not self.limiter.test(self.nip_limit, "login-nip", session.nip):
            retry = self._retry_after(self.nip_limit, "login-nip", session.nip)
            raise _too_many(domain.nip_locked_message(retry), retry, "login_locked")
        with self.kit.uow() as uow:
            row = self._live(uow, session)
            account = store.account(uow, row.nip)
            assert account is not None
            if row.state != domain.TOTP or not account.totp_secret:
                raise Problem(409, domain.STATE_MESSAGES[row.state], code="wrong_step")
            step = credentials.totp_step(account.totp_secret, code, now, account.totp_last_step)
            used = False
            if step is not None:
                step_ok = store.advance_totp_step(uow, row.nip, step)
            else:
                step_ok = False
                wanted = credentials.code_hash(code)
                for rc in store.unused_recovery_codes(uow, row.nip):
                    if credentials.same(rc.code_hash, wanted) and rc.id is not None:
                        used = store.spend(uow, RecoveryCode, rc.id, now)
                        break
            if not step_ok and not used:
                store.audit(uow, now, "totp_failed", actor_nip=row.nip, ip=ip)
                self.limiter.hit(self.nip_limit, "login-nip", row.nip)
                uow.commit()
                raise Problem(
                    403, "Kode autentikator atau kode pemulihan salah.", code="wrong_totp"
                )
            self._advance(uow, row, totp_ok=True)
            action = "recovery_code_used" if used else "totp_ok"
            store.audit(uow, now, action, actor_nip=row.nip, actor_role=row.role, ip=ip)
            uow.commit()
            return row

    def reset_totp(self, caller: Caller, nip: str, ip: str) -> None:
        """BKPSDM clears a lost authenticator: the next login enrols a new one (its recovery
        codes are void); every session of the account ends."""
        now = self.clock()
        with self.kit.uow() as uow:
            account = store.account(uow, nip)
            if account is None:
                raise Problem(404, f"Akun ASN dengan NIP {nip} tidak ditemukan.", code="no_account")
            account.totp_secret, account.totp_enrolled = None, False
            account.totp_last_step, account.updated_at = None, now
            uow.session.add(account)
            for rc in store.unused_recovery_codes(uow, nip):
                rc.used_at = now
                uow.session.add(rc)
            store.end_sessions(uow, nip, now)
            store.audit(
                uow, now, "totp_reset", actor_nip=caller.nip, actor_role=caller.role, ip=ip,
                target=nip,
            )  # fmt: skip
            uow.commit()

    # -- roles ----------------------------------------------------------------------------------
    def grant(self, caller: Caller, nip: str, role: str, opd: str | None, ip: str) -> RoleGrant:
        now = self.clock()
        if role not in domain.GRANTABLE:
            raise Problem(
                422,
                f"Peran {role} tidak dapat diberikan (hanya operator, bkpsdm, auditor; "
                "atasan mengikuti data kepegawaian).",
                code="role_not_grantable",
            )
        if role == "operator" and not opd:
            raise Problem(422, "Peran operator memerlukan OPD.", code="opd_required")
        with self.kit.uow() as uow:
            if store.account(uow, nip) is None:
                raise Problem(404, f"Akun ASN dengan NIP {nip} tidak ditemukan.", code="no_account")
            if any(g.role == role for g in store.active_grants(uow, nip)):
                raise Problem(409, f"NIP {nip} sudah memegang peran {role}.", code="granted")
            row = RoleGrant(
                nip=nip,
                role=role,
                opd=opd if role == "operator" else None,
                granted_by=caller.nip or caller.role,
                granted_at=now,
            )
            uow.session.add(row)
            store.audit(
                uow, now, "role_granted", actor_nip=caller.nip, actor_role=caller.role, ip=ip,
                target=nip, role=role, opd=row.opd,
            )  # fmt: skip
            uow.commit()
            return row

    def revoke(self, caller: Caller, nip: str, role: str, ip: str) -> None:
        now = self.clock()
        with self.kit.uow() as uow:
            found = [g for g in store.active_grants(uow, nip) if g.role == role]
            if not found:
                raise Problem(404, f"NIP {nip} tidak memegang peran {role}.", code="not_granted")
            for g in found:
                g.revoked_at, g.revoked_by = now, caller.nip or caller.role
                uow.session.add(g)
            ended = store.end_sessions(uow, nip, now, role=role)  # acting in it: at once
            store.audit(
                uow, now, "role_revoked", actor_nip=caller.nip, actor_role=caller.role, ip=ip,
                target=nip, role=role, sessions_ended=ended,
            )  # fmt: skip
            uow.commit()

    # -- tokens ---------------------------------------------------------------------------------
    def service_token(self, session: LoginSession, audience: str, ip: str) -> tuple[str, datetime]:
        """A short-lived signed token for a service, carrying this session's identity."""
        if audience not in SERVICES:
            raise Problem(422, f"Layanan tidak dikenal: {audience}.", code="unknown_service")
        key = load_signing_key(self.kit.settings)
        if key is None:
            raise Problem(503, "Kunci penandatangan portal belum tersedia.", code="no_key")
        # services check exp against their wall clock: mint on it too (not the app's clock)
        now = datetime.now(UTC)
        claims = {"nip": session.nip, "role": session.role, "opd": session.opd, "aud": audience}
        token = mint(key.jwk, key.kid, claims, TOKEN_TTL, now=now)
        if session.role in domain.GRANTABLE:  # privileged: every forwarded identity audited
            with self.kit.uow() as uow:
                store.audit(
                    uow, now, "token_issued", actor_nip=session.nip, actor_role=session.role,
                    ip=ip, target=audience,
                )  # fmt: skip
                uow.commit()
        return token, now + TOKEN_TTL

    def record_forwarded(self, caller: Caller, action: str, target: str, ip: str) -> None:
        """For the pages that forward a privileged action to a service (a later step)."""
        with self.kit.uow() as uow:
            store.audit(
                uow, self.clock(), action, actor_nip=caller.nip, actor_role=caller.role, ip=ip,
                target=target, forwarded=True,
            )  # fmt: skip
            uow.commit()
