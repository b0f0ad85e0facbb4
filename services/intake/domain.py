"""Intake's rules: who is in a household, what may leave intake, how a case moves. No I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import pesel as pesel_checker

from shared.auth import Principal, Role
from shared.codes import AgeBand, CaseOutcome, NotifiedBy, Reason, Sector
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.events import (
    CaseAnonymised,
    CaseClosed,
    CaseConsentGiven,
    CaseConsentWithdrawn,
    CaseOpened,
    CaseReopened,
)
from shared.teryt import Gmina, terc


@dataclass(frozen=True)
class Contact:
    """How to reach a member; personal data, it never leaves intake in an event."""

    phone: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Member:
    person_id: UUID
    first_name: str
    last_name: str
    birth_date: date
    sex: str  # "F" or "M"
    relation: str
    pesel: str | None = None
    contact: Contact = field(default_factory=Contact)


@dataclass(frozen=True)
class Consent:
    """Consent to share the family's data within the partner team (PZK).

    `scope` lists the sectors the family agreed to share with; empty means every sector of the PZK.
    """

    given_on: date
    scope: tuple[Sector, ...] = ()

    def covers(self, sector: Sector) -> bool:
        return not self.scope or sector in self.scope


def check_pesel(pesel: str, birth_date: date, sex: str, *, field: str) -> None:
    """A PESEL must be valid and agree with the date of birth and sex given beside it."""
    try:
        pesel_checker.validate(pesel)
    except StdnumError as exc:
        raise InvalidInput("invalid_pesel", f"PESEL is not valid: {exc}", field=field) from exc
    if pesel_checker.get_birth_date(pesel) != birth_date:
        raise InvalidInput(
            "pesel_birth_date_mismatch", "PESEL does not match the date of birth", field=field
        )
    if pesel_checker.get_gender(pesel) != sex:
        raise InvalidInput("pesel_sex_mismatch", "PESEL does not match the sex", field=field)


# No one helped today was born before this; an earlier date is a typing error (0001-01-01).
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def age_bands(members: list[Member], day: date) -> dict[AgeBand, int]:
    return dict(Counter(AgeBand.of_age(age_on(m.birth_date, day)) for m in members))


# --- lifecycle --------------------------------------------------------------------------------


class CaseStatus(StrEnum):
    OPENED = "opened"
    IN_DIAGNOSIS = "in_diagnosis"
    IN_SUPPORT = "in_support"
    CLOSED = "closed"
    REOPENED = "reopened"


class Step(StrEnum):
    """What can happen to a case; the history records these words."""

    OPEN = "open"
    SEND_TO_DIAGNOSIS = "send_to_diagnosis"
    START_SUPPORT = "start_support"  # the family agreed to its plan (IPW): support starts
    CLOSE = "close"
    REOPEN = "reopen"
    GIVE_CONSENT = "give_consent"  # consent recorded after opening; the status stays
    WITHDRAW_CONSENT = "withdraw_consent"  # RODO art. 7(3); the status stays


_STILL_OPEN = (
    CaseStatus.OPENED,
    CaseStatus.IN_DIAGNOSIS,
    CaseStatus.IN_SUPPORT,
    CaseStatus.REOPENED,
)
TRANSITIONS: dict[tuple[CaseStatus, Step], CaseStatus] = {
    (CaseStatus.OPENED, Step.SEND_TO_DIAGNOSIS): CaseStatus.IN_DIAGNOSIS,
    (CaseStatus.REOPENED, Step.SEND_TO_DIAGNOSIS): CaseStatus.IN_DIAGNOSIS,
    (CaseStatus.OPENED, Step.START_SUPPORT): CaseStatus.IN_SUPPORT,
    (CaseStatus.IN_DIAGNOSIS, Step.START_SUPPORT): CaseStatus.IN_SUPPORT,
    (CaseStatus.REOPENED, Step.START_SUPPORT): CaseStatus.IN_SUPPORT,
    **{(s, Step.CLOSE): CaseStatus.CLOSED for s in _STILL_OPEN},
    # With consent a reopened case is before the PZK again at once (see CaseState.reopen).
    (CaseStatus.CLOSED, Step.REOPEN): CaseStatus.REOPENED,
    # Kept for clients that send a reopened case to diagnosis: it is there already.
    (CaseStatus.IN_DIAGNOSIS, Step.SEND_TO_DIAGNOSIS): CaseStatus.IN_DIAGNOSIS,
}

_STATUS_PL = {
    CaseStatus.OPENED: "otwarta",
    CaseStatus.IN_DIAGNOSIS: "w diagnozie",
    CaseStatus.IN_SUPPORT: "we wsparciu",
    CaseStatus.CLOSED: "zamknięta",
    CaseStatus.REOPENED: "wznowiona",
}


def is_open(status: CaseStatus) -> bool:
    return status is not CaseStatus.CLOSED


def next_status(status: CaseStatus, step: Step, *, consent: Consent | None = None) -> CaseStatus:
    """The status after `step`, or Conflict when the step is out of order for this case."""
    target = TRANSITIONS.get((status, step))
    if target is None:
        raise Conflict(
            "invalid_transition",
            f"the case is {status} ({_STATUS_PL[status]}): {step} is not possible now",
            field="status",
        )
    if step is Step.SEND_TO_DIAGNOSIS and consent is None:
        raise Conflict(
            "no_consent",
            "without consent to share data within the PZK the case cannot go to diagnosis",
            field="consent",
        )
    return target


@dataclass(frozen=True)
class CaseState:
    """A stored case as the lifecycle sees it: no person, only what the rules need."""

    case_id: UUID
    gmina: Gmina
    status: CaseStatus
    consent: Consent | None
    opened_on: date
    consent_withdrawn_on: date | None = None
    round: int = 1  # 1 from the opening, +1 at each reopening

    def close(
        self, outcome: CaseOutcome, closed_on: date, today: date
    ) -> tuple[CaseStatus, CaseClosed]:
        status = next_status(self.status, Step.CLOSE)
        if not self.opened_on <= closed_on <= today:
            raise InvalidInput(
                "closed_on_out_of_range",
                f"a case opened on {self.opened_on} closes between then and today",
                field="closed_on",
            )
        return status, CaseClosed(
            case_id=self.case_id,
            place=self.gmina.place,
            closed_on=closed_on,
            outcome=outcome,
            round=self.round,
        )

    def reopen(self, reopened_on: date) -> tuple[CaseStatus, CaseReopened]:
        """A reopening starts the case's next round. With consent the case is before the PZK
        again at once (`in_diagnosis`): diagnosis reopens its diagnosis for review on
        case.reopened.v1, and the case goes into support when that review is concluded.
        Without consent it waits (`reopened`) for consent, as an opened case does."""
        status = next_status(self.status, Step.REOPEN)
        if self.consent is not None:
            status = next_status(status, Step.SEND_TO_DIAGNOSIS, consent=self.consent)
        return status, CaseReopened(
            case_id=self.case_id,
            place=self.gmina.place,
            reopened_on=reopened_on,
            round=self.round + 1,
        )

    def send_to_diagnosis(self) -> CaseStatus:
        return next_status(self.status, Step.SEND_TO_DIAGNOSIS, consent=self.consent)

    def give_consent(
        self, given_on: date, scope: list[Sector], today: date
    ) -> tuple[Consent, CaseStatus, CaseConsentGiven]:
        """Consent given after opening: a case still with the centre (opened, or reopened
        without consent) goes to the PZK's diagnosis as one opened with consent would; any
        other open case keeps its status."""
        if not is_open(self.status):
            raise Conflict(
                "case_closed",
                f"the case is {self.status} ({_STATUS_PL[self.status]}): reopen it first",
                field="consent",
            )
        if self.consent is not None:
            raise Conflict(
                "consent_already_given",
                f"the case already has consent, given on {self.consent.given_on}",
                field="consent",
            )
        if not self.opened_on <= given_on <= today:
            raise InvalidInput(
                "consent_given_on_out_of_range",
                f"consent to a case opened on {self.opened_on} is dated between then and today",
                field="given_on",
            )
        if self.consent_withdrawn_on is not None and given_on < self.consent_withdrawn_on:
            raise InvalidInput(
                "consent_given_before_withdrawal",
                f"consent was withdrawn on {self.consent_withdrawn_on}; "
                "consent given again is dated on that day or later",
                field="given_on",
            )
        consent = Consent(given_on=given_on, scope=tuple(dict.fromkeys(scope)))
        status = (
            next_status(self.status, Step.SEND_TO_DIAGNOSIS, consent=consent)
            if self.status in (CaseStatus.OPENED, CaseStatus.REOPENED)
            else self.status
        )
        event = CaseConsentGiven(
            case_id=self.case_id,
            place=self.gmina.place,
            given_on=given_on,
            round=self.round,
            scope=consent.scope,
        )
        return consent, status, event

    def withdraw_consent(
        self, withdrawn_on: date, today: date
    ) -> tuple[CaseStatus, CaseConsentWithdrawn]:
        """The family withdraws its consent (RODO art. 7(3)): sharing within the PZK ends from
        `withdrawn_on`; the case stays with the centre in the status it has. Possible on a
        closed case too: consent also covers what the PZK keeps after the closing."""
        if self.consent is None:
            raise Conflict(
                "no_consent",
                "the case has no consent to share data within the PZK to withdraw",
                field="consent",
            )
        if not self.consent.given_on <= withdrawn_on <= today:
            raise InvalidInput(
                "consent_withdrawn_on_out_of_range",
                f"consent given on {self.consent.given_on} is withdrawn between then and today",
                field="withdrawn_on",
            )
        event = CaseConsentWithdrawn(
            case_id=self.case_id, place=self.gmina.place, withdrawn_on=withdrawn_on
        )
        return self.status, event

    def start_support(self, plan_round: int) -> CaseStatus | None:
        """On the plan of the case's current round agreed or revised (support starts when the
        family agrees to its plan); None when the case has no use for it (closed, already in
        support, or the plan is of an earlier round arriving late) — an event is a fact, not a
        request to refuse."""
        if plan_round < self.round:
            return None
        return TRANSITIONS.get((self.status, Step.START_SUPPORT))


def decide_consent(
    consent_to_share: bool | None, given_on: date | None, scope: list[Sector], today: date
) -> Consent | None:
    """The plain flag (consent_to_share) and the consent object (given_on, scope) must agree;
    one of them is required: a request may say only yes or no, or give the consent's details."""
    if given_on is not None:
        if consent_to_share is False:
            raise InvalidInput(
                "consent_contradiction",
                "consent details given but consent_to_share is false",
                field="consent_to_share",
            )
        return Consent(given_on=given_on, scope=tuple(dict.fromkeys(scope)))
    if consent_to_share is None:
        raise InvalidInput(
            "consent_required",
            "say whether the family consents to sharing data within the PZK",
            field="consent_to_share",
        )
    return Consent(given_on=today) if consent_to_share else None


