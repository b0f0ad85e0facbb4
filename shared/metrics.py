"""Prometheus metrics every service exposes at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_HANDLED = Counter(
    "kooperacja_events_handled_total", "Events whose effect was committed", ["service", "type"]
)
EVENTS_DUPLICATE = Counter(
    "kooperacja_events_duplicate_total", "Redelivered events skipped by the inbox", ["service"]
)
EVENTS_FAILED = Counter(
    "kooperacja_events_failed_total", "Handler failures (before retry or dead-letter)", ["service"]
)
EVENTS_DEAD_LETTERED = Counter(
    "kooperacja_events_dead_lettered_total", "Messages sent to the dead-letter queue", ["service"]
)
HANDLER_SECONDS = Histogram(
    "kooperacja_handler_seconds", "Time to handle one event", ["service", "type"]
)
EVENTS_PUBLISHED = Counter(
    "kooperacja_events_published_total", "Outbox events published and confirmed", ["service"]
)
OUTBOX_FAILURES = Counter(
    "kooperacja_outbox_failures_total", "Failed outbox relay rounds", ["service"]
)
JOB_FAILURES = Counter(
    "kooperacja_job_failures_total", "Failed passes of periodic jobs", ["service", "job"]
)
OUTBOX_BACKLOG = Gauge("kooperacja_outbox_backlog", "Events waiting in the outbox", ["service"])
READY = Gauge(
    "kooperacja_ready", "1 when the readiness checks pass, judged at each scrape", ["service"]
)
REFERRALS_OVERDUE = Counter(
    "kooperacja_referrals_overdue_total",
    "Referrals found past their deadline (stage: acceptance or completion)",
    ["stage"],
)


def expose(service: str) -> None:
    """Show the per-service series from the start, at 0, so a dashboard or alert on failures
    sees the series before the first failure rather than nothing."""
    for per_service in (
        EVENTS_DUPLICATE,
        EVENTS_FAILED,
        EVENTS_DEAD_LETTERED,
        EVENTS_PUBLISHED,
        OUTBOX_FAILURES,
        OUTBOX_BACKLOG,
    ):
        per_service.labels(service)
