"""The SIASN bridge's own settings (prefix SIKERJA_SIASN_): where SIASN is, its credentials,
how often and how hard the bridge reads it."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.siasn.adapter import SiasnConfig


class SiasnSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIKERJA_SIASN_", env_file=".env", extra="ignore")

    # Empty: no SIASN (offices import CSV/XLSX only; sync and delivery report it as off).
    # `./dev up` points it at our own SIASN (sikerja_cli/fake_siasn.py) on `fake_port`.
    base_url: str = ""
    fake_port: int = 8190
    consumer_key: str = ""
    consumer_secret: str = ""
    username: str = ""
    password: str = ""
    timeout_s: float = 10.0
    concurrency: int = 16
    attempts: int = 5
    # scheduled sync: every this many seconds (0: only BKPSDM's "sync now")
    sync_interval_s: float = 0.0
    # delivery of monthly results: a pass every this many seconds (0: off); a result SIASN
    # could not take waits retry_base_s, doubling up to retry_cap_s (jittered)
    deliver_interval_s: float = 30.0
    retry_base_s: float = 30.0
    retry_cap_s: float = 1800.0
    # the sync and the delivery each run under a lease (services/shared/lease.py), renewed
    # every third of this while they run: two replicas never run one of them at once
    lease_s: float = 60.0

    def client_config(self) -> SiasnConfig:
        return SiasnConfig(
            base_url=self.base_url,
            consumer_key=self.consumer_key,
            consumer_secret=self.consumer_secret,
            username=self.username,
            password=self.password,
            timeout_s=self.timeout_s,
            concurrency=self.concurrency,
            attempts=self.attempts,
        )


@lru_cache
def get_siasn_settings() -> SiasnSettings:
    return SiasnSettings()