# --- who may read personal data --------------------------------------------------------------


def may_read_persons(
    principal: Principal,
    case_id: UUID,
    case: tuple[str, Consent | None] | None,
    granted: list[Sector],
) -> str:
    """The gmina of the case whose minimal personal data the principal may read, or an error.

    The gmina's own staff may; institution staff only under a live grant (an accepted referral)
    in a sector the family's consent covers. Staff get the same 403 whether the case exists or
    not, so that they learn nothing without a grant.
    """
    if principal.role is Role.INSTITUTION_STAFF:
        if case is not None and case[1] is None and granted:
            # The family withdrew its consent: the support may go on as the institution's own
            # relation with the family, but intake shares nothing with it any more.
            raise Forbidden(
                "consent_withdrawn",
                f"the family withdrew its consent to share data of case {case_id}",
            )
        if case is None or case[1] is None or not any(case[1].covers(s) for s in granted):
            raise Forbidden(
                "no_access_grant", f"your institution has no accepted referral for case {case_id}"
            )
        return case[0]
    if principal.role not in (Role.CASEWORKER, Role.COORDINATOR):
        raise Forbidden("role_not_allowed", f"role {principal.role} may not read personal data")
    if case is None:
        raise NotFound("case_not_found", f"no case {case_id}")
    principal.require_gmina(case[0])
    return case[0]


