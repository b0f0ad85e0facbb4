"""What the case-file routes take and answer: search, household changes, interview entries,
notes, transfers and the worklist."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.intake.casefile import InterviewKind, TransferState, WorkKind
from services.intake.domain import CaseStatus
from services.intake.schemas import (
    AuditEntryOut,
    ExportedCaseOut,
    ExportedPersonOut,
    MemberIn,
)
from shared.events import ReasonCode
from shared.isodate import IsoDate
from shared.text import MultiLine, SingleLine

# --- search ------------------------------------------------------------------------------------


class SearchIn(BaseModel):
    """Terms of a search in the body, never in a URL (they are personal data). Several terms
    narrow the search; at least one is needed."""

    model_config = ConfigDict(extra="forbid")
    surname: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="the start of a surname; case and diacritics ignored (Zolkiewska finds"
        " Żółkiewska)",
    )
    pesel: str | None = Field(default=None, pattern=r"^\d{11}$")
    external_id: SingleLine | None = Field(
        default=None, min_length=1, max_length=100, description="reference in the old software"
    )
    gmina: str | None = Field(default=None, pattern=r"^\d{7}$", description="default: yours")
    reason: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="why you search (audited); or the X-Access-Reason header",
    )
    limit: int = Field(default=50, ge=1, le=100, description="persons found, at most")


class FoundPerson(BaseModel):
    person_id: UUID
    first_name: str
    last_name: str
    birth_date: date | None
    sex: str
    relation: str
    pesel: str | None
    left_household_on: date | None


class FoundCase(BaseModel):
    case_id: UUID
    gmina: str
    status: CaseStatus
    opened_on: date
    external_id: str | None
    persons: list[FoundPerson] = Field(description="the members who matched, Polish order")


class PossibleDuplicate(BaseModel):
    """An open case of a neighbouring gmina may hold the same person: only that it exists and
    which OPS holds it."""

    person_id: UUID | None = Field(description="the member found here; none: the PESEL searched")
    matched_by: Literal["pesel", "name_and_birth_date"]
    gmina: str
    gmina_name: str
    ops: str = Field(description="the centre to contact")


class SearchOut(BaseModel):
    cases: list[FoundCase]
    possible_duplicates: list[PossibleDuplicate]
    limited: bool = Field(description="more persons matched than `limit`: narrow the search")


# --- household changes ----------------------------------------------------------------------


class MemberAddIn(MemberIn):
    joined_on: IsoDate | None = Field(default=None, description="default: today")


class MemberLeftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left_on: IsoDate


class MemberCorrectionIn(BaseModel):
    """Only the fields given are corrected; `pesel: null` removes a wrong PESEL."""

    model_config = ConfigDict(extra="forbid")
    first_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    last_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    birth_date: IsoDate | None = None
    sex: Literal["F", "M"] | None = None
    pesel: str | None = Field(default=None, pattern=r"^\d{11}$")
    relation: SingleLine | None = Field(default=None, min_length=1, max_length=50)


class ReasonsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reasons: list[ReasonCode] = Field(
        min_length=1, max_length=20, description="art. 7 codes as the statute numbers them"
    )


class HouseholdChangeOut(BaseModel):
    case_id: UUID
    person_id: UUID | None = None
    household_size: int
    counted: bool = Field(description="the change alters what others count: an event followed")


# --- interview entries and notes ------------------------------------------------------------


class InterviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conducted_on: IsoDate
    summary: MultiLine = Field(min_length=1, max_length=20_000, description="stays in intake")


class InterviewEntryOut(BaseModel):
    entry_id: UUID
    kind: InterviewKind
    conducted_on: date
    summary: str
    author: str
    recorded_at: datetime


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: MultiLine = Field(min_length=1, max_length=10_000, description="stays in intake")
    noted_on: IsoDate | None = Field(default=None, description="default: today")
    follow_up_on: IsoDate | None = Field(default=None, description="when to come back to it")


class NoteOut(BaseModel):
    note_id: UUID
    noted_on: date
    text: str
    follow_up_on: date | None
    author: str
    recorded_at: datetime


# --- transfers and the worklist ---------------------------------------------------------------


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_gmina: str = Field(pattern=r"^\d{7}$", description="the gmina the family moved to")


class TransferOut(BaseModel):
    transfer_id: UUID
    case_id: UUID
    from_gmina: str
    to_gmina: str
    state: TransferState


class WaitingTransferOut(BaseModel):
    """A transfer waiting for the receiving OPS: codes and counts only."""

    transfer_id: UUID
    case_id: UUID
    direction: Literal["in", "out"]
    from_gmina: str
    to_gmina: str
    requested_at: datetime
    status: CaseStatus
    opened_on: date
    household_size: int
    reasons: list[str]


class WorkItemOut(BaseModel):
    case_id: UUID
    kind: WorkKind
    due_on: date
    overdue: bool
    assigned_to: str | None = Field(
        default=None,
        description="the case's responsible caseworker (none for a transfer still to accept)",
    )


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: SingleLine = Field(
        min_length=1,
        max_length=200,
        description="the staff member's subject (their id at the identity provider, as in "
        "their token's `sub`)",
    )


class AssignmentOut(BaseModel):
    """Who is responsible for the case (pracownik prowadzący): staff data, no family data."""

    case_id: UUID
    assigned_to: str
    assigned_on: date
    previous: str | None = Field(description="who was responsible before this change")


class WorklistOut(BaseModel):
    gmina: str
    as_of: date
    items: list[WorkItemOut]
    limited: bool = Field(description="more items were due than `limit`: the soonest are shown")


# --- the access right (RODO art. 15) ----------------------------------------------------------


class ExportRecordOut(BaseModel):
    """One case of the person's: its codes and history, their own record, the case's interview
    entries and notes, and who read it."""

    case: ExportedCaseOut
    person: ExportedPersonOut
    interview_entries: list[InterviewEntryOut]
    notes: list[NoteOut]
    read_by: list[AuditEntryOut]


class PersonExportOut(BaseModel):
    """All that intake holds on one person in your scope."""

    person_id: UUID
    records: list[ExportRecordOut]
    cases_outside_your_scope: int
