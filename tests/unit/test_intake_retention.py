"""The retention rule on its own: which closed cases are past retention, what the audit says."""

from __future__ import annotations

from datetime import date, timedelta

from services.intake.domain import ANONYMISED_FIELDS, anonymisation_note, retention_cutoff


def test_a_case_is_due_only_once_closed_longer_than_the_retention_period() -> None:
    today = date(2026, 11, 23)
    cutoff = retention_cutoff(today, 1825)
    closed_exactly_then = today - timedelta(days=1825)
    closed_a_day_earlier = closed_exactly_then - timedelta(days=1)
    # Due means closed_on < cutoff (the store's query).
    assert not closed_exactly_then < cutoff
    assert closed_a_day_earlier < cutoff
    assert not today < retention_cutoff(today, 0)


def test_the_audit_note_names_every_field_anonymised_and_no_value() -> None:
    note = anonymisation_note(date(2020, 1, 31), 1825)
    assert "2020-01-31" in note and "1825" in note
    for field in ANONYMISED_FIELDS:
        assert field in note
