"""The partnership's rules, free of I/O: who may read and change a gmina's partnership, what an
agreement, a membership, a role and the diagnostic team must satisfy, and what a meeting and
its decisions must hold. The API loads the state, asks these, and stores what they answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from shared.auth import Principal, Role
from shared.codes import DecisionKind, PartnershipRole, Sector, SupportType
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

# Roles that only a member institution may hold; the adviser comes from the ROPS, outside.
MEMBER_ROLES = frozenset({PartnershipRole.ANIMATOR, PartnershipRole.COORDINATOR})
# Decisions about a case name the case; a referral agreed names the institution too.
CASE_DECISIONS = frozenset(
    {DecisionKind.DIAGNOSIS_AGREED, DecisionKind.PLAN_AGREED, DecisionKind.REFERRAL_AGREED}
)


# --- who ------------------------------------------------------------------------------------


def may_change(principal: Principal, gmina: str) -> None:
    """Only the gmina's own coordinator changes its partnership and records its meetings."""
    if principal.role is not Role.COORDINATOR or principal.gmina != gmina:
        raise Forbidden(
            "not_the_gminas_coordinator",
            f"only the coordinator of gmina {gmina} changes its partnership",
        )


def may_read(principal: Principal, gmina: str, members: frozenset[UUID]) -> None:
    """The coordinators whose territory covers the gmina, its caseworkers, and the staff of
    its member institutions read the partnership; analysts see aggregates only (reporting)."""
    if principal.role in (Role.COORDINATOR, Role.CASEWORKER) and principal.covers_gmina(gmina):
        return
    if principal.role in (Role.TEAM_MEMBER, Role.INSTITUTION_STAFF) and (
        principal.institution in members
    ):
        return
    raise Forbidden("out_of_scope", f"the partnership of gmina {gmina} is outside your scope")


# --- the partnership's state ----------------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    institution_id: UUID
    joined_on: date
    left_on: date | None = None

    def on(self, day: date) -> bool:
        """Whether the institution was a member on that day."""
        return self.joined_on <= day and (self.left_on is None or day < self.left_on)


@dataclass(frozen=True)
class State:
    """What the rules need of one partnership."""

    gmina: str
    memberships: tuple[Membership, ...] = ()
    roles: dict[PartnershipRole, UUID] = field(default_factory=dict)
    diagnostic_team: frozenset[UUID] = frozenset()

    @property
    def members(self) -> frozenset[UUID]:
        return frozenset(m.institution_id for m in self.memberships if m.left_on is None)

    def members_on(self, day: date) -> frozenset[UUID]:
        return frozenset(m.institution_id for m in self.memberships if m.on(day))

    def current(self, institution: UUID) -> Membership | None:
        return next(
            (m for m in self.memberships if m.institution_id == institution and m.left_on is None),
            None,
        )


def check_agreement(
    signed_on: date, valid_from: date, valid_until: date | None, today: date
) -> None:
    if signed_on > today:
        raise InvalidInput(
            "signed_in_future", "umowa nie może być podpisana w przyszłości", field="signed_on"
        )
    if valid_from < signed_on:
        raise InvalidInput(
            "valid_before_signing",
            "umowa nie może obowiązywać przed dniem jej podpisania",
            field="valid_from",
        )
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(
            "valid_until_before_from",
            "koniec okresu umowy nie może poprzedzać jego początku",
            field="valid_until",
        )


def parties_joining(state: State, parties: list[UUID]) -> list[UUID]:
    """The agreement's parties that are not members yet: they join on its first day."""
    if len(set(parties)) != len(parties):
        raise InvalidInput(
            "party_twice", "instytucja jest wymieniona wśród stron dwa razy", field="parties"
        )
    return [p for p in parties if p not in state.members]


def check_join(state: State, institution: UUID, joined_on: date, today: date) -> None:
    if joined_on > today:
        raise InvalidInput(
            "date_in_future", "data przystąpienia nie może być w przyszłości", field="joined_on"
        )
    if state.current(institution) is not None:
        raise Conflict(
            "already_a_member", "instytucja już należy do partnerstwa", field="institution_id"
        )
    last_left = max(
        (m.left_on for m in state.memberships if m.institution_id == institution and m.left_on),
        default=None,
    )
    if last_left is not None and joined_on < last_left:
        raise InvalidInput(
            "joined_before_left",
            f"instytucja wystąpiła z partnerstwa {last_left.isoformat()}; ponowne przystąpienie "
            "nie może być wcześniej",
            field="joined_on",
        )


