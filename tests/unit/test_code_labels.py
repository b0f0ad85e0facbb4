"""Every code people meet has a Polish name, the same on a page, in a report and in its files."""

from __future__ import annotations

from enum import StrEnum

import pytest

from services.reporting.tables import REPORTS, row_label
from services.web import labels
from shared import codes
from shared.codes import SECTOR_LABELS, SUPPORT_TYPE_LABELS

NAMED: list[tuple[type[StrEnum], dict]] = [
    (codes.Reason, codes.REASON_LABELS),
    (codes.NotifiedBy, codes.NOTIFIED_BY_LABELS),
    (codes.Sector, codes.SECTOR_LABELS),
    (codes.NeedArea, codes.NEED_AREA_LABELS),
    (codes.SupportType, codes.SUPPORT_TYPE_LABELS),
    (codes.CaseOutcome, codes.CASE_OUTCOME_LABELS),
    (codes.SupportOutcome, codes.SUPPORT_OUTCOME_LABELS),
    (codes.DeclineReason, codes.DECLINE_REASON_LABELS),
    (codes.PartnershipRole, codes.PARTNERSHIP_ROLE_LABELS),
    (codes.DecisionKind, codes.DECISION_KIND_LABELS),
]


@pytest.mark.parametrize(("enum", "names"), NAMED, ids=lambda x: getattr(x, "__name__", ""))
def test_every_code_has_a_polish_name_of_its_own(enum: type[StrEnum], names: dict) -> None:
    assert set(names) == set(enum)
    assert all(name and name != str(code) for code, name in names.items())
    assert len(set(names.values())) == len(names)  # two codes never read alike


def test_pages_and_reports_name_codes_from_the_same_table() -> None:
    assert labels.SUPPORT_TYPES["vocational_counselling"] == "doradztwo zawodowe"
    assert labels.DECLINE_REASONS["other"] == "inny powód"
    for report in ("supports", "unmet_needs"):
        assert REPORTS[report].columns == {str(k): v for k, v in SUPPORT_TYPE_LABELS.items()}
    assert REPORTS["cooperation"].columns["labour"] == "rynek pracy"
    assert REPORTS["needs"].columns["old_age_and_loneliness"] == "starość i samotność"
    assert REPORTS["declines"].columns["no_capacity"] == "brak wolnych miejsc"
    # rows by sector (acceptance, declines) are named too
    assert row_label("sector", "labour") == SECTOR_LABELS[codes.Sector.LABOUR] == "rynek pracy"
