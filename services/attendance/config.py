"""Settings only attendance reads (prefix SIKERJA_ATTENDANCE_); the shared ones stay in
services/shared/settings.py."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class AttendanceConfig(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIKERJA_ATTENDANCE_", env_file=".env", extra="ignore"
    )

    # A device that has not called /iclock/* for this long is shown offline.
    device_offline_after_s: int = 900
    # The scheduler closes every ended day within this many days back that is not closed yet.
    scheduler_enabled: bool = True
    scheduler_interval_s: float = 60.0
    close_lookback_days: int = 7
    # Absence documents (PDF/JPG/PNG).
    max_document_bytes: int = 2 * 1024 * 1024
    # Longest absence range one record may hold (tugas belajar runs for years).
    max_absence_days: int = 1100
    # Inspektorat: the same NIP on two distant devices within this many minutes.
    hop_window_minutes: int = 30
    # Scans further ahead of the server clock than this are flagged "future".
    max_future_minutes: int = 5
    # Largest /iclock/* request body read (413 above it). A device's backlog of 100,000
    # ATTLOG lines is about 5 MB; 16 MB leaves room for three times that.
    adms_max_body_bytes: int = 16 * 1024 * 1024
    # ATTLOG lines stored per transaction (a backlog upload is stored slice by slice).
    adms_lines_per_transaction: int = 5000
    # Absurd scan rates (see adms_api.flag_scan_rates): more scans of one NIP on one WIB
    # date than this, or more scans of one device within one minute of scan time.
    max_scans_per_nip_day: int = 50
    max_device_scans_per_minute: int = 30
    # /iclock/* requests one SN may make (devices carry no token: a flood from one serial
    # number is cut here). A device heartbeats every few seconds and pushes every scan;
    # the rest waits on the device and comes again. `limits` notation and storage URL
    # ("memory://" per process, or "redis://..." shared by workers).
    adms_rate_limit: str = "600/minute"
    adms_rate_storage: str = "memory://"