# --- opening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    case_id: UUID
    gmina: Gmina
    members: list[Member]
    reasons: list[Reason]
    notified_by: NotifiedBy
    consent: Consent | None
    opened_on: date
    interview_summary: str = ""

    @property
    def consent_to_share(self) -> bool:
        return self.consent is not None

    @property
    def status(self) -> CaseStatus:
        """With consent the case goes to the PZK's diagnosis at once (diagnosis opens it on
        case.opened.v1); without, it stays with the centre."""
        return CaseStatus.IN_DIAGNOSIS if self.consent else CaseStatus.OPENED

    def opened_event(self) -> CaseOpened:
        """What the rest of the system learns: codes, bands and counts, never a person."""
        return CaseOpened(
            case_id=self.case_id,
            place=self.gmina.place,
            opened_on=self.opened_on,
            household_size=len(self.members),
            age_bands=age_bands(self.members, self.opened_on),
            reasons=sorted(set(self.reasons), key=list(Reason).index),
            notified_by=self.notified_by,
            consent_to_share=self.consent_to_share,
            consent_scope=list(self.consent.scope) if self.consent else [],
        )


def open_case(
    *,
    gmina: Gmina,
    members: list[Member],
    reasons: list[Reason],
    notified_by: NotifiedBy,
    consent: Consent | None,
    today: date,
    interview_summary: str = "",
) -> NewCase:
    if not members:
        raise InvalidInput("no_members", "a household has at least one member", field="members")
    for i, m in enumerate(members):
        if m.birth_date > today:
            raise InvalidInput(
                "birth_date_in_future",
                "date of birth is in the future",
                field=f"members[{i}].birth_date",
            )
        if m.birth_date < EARLIEST_BIRTH_DATE:
            raise InvalidInput(
                "birth_date_too_early",
                f"date of birth before {EARLIEST_BIRTH_DATE.isoformat()}",
                field=f"members[{i}].birth_date",
            )
        if m.pesel is not None:
            check_pesel(m.pesel, m.birth_date, m.sex, field=f"members[{i}].pesel")
    pesels = [m.pesel for m in members if m.pesel]
    if len(pesels) != len(set(pesels)):
        raise InvalidInput(
            "duplicate_pesel", "the same PESEL twice in one household", field="members"
        )
    if not reasons:
        raise InvalidInput("no_reasons", "at least one reason for assistance", field="reasons")
    if consent is not None and consent.given_on > today:
        raise InvalidInput(
            "consent_in_future", "consent cannot be dated in the future", field="consent.given_on"
        )
    return NewCase(
        case_id=uuid4(),
        gmina=gmina,
        members=members,
        reasons=reasons,
        notified_by=notified_by,
        consent=consent,
        opened_on=today,
        interview_summary=interview_summary,
    )


