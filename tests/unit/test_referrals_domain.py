"""The referral rules without I/O: routing preferences, the state machine, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.referrals.domain import (
    EXPECTED_DURATION,
    Action,
    Candidate,
    IllegalTransition,
    ReferralState,
    Responsible,
    accept_by,
    choose_institution,
    complete_by,
    next_state,
    overdue_stage,
)
from shared.codes import Sector, SupportType

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def candidate(
    *,
    serves_gmina: bool = True,
    in_partnership: bool = False,
    capacity: int = 5,
    open_referrals: int = 0,
    institution_id: UUID | None = None,
    is_gmina_ops: bool = False,
) -> Candidate:
    return Candidate(
        institution_id=institution_id or uuid4(),
        sector=Sector.HEALTH,
        serves_gmina=serves_gmina,
        in_partnership=in_partnership,
        capacity=capacity,
        open_referrals=open_referrals,
        is_gmina_ops=is_gmina_ops,
    )


def test_gmina_beats_powiat_even_when_the_powiat_institution_is_a_partner() -> None:
    local = candidate(serves_gmina=True, open_referrals=4)
    county = candidate(serves_gmina=False, in_partnership=True)
    assert choose_institution([county, local]) == local


def test_partner_beats_non_partner_then_load_decides() -> None:
    partner = candidate(in_partnership=True, open_referrals=4)
    idle = candidate()
    assert choose_institution([idle, partner]) == partner
    busy = candidate(capacity=10, open_referrals=5)
    light = candidate(capacity=10, open_referrals=1)
    assert choose_institution([busy, light]) == light


def test_full_and_already_tried_institutions_are_not_chosen() -> None:
    full = candidate(in_partnership=True, capacity=2, open_referrals=2)
    tried = candidate(in_partnership=True)
    last = candidate(serves_gmina=False)
    assert choose_institution([full, tried, last], excluded={tried.institution_id}) == last
    assert choose_institution([full, tried], excluded={tried.institution_id}) is None
    assert choose_institution([]) is None


def test_equal_candidates_are_chosen_in_a_stable_order() -> None:
    a = candidate(institution_id=UUID(int=1))
    b = candidate(institution_id=UUID(int=2))
    assert choose_institution([b, a]) == choose_institution([a, b]) == a


def test_the_plans_responsible_institution_or_the_ops_is_preferred_while_it_has_room() -> None:
    partner = candidate(in_partnership=True)
    named = candidate(serves_gmina=False, open_referrals=4)
    ops = candidate(is_gmina_ops=True, open_referrals=3)
    everyone = [partner, named, ops]
    assert choose_institution(everyone, responsible=Responsible(named.institution_id)) == named
    assert choose_institution(everyone, responsible=Responsible(None)) == ops
    full = candidate(capacity=1, open_referrals=1)
    assert choose_institution([partner, full], responsible=Responsible(full.institution_id)) == (
        partner
    )
    assert choose_institution([partner], responsible=Responsible(None)) == partner


def test_a_support_only_the_ops_may_decide_goes_to_the_gminas_ops_or_nowhere() -> None:
    partner = candidate(in_partnership=True)
    ops = candidate(is_gmina_ops=True, open_referrals=4)
    benefit = SupportType.FINANCIAL_BENEFIT
    assert choose_institution([partner, ops], support_type=benefit) == ops
    named = Responsible(partner.institution_id)
    assert choose_institution([partner, ops], support_type=benefit, responsible=named) == ops
    assert choose_institution([partner], support_type=benefit) is None
    assert (
        choose_institution([partner, ops], support_type=benefit, excluded={ops.institution_id})
        is None
    )
    assert choose_institution([partner, ops], support_type=SupportType.MEALS) == partner


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (ReferralState.ASSIGNED, Action.ACCEPT, ReferralState.ACCEPTED),
        (ReferralState.ASSIGNED, Action.DECLINE, ReferralState.DECLINED),
        (ReferralState.ACCEPTED, Action.COMPLETE, ReferralState.COMPLETED),
        (ReferralState.ASSIGNED, Action.CANCEL, ReferralState.CANCELLED),
        (ReferralState.ACCEPTED, Action.CANCEL, ReferralState.CANCELLED),
        (ReferralState.UNASSIGNABLE, Action.ASSIGN, ReferralState.ASSIGNED),
        (ReferralState.UNASSIGNABLE, Action.CANCEL, ReferralState.CANCELLED),
    ],
)
def test_legal_transitions(state: ReferralState, action: Action, after: ReferralState) -> None:
    assert next_state(state, action) is after


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (ReferralState.ASSIGNED, Action.COMPLETE),
        (ReferralState.ACCEPTED, Action.ACCEPT),
        (ReferralState.ACCEPTED, Action.DECLINE),
        (ReferralState.DECLINED, Action.ACCEPT),
        (ReferralState.COMPLETED, Action.CANCEL),
        (ReferralState.CANCELLED, Action.ACCEPT),
        (ReferralState.UNASSIGNABLE, Action.ACCEPT),
    ],
)
def test_illegal_transitions_are_conflicts(state: ReferralState, action: Action) -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_state(state, action)
    assert raised.value.status == 409
    assert raised.value.code == "illegal_transition"


def test_every_support_type_has_an_expected_duration_within_a_cooperation() -> None:
    assert set(EXPECTED_DURATION) == set(SupportType)
    assert all(timedelta(days=1) <= d <= timedelta(days=365) for d in EXPECTED_DURATION.values())
    assert complete_by(NOW, SupportType.CRISIS_INTERVENTION) == NOW + timedelta(days=14)
    assert accept_by(NOW) == NOW + timedelta(days=7)
    assert accept_by(NOW, timedelta(hours=2)) == NOW + timedelta(hours=2)


def test_overdue_stage_follows_the_state() -> None:
    past, future = NOW - timedelta(seconds=1), NOW + timedelta(days=1)
    assigned, accepted = ReferralState.ASSIGNED, ReferralState.ACCEPTED
    assert overdue_stage(assigned, accept_by=past, complete_by=None, now=NOW) == "acceptance"
    assert overdue_stage(assigned, accept_by=future, complete_by=None, now=NOW) is None
    assert overdue_stage(accepted, accept_by=past, complete_by=past, now=NOW) == "completion"
    assert overdue_stage(accepted, accept_by=past, complete_by=future, now=NOW) is None
    for ended in (ReferralState.COMPLETED, ReferralState.DECLINED, ReferralState.CANCELLED):
        assert overdue_stage(ended, accept_by=past, complete_by=past, now=NOW) is None
