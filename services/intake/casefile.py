"""Keeping a case file current: household changes with the checks of an opening, dated
interview entries and case notes, transfers to another gmina's OPS, and the caseworker's due
work. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

from services.intake.domain import (
    CaseStatus,
    Member,
    age_bands,
    check_pesel,
    is_open,
)
from shared.codes import AgeBand, Reason
from shared.errors import Conflict, InvalidInput, NotFound
from shared.events import CaseHouseholdChanged, CaseTransferred
from shared.teryt import Gmina

MAX_HOUSEHOLD = 30


def _must_be_open(status: CaseStatus) -> None:
    if not is_open(status):
        raise Conflict("case_closed", "sprawa jest zamknięta: najpierw ją wznów", field="status")


# --- the household ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Household:
    """A case as its household changes see it: who is in it (and who left) and its reasons."""

    case_id: UUID
    gmina: Gmina
    status: CaseStatus
    opened_on: date
    reasons: tuple[Reason, ...]
    members: tuple[Member, ...]
    left: frozenset[UUID] = frozenset()

    @property
    def present(self) -> list[Member]:
        return [m for m in self.members if m.person_id not in self.left]

    def figures(self, day: date) -> tuple[int, dict[AgeBand, int], tuple[Reason, ...]]:
        """What other services count: size, age bands on `day` (a member without a birth
        date, anonymised, is not banded), reasons."""
        dated = [m for m in self.present if m.birth_date is not None]
        return len(self.present), age_bands(dated, day), self.reasons

    def member(self, person_id: UUID) -> Member:
        for m in self.present:
            if m.person_id == person_id:
                return m
        raise NotFound("member_not_found", f"w gospodarstwie sprawy nie ma osoby {person_id}")

    def changed_event(self, before: Household, day: date) -> CaseHouseholdChanged | None:
        """The event for a change that alters what others count; None for one that does not
        (a name, a PESEL)."""
        size, bands, reasons = self.figures(day)
        if (size, bands, reasons) == before.figures(day):
            return None
        return CaseHouseholdChanged(
            case_id=self.case_id,
            place=self.gmina.place,
            changed_on=day,
            household_size=size,
            age_bands=bands,
            reasons=sorted(set(reasons), key=list(Reason).index),
        )


def _check_person(member: Member, today: date, field: str) -> None:
    """The checks of an opening for one person."""
    if member.birth_date > today:
        raise InvalidInput(
            "birth_date_in_future", "data urodzenia jest w przyszłości", field=f"{field}birth_date"
        )
    if member.pesel is not None:
        check_pesel(member.pesel, member.birth_date, member.sex, field=f"{field}pesel")


def _no_pesel_twice(household: Household, member: Member, field: str) -> None:
    others = [m.pesel for m in household.present if m.person_id != member.person_id]
    if member.pesel and member.pesel in others:
        raise InvalidInput(
            "duplicate_pesel", "ten sam PESEL dwa razy w jednym gospodarstwie", field=field
        )


def add_member(household: Household, member: Member, today: date) -> Household:
    """A person joins the household: the checks of an opening (the PESEL's duplicate in
    another open case of the gmina is the store's to find)."""
    _must_be_open(household.status)
    if len(household.present) >= MAX_HOUSEHOLD:
        raise InvalidInput(
            "household_too_large", f"gospodarstwo ma najwyżej {MAX_HOUSEHOLD} osób", field="members"
        )
    _check_person(member, today, "")
    _no_pesel_twice(household, member, "pesel")
    return replace(household, members=(*household.members, member))


def member_left(household: Household, person_id: UUID, left_on: date, today: date) -> Household:
    """A member left the household (moved out, died): kept in the file, no longer counted."""
    _must_be_open(household.status)
    household.member(person_id)
    if len(household.present) == 1:
        raise Conflict(
            "last_member",
            "to ostatnia osoba w gospodarstwie: zamknij sprawę zamiast tego",
            field="person_id",
        )
    if not household.opened_on <= left_on <= today:
        raise InvalidInput(
            "left_on_out_of_range",
            f"data odejścia między otwarciem sprawy ({household.opened_on}) a dniem dzisiejszym",
            field="left_on",
        )
    return replace(household, left=household.left | {person_id})


def correct_member(
    household: Household, person_id: UUID, changes: dict[str, object], today: date
) -> tuple[Household, Member]:
    """A name, date of birth, sex or PESEL corrected, with the checks of an opening; `changes`
    holds only the fields given (a PESEL given as None is removed)."""
    _must_be_open(household.status)
    before = household.member(person_id)
    if not changes:
        raise InvalidInput("nothing_to_correct", "podaj, co poprawić", field="first_name")
    after = replace(before, **changes)  # type: ignore[arg-type]
    if after.birth_date is None:
        raise InvalidInput("birth_date_required", "podaj datę urodzenia", field="birth_date")
    _check_person(after, today, "")
    _no_pesel_twice(household, after, "pesel")
    members = tuple(after if m.person_id == person_id else m for m in household.members)
    return replace(household, members=members), after


def revise_reasons(household: Household, reasons: list[Reason]) -> Household:
    _must_be_open(household.status)
    if not reasons:
        raise InvalidInput(
            "no_reasons", "co najmniej jeden powód udzielenia pomocy", field="reasons"
        )
    ordered = tuple(sorted(set(reasons), key=list(Reason).index))
    return replace(household, reasons=ordered)


# --- interview entries and notes ------------------------------------------------------------


class InterviewKind(StrEnum):
    HOME_INTERVIEW = "home_interview"  # the first environmental interview at the family's home
    UPDATE = "update"  # a later update of it


def interview_kind(conducted_on: date, today: date, earlier_entries: int) -> InterviewKind:
    if conducted_on > today:
        raise InvalidInput(
            "conducted_on_in_future", "wywiad nie może być datowany w przyszłości",
            field="conducted_on",
        )  # fmt: skip
    return InterviewKind.UPDATE if earlier_entries else InterviewKind.HOME_INTERVIEW


def check_note(noted_on: date, follow_up_on: date | None, today: date) -> None:
    if noted_on > today:
        raise InvalidInput(
            "noted_on_in_future", "notatka nie może być datowana w przyszłości", field="noted_on"
        )
    if follow_up_on is not None and follow_up_on < noted_on:
        raise InvalidInput(
            "follow_up_before_note",
            "termin dalszych działań nie może być wcześniejszy niż notatka",
            field="follow_up_on",
        )


# --- transfers to another gmina's OPS ------------------------------------------------------------


class TransferState(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Transfer:
    transfer_id: UUID
    case_id: UUID
    from_gmina: str
    to_gmina: str
    state: TransferState


def request_transfer(status: CaseStatus, gmina: str, to: Gmina, waiting: Transfer | None) -> None:
    """The sending OPS asks the OPS of the gmina the family moved to to take the case."""
    _must_be_open(status)
    if to.code == gmina:
        raise InvalidInput(
            "transfer_to_same_gmina", "sprawa jest już w tej gminie", field="to_gmina"
        )
    if waiting is not None:
        raise Conflict(
            "transfer_waiting",
            f"sprawa czeka już na przyjęcie przez gminę {waiting.to_gmina}",
            field="to_gmina",
        )


def waiting_transfer(transfer: Transfer | None, case_id: UUID) -> Transfer:
    if transfer is None or transfer.state is not TransferState.REQUESTED:
        raise NotFound("no_transfer_waiting", f"sprawa {case_id} nie czeka na przekazanie")
    return transfer


def accept_transfer(
    transfer: Transfer, status: CaseStatus, from_gmina: Gmina, to_gmina: Gmina, today: date
) -> CaseTransferred:
    """The receiving OPS takes the case: same id, same history, its gmina from now on."""
    _must_be_open(status)
    return CaseTransferred(
        case_id=transfer.case_id,
        place=to_gmina.place,
        from_place=from_gmina.place,
        transferred_on=today,
    )


# --- the responsible caseworker (pracownik prowadzący) -----------------------------------------


def reassign(current: str, assignee: str) -> bool:
    """Whether making `assignee` responsible changes anything. A subject is the identity
    provider's id as tokens carry it, so it is taken as written; one of blanks alone or with
    blanks around it is no one's."""
    if not assignee.strip() or assignee != assignee.strip():
        raise InvalidInput(
            "assignee_invalid",
            "podaj identyfikator pracownika bez spacji na początku i końcu",
            field="assignee",
        )
    return assignee != current


# --- the caseworker's due work --------------------------------------------------------------------

HOME_INTERVIEW_DAYS = 14  # the environmental interview within 14 days of the case being opened
INTERVIEW_UPDATE_DAYS = 182  # an update of the interview at least every six months


class WorkKind(StrEnum):
    HOME_INTERVIEW = "home_interview"
    INTERVIEW_UPDATE = "interview_update"
    FOLLOW_UP = "follow_up"
    TRANSFER_TO_ACCEPT = "transfer_to_accept"
    FOLLOW_UP_3_MONTHS = "follow_up_3_months"  # the family 3 months after closing
    FOLLOW_UP_6_MONTHS = "follow_up_6_months"  # and 6 months after


@dataclass(frozen=True)
class CaseDue:
    """What the worklist needs of one open case: dates only."""

    case_id: UUID
    opened_on: date
    last_interview_on: date | None
    last_entry_on: date | None  # the latest note or interview entry
    follow_ups: tuple[date, ...] = ()
    assigned_to: str | None = None  # the responsible caseworker's subject


@dataclass(frozen=True)
class WorkItem:
    case_id: UUID
    kind: WorkKind
    due_on: date
    overdue: bool


def due_work(cases: list[CaseDue], today: date, horizon_days: int) -> list[WorkItem]:
    """Work due by `today + horizon_days` (and everything overdue), soonest first: the home
    interview not yet recorded, an interview update due, a follow-up asked for in a note and
    not yet followed by a later note or interview entry."""
    until = today + timedelta(days=horizon_days)
    items: list[WorkItem] = []
    for case in cases:
        if case.last_interview_on is None:
            due = case.opened_on + timedelta(days=HOME_INTERVIEW_DAYS)
            items.append(WorkItem(case.case_id, WorkKind.HOME_INTERVIEW, due, due < today))
        else:
            due = case.last_interview_on + timedelta(days=INTERVIEW_UPDATE_DAYS)
            items.append(WorkItem(case.case_id, WorkKind.INTERVIEW_UPDATE, due, due < today))
        for follow_up in sorted(set(case.follow_ups)):
            if case.last_entry_on is not None and case.last_entry_on >= follow_up:
                continue  # something was recorded on or after the day asked for
            items.append(WorkItem(case.case_id, WorkKind.FOLLOW_UP, follow_up, follow_up < today))
    due_soon = [i for i in items if i.due_on <= until]
    return sorted(due_soon, key=lambda i: (i.due_on, str(i.case_id), i.kind))
