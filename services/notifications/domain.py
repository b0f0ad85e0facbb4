"""Who is told what (powiadomienia): the rules that turn an event into notifications for an
audience, the reminders of a family's follow-up, and the words of an e-mail. No I/O.

Notifications are addressed to an audience, not to a person: the staff of an institution, the
coordinator or the caseworkers of a gmina. Who they are comes from the token's role and scope
when someone reads their inbox, so a coordinator who starts next month sees what waits for the
gmina's coordinator. Events carry no staff ids and need none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseOpened,
    CaseReopened,
    DiagnosisCompleted,
    Event,
    SupportAssigned,
    SupportCompleted,
    SupportOverdue,
    SupportUnassignable,
)
from shared.mail import case_reference

# Notification ids derive from what they are about, so the same fact seen twice (a redelivery,
# the catch-up from the event log beside the live queue) is one notification.
NAMESPACE = UUID("6b0f5a0e-6f43-4f0b-9d5c-2f5f1c7e8a11")
# A family's follow-up after closing (ewaluacja trwałości), months after the closing day.
FOLLOW_UP_MONTHS = (3, 6)


class Kind(StrEnum):
    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_OVERDUE = "referral_overdue"
    DIAGNOSIS_WAITING = "diagnosis_waiting"
    SUPPORT_UNASSIGNABLE = "support_unassignable"
    DIAGNOSIS_COMPLETED = "diagnosis_completed"
    SUPPORT_COMPLETED = "support_completed"
    FOLLOW_UP_DUE = "follow_up_due"


class Audience(StrEnum):
    """A role as it reads its inbox; the scope decides which gmina or institution."""

    INSTITUTION_STAFF = "institution_staff"
    COORDINATOR = "coordinator"
    CASEWORKER = "caseworker"


AUDIENCE_OF: dict[Kind, Audience] = {
    Kind.REFERRAL_RECEIVED: Audience.INSTITUTION_STAFF,
    Kind.REFERRAL_OVERDUE: Audience.COORDINATOR,
    Kind.DIAGNOSIS_WAITING: Audience.COORDINATOR,
    Kind.SUPPORT_UNASSIGNABLE: Audience.COORDINATOR,
    Kind.DIAGNOSIS_COMPLETED: Audience.CASEWORKER,
    Kind.SUPPORT_COMPLETED: Audience.CASEWORKER,
    Kind.FOLLOW_UP_DUE: Audience.CASEWORKER,
}

# What a person reads, in Polish: the title of the notification and of its e-mail.
TITLES: dict[Kind, str] = {
    Kind.REFERRAL_RECEIVED: "Nowe skierowanie do Twojej instytucji",
    Kind.REFERRAL_OVERDUE: "Skierowanie po terminie",
    Kind.DIAGNOSIS_WAITING: "Diagnoza czeka na oceny członków zespołu",
    Kind.SUPPORT_UNASSIGNABLE: "Żadna instytucja nie może podjąć wsparcia",
    Kind.DIAGNOSIS_COMPLETED: "Diagnoza sprawy zakończona",
    Kind.SUPPORT_COMPLETED: "Wsparcie zrealizowane",
    Kind.FOLLOW_UP_DUE: "Czas na badanie trwałości zmiany w rodzinie",
}


def kinds_for(role: str) -> list[Kind]:
    """The kinds a role receives (and may choose to get by e-mail)."""
    return [kind for kind, audience in AUDIENCE_OF.items() if audience == role]


@dataclass(frozen=True)
class Notification:
    notification_id: UUID
    kind: Kind
    audience: Audience
    gmina: str
    case_id: UUID
    institution_id: UUID | None = None  # the addressee, for institution staff
    referral_id: UUID | None = None
    diagnosis_id: UUID | None = None
    details: dict[str, str] = field(default_factory=dict)  # codes only: support_type, stage
    occurred_on: date | None = None


def _id(kind: Kind, *about: object) -> UUID:
    return uuid5(NAMESPACE, ":".join([kind.value, *(str(a) for a in about)]))


def notifications_of(event: Event, *, today: date) -> list[Notification]:
    """What an event tells whom. Each notification's id is fixed by what it is about, so an
    event arriving twice, or two events of one fact, make one notification."""
    match event:
        case SupportAssigned():
            return [
                Notification(
                    _id(Kind.REFERRAL_RECEIVED, event.referral_id),
                    Kind.REFERRAL_RECEIVED,
                    Audience.INSTITUTION_STAFF,
                    event.place.gmina,
                    event.case_id,
                    institution_id=event.institution_id,
                    referral_id=event.referral_id,
                    details={"support_type": event.support_type.value},
                    occurred_on=event.accept_by.date(),
                )
            ]
        case SupportOverdue():
            return [
                Notification(
                    _id(Kind.REFERRAL_OVERDUE, event.referral_id, event.stage),
                    Kind.REFERRAL_OVERDUE,
                    Audience.COORDINATOR,
                    event.place.gmina,
                    event.case_id,
                    institution_id=event.institution_id,
                    referral_id=event.referral_id,
                    details={"support_type": event.support_type.value, "stage": event.stage},
                    occurred_on=today,
                )
            ]
        case SupportUnassignable():
            return [
                Notification(
                    _id(Kind.SUPPORT_UNASSIGNABLE, event.recommendation_id, event.attempts),
                    Kind.SUPPORT_UNASSIGNABLE,
                    Audience.COORDINATOR,
                    event.place.gmina,
                    event.case_id,
                    details={"support_type": event.support_type.value},
                    occurred_on=today,
                )
            ]
        case CaseOpened() if event.consent_to_share:
            return [_diagnosis_waiting(event.case_id, event.place.gmina, 1, event.opened_on)]
        case CaseConsentGiven():
            return [
                _diagnosis_waiting(event.case_id, event.place.gmina, event.round, event.given_on)
            ]
        case CaseReopened():
            return [
                _diagnosis_waiting(event.case_id, event.place.gmina, event.round, event.reopened_on)
            ]
        case DiagnosisCompleted():
            return [
                Notification(
                    _id(Kind.DIAGNOSIS_COMPLETED, event.diagnosis_id, event.round),
                    Kind.DIAGNOSIS_COMPLETED,
                    Audience.CASEWORKER,
                    event.place.gmina,
                    event.case_id,
                    diagnosis_id=event.diagnosis_id,
                    occurred_on=event.completed_on,
                )
            ]
        case SupportCompleted():
            return [
                Notification(
                    _id(Kind.SUPPORT_COMPLETED, event.referral_id),
                    Kind.SUPPORT_COMPLETED,
                    Audience.CASEWORKER,
                    event.place.gmina,
                    event.case_id,
                    institution_id=event.institution_id,
                    referral_id=event.referral_id,
                    details={
                        "support_type": event.support_type.value,
                        "outcome": event.outcome.value,
                    },
                    occurred_on=today,
                )
            ]
    return []


def _diagnosis_waiting(case_id: UUID, gmina: str, round_: int, on: date) -> Notification:
    # One per case and round: an opening with consent and a consent given later in the same
    # round are one diagnosis waiting.
    return Notification(
        _id(Kind.DIAGNOSIS_WAITING, case_id, round_),
        Kind.DIAGNOSIS_WAITING,
        Audience.COORDINATOR,
        gmina,
        case_id,
        details={"round": str(round_)},
        occurred_on=on,
    )


@dataclass(frozen=True)
class Reminder:
    """A follow-up of a family due on a day after its case closed (round by round)."""

    case_id: UUID
    round: int
    months: int
    gmina: str
    due_on: date


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - some day of every month exists


def follow_ups_of(event: CaseClosed) -> list[Reminder]:
    """The family's follow-ups at 3 and 6 months after the closing of a round."""
    return [
        Reminder(event.case_id, event.round, m, event.place.gmina, add_months(event.closed_on, m))
        for m in FOLLOW_UP_MONTHS
    ]


