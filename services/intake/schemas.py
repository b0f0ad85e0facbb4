"""What intake's API takes and answers; an opening's body becomes a NewCase here, so a single
POST and every line of a bulk import pass the same rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.intake import domain
from services.intake.domain import CaseStatus
from shared.codes import CaseOutcome, NotifiedBy, Sector
from shared.events import ReasonCode
from shared.isodate import IsoDate
from shared.teryt import terc
from shared.text import CHECK_SINGLE_LINE, MultiLine, SingleLine


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{6,19}$"), CHECK_SINGLE_LINE] | None = (
        None
    )
    email: (
        Annotated[
            str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200), CHECK_SINGLE_LINE
        ]
        | None
    ) = None
    address: SingleLine | None = Field(default=None, max_length=300)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: SingleLine = Field(min_length=1, max_length=100)
    last_name: SingleLine = Field(min_length=1, max_length=100)
    birth_date: IsoDate
    sex: Literal["F", "M"]
    relation: SingleLine = Field(default="head", max_length=50)
    pesel: str | None = Field(default=None, pattern=r"^\d{11}$")
    contact: ContactIn | None = None


class ConsentIn(BaseModel):
    """Zgoda na udostępnienie danych w PZK: when given and with which sectors."""

    model_config = ConfigDict(extra="forbid")
    given_on: IsoDate
    scope: list[Sector] = Field(
        default_factory=list, description="sectors the family agreed to; empty means all"
    )


class ConsentWithdrawalIn(BaseModel):
    """Cofnięcie zgody (RODO art. 7 ust. 3): the day the family withdrew its consent."""

    model_config = ConfigDict(extra="forbid")
    withdrawn_on: IsoDate


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gmina: str = Field(pattern=r"^\d{7}$", description="TERYT gmina code")
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    reasons: list[ReasonCode] = Field(
        min_length=1, description="art. 7 codes as the statute numbers them (10 is repealed)"
    )
    notified_by: NotifiedBy
    consent_to_share: bool | None = None
    consent: ConsentIn | None = None
    interview_summary: MultiLine = Field(
        default="", max_length=20_000, description="wywiad środowiskowy; stays in intake"
    )

    def new_case(self, today: date) -> domain.NewCase:
        """The case this body opens, or the InvalidInput naming the field at fault."""
        return domain.open_case(
            gmina=terc().gmina(self.gmina, field="gmina"),
            members=[
                domain.new_member(
                    **m.model_dump(exclude={"contact"}),
                    contact=domain.Contact(**(m.contact.model_dump() if m.contact else {})),
                )
                for m in self.members
            ],
            reasons=self.reasons,
            notified_by=self.notified_by,
            consent=domain.decide_consent(
                self.consent_to_share,
                self.consent.given_on if self.consent else None,
                self.consent.scope if self.consent else [],
                today,
            ),
            today=today,
            interview_summary=self.interview_summary,
        )


class CaseOut(BaseModel):
    case_id: UUID
    gmina: str
    status: CaseStatus
    opened_on: date


class CaseSummaryOut(BaseModel):
    """A case in a list: codes and dates only, no personal data."""

    case_id: UUID
    gmina: str
    status: CaseStatus
    reasons: list[str] = Field(description="art. 7 codes")
    notified_by: str
    consent_to_share: bool | None
    opened_on: date
    closed_on: date | None
    outcome: str | None
    household_size: int
    assigned_to: str | None = Field(
        default=None,
        description="the responsible caseworker (pracownik prowadzący): a staff member's subject",
    )
    assigned_on: date | None = Field(default=None, description="assigned since")


class ConsentOut(BaseModel):
    given_on: date
    scope: list[str] = Field(description="sectors; empty means all")


class HistoryEntryOut(BaseModel):
    at: datetime
    step: str
    from_status: str | None
    to_status: str
    outcome: str | None


class CaseOverviewOut(CaseSummaryOut):
    """A case's codes, consent and history: no one's personal data, so reading it is not
    audited."""

    consent: ConsentOut | None
    consent_withdrawn_on: date | None
    history: list[HistoryEntryOut]


class ContactOut(BaseModel):
    phone: str | None
    email: str | None
    address: str | None


class MemberRecordOut(BaseModel):
    """A household member as intake holds them (personal data: read with a reason)."""

    person_id: UUID
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    birth_year: int | None
    sex: str | None
    relation: str | None
    pesel: str | None
    contact: ContactOut
    joined_on: date | None = Field(default=None, description="joined the household")
    left_on: date | None = Field(default=None, description="left the household")


class ActedHistoryEntryOut(HistoryEntryOut):
    actor: str | None = Field(description="who took the step (a staff member's subject)")


class CaseRecordOut(CaseSummaryOut):
    """The whole case: codes, consent, interview summary, history and members (personal
    data); reading it is audited."""

    consent: ConsentOut | None
    consent_withdrawn_on: date | None
    interview_summary: str | None
    opened_by: str | None
    anonymised_at: datetime | None
    members: list[MemberRecordOut]
    history: list[ActedHistoryEntryOut]


class PersonOut(BaseModel):
    first_name: str | None
    last_name: str | None
    age: int | None = Field(description="none once anonymised")
    relation: str | None
    phone: str | None
    email: str | None


class PersonsOut(BaseModel):
    """The minimal personal data of those who work with the family."""

    case_id: UUID
    persons: list[PersonOut]


class AuditEntryOut(BaseModel):
    """Who read which case's personal data, when and why."""

    entry_id: int
    at: datetime
    subject: str
    role: str
    institution: UUID | None
    case_id: UUID | None = None
    access: str
    purpose: str | None


class ExportedCaseOut(CaseSummaryOut):
    consent: ConsentOut | None
    consent_withdrawn_on: date | None
    interview_summary: str | None
    opened_by: str | None
    anonymised_at: datetime | None
    history: list[ActedHistoryEntryOut]


class ExportedPersonOut(MemberRecordOut):
    anonymised_at: datetime | None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: CaseOutcome
    closed_on: IsoDate | None = None


class StatusOut(BaseModel):
    case_id: UUID
    status: CaseStatus


# --- bulk import ------------------------------------------------------------------------------


class ImportLine(CaseIn):
    """One line of an import file: an opening as POST /cases takes it, plus the case's reference
    in the software the gmina moves from (unique per gmina; what makes a re-run harmless)."""

    external_id: SingleLine = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")


class LineProblem(BaseModel):
    """Why a line was refused, as problem details (RFC 9457) with its line number."""

    line: int
    external_id: str | None = None
    type: str
    title: str
    status: int
    code: str
    detail: str
    field: str | None = None


class AlreadyImported(BaseModel):
    line: int
    external_id: str
    case_id: UUID


class ImportOut(BaseModel):
    import_id: UUID
    gmina: str
    lines: int = Field(description="non-blank lines read")
    imported: int
    already_imported: int
    rejected: int
    errors: list[LineProblem] = Field(description="the first rejected lines; `rejected` counts all")
    already: list[AlreadyImported] = Field(
        description="the first lines imported before; `already_imported` counts all"
    )
