"""Intake's rules: who is in a household, what may leave intake, how a case moves. No I/O."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import pesel as pesel_checker

from shared.codes import AgeBand, NotifiedBy, Reason
from shared.errors import InvalidInput
from shared.events import CaseOpened, Place
from shared.teryt import Gmina


@dataclass(frozen=True)
class Member:
    person_id: UUID
    first_name: str
    last_name: str
    birth_date: date
    sex: str  # "F" or "M"
    relation: str
    pesel: str | None = None


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


def age_on(birth_date: date, day: date) -> int:
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def age_bands(members: list[Member], day: date) -> dict[AgeBand, int]:
    return dict(Counter(AgeBand.of_age(age_on(m.birth_date, day)) for m in members))


def place_of(gmina: Gmina) -> Place:
    return Place(gmina=gmina.code, powiat=gmina.powiat, region=gmina.region, variant=gmina.variant)


@dataclass(frozen=True)
class NewCase:
    case_id: UUID
    gmina: Gmina
    members: list[Member]
    reasons: list[Reason]
    notified_by: NotifiedBy
    consent_to_share: bool
    opened_on: date

    def opened_event(self) -> CaseOpened:
        """What the rest of the system learns: codes, bands and counts, never a person."""
        return CaseOpened(
            case_id=self.case_id,
            place=place_of(self.gmina),
            opened_on=self.opened_on,
            household_size=len(self.members),
            age_bands=age_bands(self.members, self.opened_on),
            reasons=sorted(set(self.reasons), key=list(Reason).index),
            notified_by=self.notified_by,
            consent_to_share=self.consent_to_share,
        )


def open_case(
    *,
    gmina: Gmina,
    members: list[Member],
    reasons: list[Reason],
    notified_by: NotifiedBy,
    consent_to_share: bool,
    today: date,
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
        if m.pesel is not None:
            check_pesel(m.pesel, m.birth_date, m.sex, field=f"members[{i}].pesel")
    pesels = [m.pesel for m in members if m.pesel]
    if len(pesels) != len(set(pesels)):
        raise InvalidInput(
            "duplicate_pesel", "the same PESEL twice in one household", field="members"
        )
    if not reasons:
        raise InvalidInput("no_reasons", "at least one reason for assistance", field="reasons")
    return NewCase(
        case_id=uuid4(),
        gmina=gmina,
        members=members,
        reasons=reasons,
        notified_by=notified_by,
        consent_to_share=consent_to_share,
        opened_on=today,
    )


def new_member(**fields: object) -> Member:
    """A household member; a person without PESEL is known by the internal id alone."""
    return Member(person_id=uuid4(), **fields)  # type: ignore[arg-type]
