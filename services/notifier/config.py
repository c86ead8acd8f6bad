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
    # a failed send to the configured channel is retried up to this many attempts in all
    max_send_attempts: int = 3
    # the scheduler wakes this often; the dispatcher of the configured channel this often
    tick_s: float = 60.0
    dispatch_interval_s: float = 5.0
