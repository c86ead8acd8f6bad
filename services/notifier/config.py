"""Settings of the notifier (pydantic-settings, prefix SIKERJA_NOTIFIER_).

The times are those of docs/rules.md ("Warnings (notifier)": 15:00 WIB warning, 09:00 WIB reminder,
reports waiting more than one working day); they are service settings, not rule-set values.
"""

from __future__ import annotations

from datetime import time

from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIKERJA_NOTIFIER_", env_file=".env", extra="ignore"
    )

    # docs/rules.md: "At 15:00 WIB on a working day ... a warning"
    warning_at: time = time(15, 0)
    # docs/rules.md: "At 09:00 WIB, every atasan with reports waiting ..."
    reminder_at: time = time(9, 0)
    # docs/rules.md: "... waiting more than one working day"
    reminder_max_wait_working_days: int = 1
    # the configured channel (email/WhatsApp/Telegram): at most this many sends per hour
    rate_limit_per_hour: int = 5
    # a failed send is retried with exponential backoff and jitter (base * 2^(n-1), capped)
    # up to this many attempts in all, then the message is dead-lettered (API + metric)
    max_send_attempts: int = 8
    retry_base_s: float = 30.0
    retry_cap_s: float = 1800.0
    # per-channel circuit breaker: open after this many failures in a row, retry after
    breaker_failures: int = 5
    breaker_cooldown_s: float = 60.0
    # a claim older than this is a dispatcher that died mid-send: re-sent with the same key
    stale_claim_s: float = 300.0
    # the 15:00/09:00 job lease (renewed at every chunk of the batch)
    job_lease_s: float = 120.0
    job_chunk: int = 1000
    dispatch_batch: int = 200
    send_concurrency: int = 16

    # the portal's address: every message links to the page where the next step is done
    portal_base_url: str = "http://127.0.0.1:8000"

    # e-mail over SMTP (no host: e-mail is written to the log only)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True  # STARTTLS on a plain port (587)
    smtp_tls: bool = False  # implicit TLS (465)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "SIKERJA Kota Bekasi <sikerja@bekasikota.go.id>"
    smtp_timeout_s: float = 15.0
    email_rate_per_s: float = 20.0

    # the WhatsApp/SMS(/Telegram) gateway: a signed JSON POST (no URL: log only)
    gateway_url: str | None = None
    gateway_secret: str = ""
    gateway_timeout_s: float = 10.0
    # the gateway's configured rate, per notifier process (divide by the workers)
    gateway_rate_per_s: float = 50.0
    # the scheduler wakes this often; the dispatcher of the configured channel this often
    tick_s: float = 60.0
    dispatch_interval_s: float = 5.0