def check_leave(state: State, institution: UUID, left_on: date, today: date) -> Membership:
    membership = state.current(institution)
    if membership is None:
        raise Conflict("not_a_partnership_member", "instytucja nie należy do partnerstwa")
    if left_on > today:
        raise InvalidInput(
            "date_in_future", "data wystąpienia nie może być w przyszłości", field="left_on"
        )
    if left_on < membership.joined_on:
        raise InvalidInput(
            "left_before_joined",
            "data wystąpienia nie może poprzedzać daty przystąpienia",
            field="left_on",
        )
    held = sorted(str(r) for r, holder in state.roles.items() if holder == institution)
    if any(PartnershipRole(r) in MEMBER_ROLES for r in held):
        raise Conflict(
            "role_held",
            "instytucja pełni w partnerstwie rolę "
            + ", ".join(held)
            + "; najpierw przekaż rolę innemu członkowi",
        )
    return membership


def check_role(
    state: State, role: PartnershipRole, institution: UUID, sector: Sector | None
) -> None:
    if role in MEMBER_ROLES and institution not in state.members:
        raise InvalidInput(
            "not_a_partnership_member",
            "tę rolę pełni instytucja należąca do partnerstwa",
            field="institution_id",
        )
    if role is PartnershipRole.ADVISER and sector not in (None, Sector.SOCIAL_ASSISTANCE):
        raise InvalidInput(
            "adviser_not_rops",
            "doradca ds. modelu pochodzi z regionalnego ośrodka polityki społecznej (ROPS)",
            field="institution_id",
        )


def check_representative(state: State, institution: UUID, since: date, today: date) -> None:
    if institution not in state.members:
        raise InvalidInput(
            "not_a_partnership_member",
            "przedstawiciela wskazuje instytucja należąca do partnerstwa",
            field="institution_id",
        )
    if since > today:
        raise InvalidInput("date_in_future", "data nie może być w przyszłości", field="since")


def check_representative_end(found: dict | None, until: date, today: date) -> None:
    if found is None:
        raise NotFound("representative_not_found", "nie ma takiego przedstawiciela")
    if found["until"] is not None:
        raise Conflict("representative_ended", "ten przedstawiciel już nie reprezentuje instytucji")
    if until > today:
        raise InvalidInput("date_in_future", "data nie może być w przyszłości", field="until")


def check_role_holder(found: dict | None, institution: UUID) -> None:
    if found is None or found["until"] is not None or found["institution_id"] != institution:
        raise InvalidInput(
            "not_a_representative",
            "wskaż aktualnego przedstawiciela tej instytucji",
            field="representative_id",
        )


def check_role_since(state: State, since: date, today: date) -> None:
    if since > today:
        raise InvalidInput("date_in_future", "data nie może być w przyszłości", field="since")


def check_diagnostic_team(state: State, institutions: list[UUID]) -> frozenset[UUID]:
    if len(set(institutions)) != len(institutions):
        raise InvalidInput(
            "member_twice", "instytucja jest wymieniona dwa razy", field="institutions"
        )
    for i, institution in enumerate(institutions):
        if institution not in state.members:
            raise InvalidInput(
                "not_a_partnership_member",
                "zespół diagnostyczny tworzą członkowie partnerstwa",
                field=f"institutions[{i}]",
            )
    return frozenset(institutions)


# --- meetings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionDraft:
    kind: DecisionKind
    case_id: UUID | None = None
    institution_id: UUID | None = None
    support_type: SupportType | None = None


def check_meeting(state: State, held_on: date, attendance: list[UUID], today: date) -> None:
    if held_on > today:
        raise InvalidInput(
            "date_in_future", "spotkanie nie mogło odbyć się w przyszłości", field="held_on"
        )
    if len(set(attendance)) != len(attendance):
        raise InvalidInput(
            "attended_twice", "instytucja jest wymieniona dwa razy", field="attendance"
        )
    members = state.members_on(held_on) | state.members
    for i, institution in enumerate(attendance):
        if institution not in members and institution != state.roles.get(PartnershipRole.ADVISER):
            raise InvalidInput(
                "not_a_partnership_member",
                "w spotkaniu uczestniczą członkowie partnerstwa (i doradca ds. modelu)",
                field=f"attendance[{i}]",
            )


def check_decision(draft: DecisionDraft, field_prefix: str) -> None:
    if draft.kind in CASE_DECISIONS and draft.case_id is None:
        raise InvalidInput(
            "case_required",
            "ustalenie dotyczy sprawy: podaj jej numer",
            field=f"{field_prefix}.case_id",
        )
    if draft.kind is DecisionKind.REFERRAL_AGREED:
        if draft.institution_id is None:
            raise InvalidInput(
                "institution_required",
                "podaj instytucję, do której zespół kieruje",
                field=f"{field_prefix}.institution_id",
            )
    elif draft.institution_id is not None or draft.support_type is not None:
        raise InvalidInput(
            "institution_not_expected",
            "instytucję i rodzaj wsparcia podaje się tylko przy skierowaniu",
            field=f"{field_prefix}.institution_id",
        )