def duplicate_case(
    gmina: str,
    pesels: Sequence[str | None],
    open_cases: Mapping[str, UUID],
    field: str = "members[{i}].pesel",
) -> Conflict | None:
    """A person with a PESEL has at most one open case in a gmina: the refusal of a second
    (for an opening, an import's line, a reopening, a joining member or a transfer), naming
    the first of `pesels` that has an open case; `field` is formatted with its index `i`."""
    for i, pesel in enumerate(pesels):
        if pesel and pesel in open_cases:
            return Conflict(
                "duplicate_case",
                f"this person already has an open case {open_cases[pesel]} in gmina {gmina}",
                field=field.format(i=i),
            )
    return None


def new_member(**fields: object) -> Member:
    """A household member; a person without PESEL is known by the internal id alone."""
    return Member(person_id=uuid4(), **fields)  # type: ignore[arg-type]


# --- retention (RODO art. 5(1)(e): kept no longer than necessary) ------------------------------

ANONYMISED_FIELDS = (
    "first_name",
    "last_name",
    "pesel",
    "birth_date (year kept)",
    "phone",
    "email",
    "address",
    "interview_summary",
    "interview entries",
    "case notes",
)


def retention_cutoff(today: date, retention_days: int) -> date:
    """Cases closed before this day have been closed longer than the retention period."""
    return today - timedelta(days=retention_days)


def anonymised_event(case_id: UUID, gmina: str, today: date) -> CaseAnonymised:
    """What the other services learn of an anonymisation: they erase what they hold."""
    return CaseAnonymised(case_id=case_id, place=terc().gmina(gmina).place, anonymised_on=today)


def anonymisation_note(closed_on: date, retention_days: int) -> str:
    """What the audit entry of an anonymisation says."""
    return (
        f"retention: closed on {closed_on}, more than {retention_days} days ago; "
        f"anonymised {', '.join(ANONYMISED_FIELDS)}"
    )
