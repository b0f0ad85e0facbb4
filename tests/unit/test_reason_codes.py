"""Art. 7 reason codes as the statute numbers them (Dz.U. 2023 poz. 901), each pinned to its
point and its wording; events from before the fix read with the statute's numbering."""

from datetime import date
from uuid import uuid4

import pytest
from pydantic import TypeAdapter, ValidationError

from services.reporting.rebuild import parse
from services.reporting.tables import REPORTS
from shared.codes import REASON_LABELS, REASONS_VERSION, Reason, renumbered
from shared.envelope import open_envelope, parse_envelope, wrap
from shared.events import CaseOpened, Place, ReasonCode

STATUTE = {
    "1": ("POVERTY", "ubóstwo"),
    "2": ("ORPHANHOOD", "sieroctwo"),
    "3": ("HOMELESSNESS", "bezdomność"),
    "4": ("UNEMPLOYMENT", "bezrobocie"),
    "5": ("DISABILITY", "niepełnosprawność"),
    "6": ("LONG_TERM_ILLNESS", "długotrwała lub ciężka choroba"),
    "7": ("DOMESTIC_VIOLENCE", "przemoc domowa"),
    "7a": ("TRAFFICKING_VICTIM", "potrzeba ochrony ofiar handlu ludźmi"),
    "8": ("MATERNITY_OR_LARGE_FAMILY", "potrzeba ochrony macierzyństwa lub wielodzietności"),
    "9": (
        "PARENTING_HELPLESSNESS",
        "bezradność w sprawach opiekuńczo-wychowawczych i prowadzenia gospodarstwa domowego,"
        " zwłaszcza w rodzinach niepełnych lub wielodzietnych",
    ),
    "11": (
        "FOREIGNER_INTEGRATION",
        "trudności w integracji cudzoziemców, którzy uzyskali w Rzeczypospolitej Polskiej status"
        " uchodźcy, ochronę uzupełniającą lub zezwolenie na pobyt czasowy",
    ),
    "12": ("AFTER_PRISON", "trudności w przystosowaniu do życia po zwolnieniu z zakładu karnego"),
    "13": ("ADDICTION", "alkoholizm lub narkomania"),
    "14": ("RANDOM_EVENT_OR_CRISIS", "zdarzenie losowe i sytuacja kryzysowa"),
    "15": ("DISASTER", "klęska żywiołowa lub ekologiczna"),
}
PLACE = Place(gmina="0601032", powiat="0601", region="06", variant="rural")


@pytest.mark.parametrize("point", list(STATUTE))
def test_every_code_is_the_number_of_its_statutory_point(point: str) -> None:
    name, label = STATUTE[point]
    assert Reason(point).name == name
    assert REASON_LABELS[Reason(point)] == label


def test_the_codes_are_exactly_the_points_in_force() -> None:
    assert [r.value for r in Reason] == list(STATUTE)
    assert set(REASON_LABELS) == set(Reason)


def test_the_reasons_report_labels_each_code_with_its_point() -> None:
    labels = REPORTS["reasons"].columns
    assert labels == {point: f"{point} {label}" for point, (_, label) in STATUTE.items()}


def test_repealed_point_10_is_refused_saying_so() -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ReasonCode).validate_python("10")
    [error] = caught.value.errors()
    assert error["type"] == "reason_repealed"
    assert "pkt 10" in error["msg"] and "uchylony" in error["msg"]
    with pytest.raises(ValidationError):
        TypeAdapter(ReasonCode).validate_python("16")
    assert TypeAdapter(ReasonCode).validate_python("11") is Reason.FOREIGNER_INTEGRATION


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["10"], ["11"]),  # foreigners' integration
        (["11"], ["12"]),  # after prison
        (["12"], ["13"]),  # addiction
        (["13"], ["14"]),  # random event or crisis
        (["14"], ["15"]),  # natural disaster
        (["15"], ["15"]),  # ecological disaster: the same point
        (["14", "15"], ["15"]),
        (["1", "7a", "9", "12"], ["1", "7a", "9", "13"]),
    ],
)
def test_codes_before_the_fix_are_renumbered(old: list[str], new: list[str]) -> None:
    assert renumbered(old) == new


def _opened(**data: object) -> CaseOpened:
    return CaseOpened(
        case_id=uuid4(), place=PLACE, opened_on=date(2026, 1, 5), household_size=1,
        age_bands={"30-44": 1}, notified_by="self", consent_to_share=True, **data,
    )  # fmt: skip


def _published_before_the_fix(reasons: list[str]) -> bytes:
    envelope = wrap(_opened(reasons=["1"]), region="06", service="intake")
    data = {k: v for k, v in envelope.data.items() if k != "reasons_version"}
    return envelope.model_copy(update={"data": {**data, "reasons": reasons}}).to_bytes()


def test_events_published_now_carry_the_statute_marker_and_keep_their_codes() -> None:
    event = _opened(reasons=["13", "14", "15"])
    envelope = wrap(event, region="06", service="intake")
    assert envelope.data["reasons_version"] == REASONS_VERSION == 2
    body = envelope.to_bytes()
    assert open_envelope(parse_envelope(body)).reasons == ["13", "14", "15"]
    assert parse(body).data.reasons == ["13", "14", "15"]


def test_an_event_from_before_the_fix_is_read_with_the_statute_numbering() -> None:
    body = _published_before_the_fix(["10", "12", "14", "15"])
    live = open_envelope(parse_envelope(body))
    rebuilt = parse(body).data
    for event in (live, rebuilt):
        assert event.reasons == [
            Reason.FOREIGNER_INTEGRATION, Reason.ADDICTION, Reason.DISASTER
        ]  # fmt: skip
        assert event.reasons_version == REASONS_VERSION


def test_a_marked_event_naming_the_repealed_point_is_off_schema() -> None:
    envelope = wrap(_opened(reasons=["1"]), region="06", service="intake")
    bad = envelope.model_copy(update={"data": {**envelope.data, "reasons": ["10"]}}).to_bytes()
    assert parse(bad) is None
    with pytest.raises(Exception, match="uchylony"):
        open_envelope(parse_envelope(bad))
