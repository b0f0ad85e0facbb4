"""Intake's pure rules: the case's state machine, consent, PESEL checks, what events carry."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from kooperacja.demo_data import pesel_for
from services.intake import domain
from services.intake.domain import CaseState, CaseStatus, Consent
from shared.errors import Conflict, InvalidInput
from shared.teryt import terc

TODAY = date(2026, 3, 10)
GMINA = terc().gmina("0601042")
STATUSES = list(CaseStatus)


def state(
    status: CaseStatus, consent: Consent | None = Consent(TODAY), round: int = 1
) -> CaseState:
    return CaseState(
        uuid4(), GMINA, status, consent, opened_on=TODAY - timedelta(days=30), round=round
    )


def member(pesel: str | None = None, born: date = date(1990, 2, 3), sex: str = "M"):
    return domain.new_member(
        first_name="Jan", last_name="Nowak", birth_date=born, sex=sex, relation="head", pesel=pesel
    )


def opened(**fields):
    fields.setdefault("members", [member()])
    return domain.open_case(
        gmina=GMINA,
        reasons=fields.pop("reasons", ["1"]),
        notified_by="self",
        consent=fields.pop("consent", None),
        today=TODAY,
        **fields,
    )


@pytest.mark.parametrize("status", [s for s in STATUSES if s is not CaseStatus.CLOSED])
def test_every_case_not_closed_can_be_closed(status: CaseStatus) -> None:
    after, event = state(status).close("completed_partly", TODAY, TODAY)
    assert after is CaseStatus.CLOSED
    assert event.outcome == "completed_partly" and event.closed_on == TODAY


def test_a_closed_case_can_only_be_reopened() -> None:
    closed = state(CaseStatus.CLOSED)
    with pytest.raises(Conflict) as refused:
        closed.close("other", TODAY, TODAY)
    assert refused.value.code == "invalid_transition" and refused.value.field == "status"
    with pytest.raises(Conflict):
        closed.send_to_diagnosis()
    assert closed.start_support(1) is None


def test_a_reopening_starts_the_next_round_before_the_pzk_when_there_is_consent() -> None:
    after, event = state(CaseStatus.CLOSED, round=2).reopen(TODAY)
    assert after is CaseStatus.IN_DIAGNOSIS
    assert (event.reopened_on, event.round) == (TODAY, 3)
    # Without consent the reopened case waits for it, as an opened case does.
    after, event = state(CaseStatus.CLOSED, consent=None).reopen(TODAY)
    assert (after, event.round) == (CaseStatus.REOPENED, 2)
    _, after, given = state(CaseStatus.REOPENED, consent=None, round=2).give_consent(
        TODAY, [], TODAY
    )
    assert after is CaseStatus.IN_DIAGNOSIS and given.round == 2


def test_a_closing_and_a_consent_carry_the_round_of_the_case() -> None:
    _, closed = state(CaseStatus.IN_SUPPORT, round=3).close("other", TODAY, TODAY)
    assert closed.round == 3


@pytest.mark.parametrize("status", [s for s in STATUSES if s is not CaseStatus.CLOSED])
def test_only_a_closed_case_can_be_reopened(status: CaseStatus) -> None:
    with pytest.raises(Conflict, match="reopen"):
        state(status).reopen(TODAY)


def test_without_consent_a_case_cannot_go_to_diagnosis() -> None:
    with pytest.raises(Conflict) as refused:
        state(CaseStatus.OPENED, consent=None).send_to_diagnosis()
    assert refused.value.code == "no_consent" and refused.value.field == "consent"
    assert state(CaseStatus.REOPENED).send_to_diagnosis() is CaseStatus.IN_DIAGNOSIS
    # A case reopened with consent is before the PZK already: nothing to do, no refusal.
    assert state(CaseStatus.IN_DIAGNOSIS).send_to_diagnosis() is CaseStatus.IN_DIAGNOSIS
    with pytest.raises(Conflict):
        state(CaseStatus.IN_SUPPORT).send_to_diagnosis()


def test_the_diagnosis_of_the_current_round_starts_support_once() -> None:
    for status in (CaseStatus.OPENED, CaseStatus.IN_DIAGNOSIS, CaseStatus.REOPENED):
        assert state(status).start_support(1) is CaseStatus.IN_SUPPORT
        assert state(status, round=2).start_support(2) is CaseStatus.IN_SUPPORT
    assert state(CaseStatus.IN_SUPPORT).start_support(1) is None
    # A diagnosis of the round before a reopening, arriving late, starts nothing.
    assert state(CaseStatus.IN_DIAGNOSIS, round=2).start_support(1) is None


def test_closing_date_lies_between_opening_and_today() -> None:
    with pytest.raises(InvalidInput) as refused:
        state(CaseStatus.OPENED).close("other", TODAY + timedelta(days=1), TODAY)
    assert refused.value.field == "closed_on"
    with pytest.raises(InvalidInput):
        state(CaseStatus.OPENED).close("other", TODAY - timedelta(days=31), TODAY)


def test_a_case_with_consent_opens_in_diagnosis_and_one_without_stays_opened() -> None:
    assert opened(consent=Consent(TODAY)).status is CaseStatus.IN_DIAGNOSIS
    assert opened().status is CaseStatus.OPENED
    assert opened().opened_event().consent_to_share is False


def test_consent_flag_and_details_must_agree() -> None:
    assert domain.decide_consent(True, None, [], TODAY) == Consent(TODAY)
    assert domain.decide_consent(False, None, [], TODAY) is None
    given = domain.decide_consent(None, date(2026, 1, 2), ["health", "health"], TODAY)
    assert given == Consent(date(2026, 1, 2), ("health",))
    assert given.covers("health") and not given.covers("police")
    assert Consent(TODAY).covers("police")
    for flag, given_on, field in (
        (False, TODAY, "consent_to_share"),
        (None, None, "consent_to_share"),
    ):
        with pytest.raises(InvalidInput) as refused:
            domain.decide_consent(flag, given_on, [], TODAY)
        assert refused.value.field == field
    with pytest.raises(InvalidInput) as refused:
        opened(consent=Consent(TODAY + timedelta(days=1)))
    assert refused.value.field == "consent.given_on"


@pytest.mark.parametrize(
    ("pesel", "code"),
    [
        ("90020312346", "invalid_pesel"),
        (pesel_for(date(1990, 2, 4), "M", 3), "pesel_birth_date_mismatch"),
        (pesel_for(date(1990, 2, 3), "F", 3), "pesel_sex_mismatch"),
    ],
)
def test_a_pesel_must_be_valid_and_agree_with_birth_date_and_sex(pesel: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        opened(members=[member(), member(pesel)])
    assert refused.value.code == code and refused.value.field == "members[1].pesel"


def test_events_of_a_case_carry_codes_bands_and_counts_only() -> None:
    pesel = pesel_for(date(1990, 2, 3), "M", 3)
    head = domain.new_member(
        first_name="Zdzisław",
        last_name="Kowalczyk",
        birth_date=date(1990, 2, 3),
        sex="M",
        relation="head",
        pesel=pesel,
        contact=domain.Contact(phone="+48 500 100 200", address="ul. Leśna 1"),
    )
    case = opened(members=[head, member(born=date(2020, 1, 1))], interview_summary="Dług 5000 zł")
    texts = [
        case.opened_event().model_dump_json(),
        state(CaseStatus.OPENED).close("died", TODAY, TODAY)[1].model_dump_json(),
        state(CaseStatus.CLOSED).reopen(TODAY)[1].model_dump_json(),
    ]
    for text in texts:
        for personal in (
            "Zdzisław",
            "Kowalczyk",
            "Nowak",
            pesel,
            "1990-02-03",
            "500 100",
            "Leśna",
            "Dług",
        ):
            assert personal not in text
    assert case.opened_event().age_bands == {"30-44": 1, "6-17": 1}


def test_minimal_personal_data_is_for_the_gminas_staff_and_granted_institutions() -> None:
    from shared.auth import Principal, Role
    from shared.errors import Forbidden, NotFound

    case_id, clinic = uuid4(), uuid4()
    with_consent = ("0601042", Consent(TODAY, ("health",)))
    staff = Principal("s", Role.INSTITUTION_STAFF, institution=clinic)
    assert domain.may_read_persons(staff, case_id, with_consent, ["health"]) == "0601042"
    for case, granted in (
        (with_consent, []),
        (with_consent, ["police"]),
        (("0601042", None), ["health"]),
        (None, ["health"]),
    ):
        with pytest.raises(Forbidden):
            domain.may_read_persons(staff, case_id, case, granted)
    caseworker = Principal("c", Role.CASEWORKER, gmina="0601042")
    assert domain.may_read_persons(caseworker, case_id, ("0601042", None), []) == "0601042"
    with pytest.raises(Forbidden):
        domain.may_read_persons(caseworker, case_id, ("0601052", None), [])
    with pytest.raises(NotFound):
        domain.may_read_persons(caseworker, case_id, None, [])
    with pytest.raises(Forbidden):
        domain.may_read_persons(
            Principal("t", Role.TEAM_MEMBER, gmina="0601042", institution=clinic),
            case_id,
            with_consent,
            ["health"],
        )


# --- consent given after opening --------------------------------------------------------------


def test_consent_given_later_sends_an_opened_case_to_diagnosis() -> None:
    case = state(CaseStatus.OPENED, consent=None)
    consent, after, event = case.give_consent(TODAY - timedelta(days=2), ["health"], TODAY)
    assert after is CaseStatus.IN_DIAGNOSIS
    assert consent == Consent(TODAY - timedelta(days=2), ("health",))
    assert event.case_id == case.case_id and event.given_on == TODAY - timedelta(days=2)
    assert event.place.gmina == GMINA.code
    assert event.model_dump(mode="json")["scope"] == ["health"]
    assert set(event.model_dump()) == {"case_id", "place", "given_on", "round", "scope"}


def test_consent_given_later_keeps_the_status_of_a_case_before_the_pzk_already() -> None:
    for status in (CaseStatus.IN_DIAGNOSIS, CaseStatus.IN_SUPPORT):
        _, after, _ = state(status, consent=None).give_consent(TODAY, [], TODAY)
        assert after is status


def test_consent_cannot_be_given_twice_nor_to_a_closed_case() -> None:
    with pytest.raises(Conflict) as refused:
        state(CaseStatus.OPENED).give_consent(TODAY, [], TODAY)
    assert refused.value.code == "consent_already_given" and refused.value.field == "consent"
    with pytest.raises(Conflict) as refused:
        state(CaseStatus.CLOSED, consent=None).give_consent(TODAY, [], TODAY)
    assert refused.value.code == "case_closed" and refused.value.field == "consent"


@pytest.mark.parametrize("days", [1, -31], ids=["tomorrow", "before the case opened"])
def test_consent_is_dated_between_the_opening_and_today(days: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        state(CaseStatus.OPENED, consent=None).give_consent(TODAY + timedelta(days=days), [], TODAY)
    assert refused.value.field == "given_on"
    # The day of opening itself is fine.
    _, after, _ = state(CaseStatus.OPENED, consent=None).give_consent(
        TODAY - timedelta(days=30), [], TODAY
    )
    assert after is CaseStatus.IN_DIAGNOSIS


# --- consent withdrawn (RODO art. 7(3)) -------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_consent_can_be_withdrawn_in_any_status_which_stays(status: CaseStatus) -> None:
    case = state(status, consent=Consent(TODAY - timedelta(days=5)))
    after, event = case.withdraw_consent(TODAY - timedelta(days=1), TODAY)
    assert after is status
    assert event.routing_key == "case.consent_withdrawn.v1"
    assert event.model_dump(mode="json") == {
        "case_id": str(case.case_id),
        "place": GMINA.place.model_dump(mode="json"),
        "withdrawn_on": str(TODAY - timedelta(days=1)),
    }


def test_only_consent_in_effect_can_be_withdrawn_between_its_giving_and_today() -> None:
    with pytest.raises(Conflict) as refused:
        state(CaseStatus.IN_DIAGNOSIS, consent=None).withdraw_consent(TODAY, TODAY)
    assert (refused.value.code, refused.value.field) == ("no_consent", "consent")
    case = state(CaseStatus.IN_SUPPORT, consent=Consent(TODAY - timedelta(days=5)))
    for day in (TODAY + timedelta(days=1), TODAY - timedelta(days=6)):
        with pytest.raises(InvalidInput) as refused:
            case.withdraw_consent(day, TODAY)
        assert refused.value.field == "withdrawn_on"
    _, event = case.withdraw_consent(TODAY - timedelta(days=5), TODAY)
    assert event.withdrawn_on == TODAY - timedelta(days=5)


def test_consent_given_again_after_a_withdrawal_is_dated_on_its_day_or_later() -> None:
    withdrawn = CaseState(
        uuid4(),
        GMINA,
        CaseStatus.IN_SUPPORT,
        None,
        opened_on=TODAY - timedelta(days=30),
        consent_withdrawn_on=TODAY - timedelta(days=3),
    )
    with pytest.raises(InvalidInput) as refused:
        withdrawn.give_consent(TODAY - timedelta(days=4), [], TODAY)
    assert (refused.value.code, refused.value.field) == (
        "consent_given_before_withdrawal",
        "given_on",
    )
    consent, after, event = withdrawn.give_consent(TODAY - timedelta(days=3), ["health"], TODAY)
    assert after is CaseStatus.IN_SUPPORT and consent.scope == ("health",)
    assert event.given_on == TODAY - timedelta(days=3)


def test_after_a_withdrawal_a_granted_institution_is_told_why_it_reads_nothing() -> None:
    from shared.auth import Principal, Role
    from shared.errors import Forbidden

    case_id = uuid4()
    staff = Principal("s", Role.INSTITUTION_STAFF, institution=uuid4())
    with pytest.raises(Forbidden) as refused:
        domain.may_read_persons(staff, case_id, ("0601042", None), ["health"])
    assert refused.value.code == "consent_withdrawn"
    # Without a grant it learns nothing, not even that consent was withdrawn.
    with pytest.raises(Forbidden) as refused:
        domain.may_read_persons(staff, case_id, ("0601042", None), [])
    assert refused.value.code == "no_access_grant"
