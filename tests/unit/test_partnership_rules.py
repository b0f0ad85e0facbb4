"""The partnership's rules without I/O: who changes and reads it, the agreement's dates, dated
membership, roles, the diagnostic team and a meeting's decisions."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.partnership import domain
from services.partnership.domain import DecisionDraft, Membership, State
from shared.auth import Principal, Role
from shared.codes import DecisionKind, PartnershipRole, Sector
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput

GMINA = "0601032"
TODAY = date(2026, 6, 1)
OPS, PCPR, SCHOOL = uuid4(), uuid4(), uuid4()
STATE = State(
    GMINA,
    memberships=(
        Membership(OPS, date(2024, 3, 15)),
        Membership(PCPR, date(2024, 3, 15)),
        Membership(SCHOOL, date(2024, 3, 15), left_on=date(2025, 9, 1)),
    ),
    roles={PartnershipRole.COORDINATOR: OPS},
)


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> tuple[str, str | None]:
    return exc.value.code, exc.value.field


def test_only_the_gminas_own_coordinator_changes_it() -> None:
    domain.may_change(Principal("c", Role.COORDINATOR, gmina=GMINA), GMINA)
    for who in (
        Principal("c", Role.COORDINATOR, powiat=GMINA[:4]),
        Principal("c", Role.COORDINATOR, gmina="0601042"),
        Principal("w", Role.CASEWORKER, gmina=GMINA),
        Principal("t", Role.TEAM_MEMBER, institution=OPS),
    ):
        with pytest.raises(Forbidden):
            domain.may_change(who, GMINA)


def test_readers_are_the_gminas_staff_and_its_members_never_analysts() -> None:
    members = STATE.members
    domain.may_read(Principal("c", Role.COORDINATOR, powiat=GMINA[:4]), GMINA, members)
    domain.may_read(Principal("w", Role.CASEWORKER, gmina=GMINA), GMINA, members)
    domain.may_read(Principal("t", Role.TEAM_MEMBER, institution=PCPR), GMINA, members)
    for who in (
        Principal("a", Role.ANALYST, region="06"),
        Principal("o", Role.OPERATOR),
        Principal("t", Role.TEAM_MEMBER, institution=SCHOOL),  # left
        Principal("w", Role.CASEWORKER, gmina="0601042"),
    ):
        with pytest.raises(Forbidden):
            domain.may_read(who, GMINA, members)


def test_who_was_a_member_when() -> None:
    assert STATE.members == {OPS, PCPR}
    assert STATE.members_on(date(2025, 8, 31)) == {OPS, PCPR, SCHOOL}
    assert STATE.members_on(date(2025, 9, 1)) == {OPS, PCPR}
    assert STATE.members_on(date(2024, 3, 14)) == frozenset()


def test_the_agreements_dates() -> None:
    domain.check_agreement(date(2024, 3, 15), date(2024, 4, 1), None, TODAY)
    cases = [
        ((date(2026, 6, 2), date(2026, 6, 2), None), ("signed_in_future", "signed_on")),
        ((date(2024, 3, 15), date(2024, 3, 1), None), ("valid_before_signing", "valid_from")),
        (
            (date(2024, 3, 15), date(2024, 4, 1), date(2024, 3, 31)),
            ("valid_until_before_from", "valid_until"),
        ),
    ]
    for args, expected in cases:
        with pytest.raises(InvalidInput) as exc:
            domain.check_agreement(*args, TODAY)
        assert code_of(exc) == expected


def test_parties_not_yet_members_join_a_party_named_twice_is_refused() -> None:
    assert domain.parties_joining(STATE, [OPS, SCHOOL]) == [SCHOOL]
    with pytest.raises(InvalidInput) as exc:
        domain.parties_joining(STATE, [OPS, OPS])
    assert code_of(exc) == ("party_twice", "parties")


def test_joining_again_and_leaving() -> None:
    domain.check_join(STATE, SCHOOL, date(2025, 9, 1), TODAY)
    with pytest.raises(InvalidInput) as exc:
        domain.check_join(STATE, SCHOOL, date(2025, 8, 1), TODAY)
    assert code_of(exc) == ("joined_before_left", "joined_on")
    with pytest.raises(Conflict):
        domain.check_join(STATE, PCPR, TODAY, TODAY)
    domain.check_leave(STATE, PCPR, TODAY, TODAY)
    with pytest.raises(Conflict) as conflict:
        domain.check_leave(STATE, OPS, TODAY, TODAY)  # the coordinator's role first
    assert conflict.value.code == "role_held"
    with pytest.raises(InvalidInput) as exc:
        domain.check_leave(STATE, PCPR, date(2024, 1, 1), TODAY)
    assert code_of(exc) == ("left_before_joined", "left_on")


def test_roles_the_adviser_from_the_rops_need_not_be_a_member() -> None:
    domain.check_role(STATE, PartnershipRole.ANIMATOR, PCPR, Sector.SOCIAL_ASSISTANCE)
    rops = uuid4()
    domain.check_role(STATE, PartnershipRole.ADVISER, rops, None)
    with pytest.raises(InvalidInput) as exc:
        domain.check_role(STATE, PartnershipRole.COORDINATOR, rops, None)
    assert code_of(exc) == ("not_a_partnership_member", "institution_id")
    with pytest.raises(InvalidInput) as exc:
        domain.check_role(STATE, PartnershipRole.ADVISER, SCHOOL, Sector.EDUCATION)
    assert code_of(exc) == ("adviser_not_rops", "institution_id")


def test_the_diagnostic_team_is_a_subset_of_the_members() -> None:
    assert domain.check_diagnostic_team(STATE, [OPS, PCPR]) == {OPS, PCPR}
    with pytest.raises(InvalidInput) as exc:
        domain.check_diagnostic_team(STATE, [OPS, SCHOOL])
    assert code_of(exc) == ("not_a_partnership_member", "institutions[1]")


def test_a_meeting_and_its_decisions() -> None:
    domain.check_meeting(STATE, date(2025, 8, 1), [OPS, SCHOOL], TODAY)  # a member then
    with pytest.raises(InvalidInput) as exc:
        domain.check_meeting(STATE, date(2025, 8, 1), [OPS, uuid4()], TODAY)
    assert code_of(exc) == ("not_a_partnership_member", "attendance[1]")
    with pytest.raises(InvalidInput) as exc:
        domain.check_meeting(STATE, date(2026, 6, 2), [OPS], TODAY)
    assert code_of(exc) == ("date_in_future", "held_on")
    case = uuid4()
    domain.check_decision(DecisionDraft(DecisionKind.PLAN_AGREED, case), "d")
    domain.check_decision(DecisionDraft(DecisionKind.OTHER), "d")
    refused = [
        (DecisionDraft(DecisionKind.DIAGNOSIS_AGREED), ("case_required", "d.case_id")),
        (
            DecisionDraft(DecisionKind.REFERRAL_AGREED, case),
            ("institution_required", "d.institution_id"),
        ),
        (
            DecisionDraft(DecisionKind.PLAN_AGREED, case, institution_id=PCPR),
            ("institution_not_expected", "d.institution_id"),
        ),
    ]
    for draft, expected in refused:
        with pytest.raises(InvalidInput) as exc:
            domain.check_decision(draft, "d")
        assert code_of(exc) == expected
