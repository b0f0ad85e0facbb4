"""`kooperacja status`'s verdict from what it gathered: every kind of trouble counts."""

from __future__ import annotations

from kooperacja.status import ServiceStatus, render


def healthy(service: str) -> ServiceStatus:
    return ServiceStatus(
        service,
        ready=True,
        checks={"database": True},
        outbox_backlog=0,
        queued=0,
        consumers=1,
        dead_letters=0,
    )


def test_all_well_is_zero_problems_and_says_so() -> None:
    text, problems = render([healthy("intake"), healthy("reporting")], event_log=True)
    assert problems == 0
    assert "all well" in text


def test_each_kind_of_trouble_is_named_and_counted() -> None:
    down = ServiceStatus("referrals", ready=False, unreachable="connection refused")
    not_ready = healthy("diagnosis")
    not_ready.ready, not_ready.checks = False, {"database": False, "consumer": True}
    dead = healthy("intake")
    dead.dead_letters = 2
    text, problems = render([down, not_ready, dead], event_log=False)
    assert problems == 5, text
    for said in (
        "referrals does not answer",
        "referrals's queue is missing",
        "diagnosis not ready (database)",
        "2 dead letter(s) wait in intake's dead-letter queue",
        "event log stream",
    ):
        assert said in text
    [line] = [x for x in text.splitlines() if x.startswith("referrals")]
    assert " DOWN " in line