def follow_up_due(reminder: Reminder) -> Notification:
    return Notification(
        _id(Kind.FOLLOW_UP_DUE, reminder.case_id, reminder.round, reminder.months),
        Kind.FOLLOW_UP_DUE,
        Audience.CASEWORKER,
        reminder.gmina,
        reminder.case_id,
        details={"months": str(reminder.months), "round": str(reminder.round)},
        occurred_on=reminder.due_on,
    )


STAGES = {"acceptance": "przyjęcia", "completion": "realizacji"}


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def mail_of(notification: Notification, link: str) -> Mail:
    """The e-mail about a notification: its kind, the case's reference and a link. No name,
    no support in words of the family's life, nothing a reader of the mailbox could tie to a
    person: what it is about is behind the link, after sign-in."""
    title = TITLES[notification.kind]
    reference = case_reference(notification.case_id)
    lines = [
        "Dzień dobry,",
        "",
        f"{title} (sprawa {reference}).",
    ]
    if notification.kind is Kind.REFERRAL_OVERDUE:
        stage = STAGES.get(notification.details.get("stage", ""), "")
        lines.append(f"Minął termin {stage} skierowania.".replace("  ", " "))
    lines += [
        "",
        "Szczegóły po zalogowaniu do systemu Kooperacja:",
        link,
        "",
        "Wiadomość wysłana automatycznie. Nie zawiera danych osobowych; rodzaje powiadomień "
        "wysyłanych e-mailem wybierzesz w ustawieniach powiadomień.",
    ]
    return Mail(subject=f"Kooperacja: {title} (sprawa {reference})", body="\n".join(lines))
