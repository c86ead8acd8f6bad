"""The notifier's channel rules: backoff with jitter, quiet hours, preferences, portal links,
idempotency keys, the webhook signature and its replay window, and the circuit breaker."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from services.notifier import domain
from services.notifier.channels import Breaker, sign, verify_signature
from services.notifier.domain import WIB, Kind

MON = date(2026, 10, 5)


def test_backoff_doubles_is_capped_and_jitter_keeps_half_to_all() -> None:
    assert domain.backoff_s(1, 30, 1800, 1.0) == 30
    assert domain.backoff_s(2, 30, 1800, 1.0) == 60
    assert domain.backoff_s(4, 30, 1800, 1.0) == 240
    assert domain.backoff_s(10, 30, 1800, 1.0) == 1800  # capped
    assert domain.backoff_s(2, 30, 1800, 0.0) == 30  # jitter: half at least
    assert domain.backoff_s(2, 30, 1800, 0.5) == 45


def test_quiet_hours_within_a_day_and_across_midnight() -> None:
    def at(hh: int, mm: int = 0, day: date = MON) -> datetime:
        return datetime(day.year, day.month, day.day, hh, mm, tzinfo=WIB)

    assert domain.quiet_until(at(15), time(14), time(16, 30)) == at(16, 30)
    assert domain.quiet_until(at(16, 30), time(14), time(16, 30)) is None
    assert domain.quiet_until(at(13, 59), time(14), time(16, 30)) is None
    # 21.00-06.00: at 22.00 it ends the next morning, at 05.00 the same morning
    assert domain.quiet_until(at(22), time(21), time(6)) == at(6, day=MON + timedelta(days=1))
    assert domain.quiet_until(at(5), time(21), time(6)) == at(6)
    assert domain.quiet_until(at(12), time(21), time(6)) is None
    assert domain.quiet_until(at(12), None, None) is None


def test_preferences_and_links() -> None:
    assert domain.wants(None, Kind.LKH_MISSING.value)
    assert domain.wants("laporan_ditolak,tpp_berubah", "tpp_berubah")
    assert not domain.wants("laporan_ditolak", Kind.LKH_MISSING.value)
    base = "https://sikerja.example/"
    assert (
        domain.portal_link(base, Kind.LKH_MISSING.value, MON)
        == "https://sikerja.example/laporan/baru?tanggal=2026-10-05"
    )
    assert domain.portal_link(base, Kind.TPP_CHANGED.value, MON).endswith("/tpp?periode=2026-10")
    assert domain.portal_link(base, "lainnya", MON).endswith("/kotak-masuk")
    text = domain.channel_text("Judul", "Isi.", "https://x/y")
    assert text.startswith("Judul\n\nIsi.") and text.endswith("Buka di SIKERJA: https://x/y")


def test_idempotency_key_is_stable_per_message_and_differs_between_messages() -> None:
    a = domain.warning_key(Kind.LKH_MISSING, "198001012005011001", MON)
    b = domain.warning_key(Kind.LKH_MISSING, "198001012005011002", MON)
    assert domain.idempotency_key(a) == domain.idempotency_key(a)
    assert domain.idempotency_key(a) != domain.idempotency_key(b)


def test_signature_checks_body_secret_and_replay_window() -> None:
    body = b'{"to":"+62812"}'
    sig = sign("s3cret", "1700000000", body)
    assert verify_signature("s3cret", "1700000000", body, sig, now_s=1700000100)
    assert not verify_signature("other", "1700000000", body, sig, now_s=1700000100)
    assert not verify_signature("s3cret", "1700000000", body + b" ", sig, now_s=1700000100)
    # the same request replayed later than the window is refused
    assert not verify_signature("s3cret", "1700000000", body, sig, now_s=1700000000 + 301)
    # a re-signed timestamp does not match the old signature
    assert not verify_signature("s3cret", "1700000200", body, sig, now_s=1700000200)
    assert not verify_signature("s3cret", "kemarin", body, sig, now_s=1700000000)


def test_breaker_opens_after_failures_then_lets_one_trial_through() -> None:
    t0 = datetime(2026, 10, 5, 8, tzinfo=WIB)
    breaker = Breaker(failures=3, cooldown_s=60)
    for _ in range(2):
        breaker.record(False, t0)
    assert breaker.allow(t0)  # two failures: still closed
    breaker.record(False, t0)
    assert not breaker.allow(t0 + timedelta(seconds=59))
    assert breaker.allow(t0 + timedelta(seconds=60))  # the one trial (half-open)
    assert not breaker.allow(t0 + timedelta(seconds=61))
    breaker.record(False, t0 + timedelta(seconds=62))  # the trial failed: open again
    assert not breaker.allow(t0 + timedelta(seconds=100))
    assert breaker.allow(t0 + timedelta(seconds=122))
    breaker.record(True, t0 + timedelta(seconds=123))
    assert breaker.state == "closed" and breaker.allow(t0 + timedelta(seconds=124))
