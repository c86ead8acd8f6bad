"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "sikerja_events_consumed",
    "Events handled (effect committed or duplicate skipped)",
    ["service", "event_type"],
)
EVENTS_DUPLICATE = Counter(
    "sikerja_events_duplicate",
    "Redelivered events recognised by the inbox",
    ["service", "event_type"],
)
EVENTS_PRODUCED = Counter(
    "sikerja_events_produced", "Events published by the outbox relay", ["service", "event_type"]
)
EVENTS_FAILED = Counter(
    "sikerja_events_failed", "Handler attempts that raised", ["service", "event_type"]
)
DLQ = Counter("sikerja_dlq", "Events sent to the dead-letter topic", ["service"])
HANDLER_SECONDS = Histogram(
    "sikerja_handler_seconds",
    "Time to handle one event, transaction included",
    ["service", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge("sikerja_outbox_backlog", "Outbox events not yet published", ["service"])
CONSUMER_LAG = Gauge(
    "sikerja_consumer_lag", "Messages behind the high watermark", ["service", "topic", "partition"]
)
HTTP_SECONDS = Histogram(
    "sikerja_http_seconds",
    "HTTP request duration",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5),
)
DEVICE_OFFLINE = Gauge(
    "sikerja_device_offline", "1 when a device has been silent too long", ["device"]
)
STORE_WRITER_BUSY = Counter(
    "sikerja_store_writer_busy",
    "Requests whose store work went to a worker thread because SQLite's writer was busy",
    ["service"],
)
