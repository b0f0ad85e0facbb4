"""Polish names of the codes the APIs answer with, for pages (GLOSSARY.md's words).
A code without a name here is shown as itself, so a new code is visible, not hidden."""

from __future__ import annotations

from shared.codes import (
    CASE_OUTCOME_LABELS,
    DECISION_KIND_LABELS,
    DECLINE_REASON_LABELS,
    NEED_AREA_LABELS,
    NOTIFIED_BY_LABELS,
    PARTNERSHIP_ROLE_LABELS,
    REASON_LABELS,
    SECTOR_LABELS,
    SUPPORT_OUTCOME_LABELS,
    SUPPORT_TYPE_LABELS,
    Reason,
)

REASONS: dict[str, str] = {str(code): label for code, label in REASON_LABELS.items()}
# Art. 7 in statute order (7a after 7), for forms and filters.
REASON_ORDER: list[str] = [str(r) for r in Reason]

CASE_STATUS = {
    "opened": "otwarta",
    "in_diagnosis": "w diagnozie",
    "in_support": "we wsparciu",
    "closed": "zamknięta",
    "reopened": "wznowiona",
}

CASE_STEP = {
    "open": "Otwarcie sprawy",
    "send_to_diagnosis": "Skierowanie do diagnozy PZK",
    "start_support": "Rozpoczęcie wsparcia",
    "close": "Zamknięcie sprawy",
    "reopen": "Wznowienie sprawy",
    "give_consent": "Zgoda na udostępnienie danych w PZK",
    "withdraw_consent": "Cofnięcie zgody na udostępnienie danych w PZK",
    "member_added": "Nowa osoba w gospodarstwie domowym",
    "member_left": "Osoba opuściła gospodarstwo domowe",
    "member_corrected": "Poprawienie danych osoby",
    "reasons_revised": "Zmiana powodów przyznania pomocy",
    "interview_home_interview": "Wywiad środowiskowy w domu rodziny",
    "interview_update": "Aktualizacja wywiadu środowiskowego",
    "transfer_requested": "Prośba o przekazanie sprawy do innej gminy",
    "transfer_accepted": "Przekazanie sprawy przyjęte przez inną gminę",
    "transfer_declined": "Przekazanie sprawy odrzucone przez inną gminę",
    "transfer_withdrawn": "Prośba o przekazanie sprawy wycofana",
    "assigned": "Zmiana pracownika prowadzącego",
}

# The caseworker's due work (intake's worklist).
WORK_KINDS = {
    "home_interview": "wywiad środowiskowy w domu rodziny (14 dni od otwarcia)",
    "interview_update": "aktualizacja wywiadu środowiskowego",
    "follow_up": "dalsze działania zapisane w notatce",
    "transfer_to_accept": "przekazanie sprawy z innej gminy do przyjęcia",
    "follow_up_3_months": "kontrola sytuacji rodziny 3 miesiące po zamknięciu sprawy",
    "follow_up_6_months": "kontrola sytuacji rodziny 6 miesięcy po zamknięciu sprawy",
}

INTERVIEW_KINDS = {
    "home_interview": "wywiad w domu rodziny",
    "update": "aktualizacja wywiadu",
}

TRANSFER_STATES = {
    "requested": "czeka na przyjęcie",
    "accepted": "przyjęte",
    "declined": "odrzucone",
    "withdrawn": "wycofane",
}

GOAL_RESULTS = {
    "met": "cel osiągnięty",
    "not_met": "cel nieosiągnięty",
    "in_progress": "cel w trakcie realizacji",
}

NOTIFIED_BY: dict[str, str] = {str(k): v for k, v in NOTIFIED_BY_LABELS.items()}

SECTORS: dict[str, str] = {str(k): v for k, v in SECTOR_LABELS.items()}

NEED_AREAS: dict[str, str] = {str(k): v for k, v in NEED_AREA_LABELS.items()}

SEVERITY = {1: "niska", 2: "średnia", 3: "wysoka"}

SUPPORT_TYPES: dict[str, str] = {str(k): v for k, v in SUPPORT_TYPE_LABELS.items()}

CASE_OUTCOMES: dict[str, str] = {str(k): v for k, v in CASE_OUTCOME_LABELS.items()}

REFERRAL_STATES = {
    "assigned": "przydzielone",
    "accepted": "przyjęte",
    "declined": "odrzucone",
    "completed": "zrealizowane",
    "cancelled": "anulowane",
    "unassignable": "wsparcie nieprzydzielone (brak instytucji)",
    "overdue": "przeterminowane",
}

SUPPORT_OUTCOMES: dict[str, str] = {str(k): v for k, v in SUPPORT_OUTCOME_LABELS.items()}

DECLINE_REASONS: dict[str, str] = {str(k): v for k, v in DECLINE_REASON_LABELS.items()}

DIAGNOSIS_STATUS = {"open": "w toku", "completed": "zakończona", "cancelled": "anulowana"}

ROLES = {
    "caseworker": "pracownik socjalny",
    "team_member": "członek PZK",
    "coordinator": "koordynator PZK",
    "institution_staff": "pracownik instytucji",
    "analyst": "analityk ROPS",
    "operator": "operator",
}

RELATIONS = {
    "head": "osoba zgłaszająca się (głowa gospodarstwa)",
    "partner": "małżonek lub partner",
    "child": "dziecko",
    "parent": "rodzic",
    "other": "inny członek rodziny",
}

SEX = {"F": "kobieta", "M": "mężczyzna"}


def label(table: dict, code: object) -> str:
    """The Polish name of a code, or the code itself when the table does not know it."""
    if code is None:
        return ""
    return table.get(code, table.get(str(code), str(code)))


# What a partnership's meeting decided, and the roles in a partnership.
DECISION_KINDS: dict[str, str] = {str(k): v for k, v in DECISION_KIND_LABELS.items()}
PARTNERSHIP_ROLES: dict[str, str] = {str(k): v for k, v in PARTNERSHIP_ROLE_LABELS.items()}
