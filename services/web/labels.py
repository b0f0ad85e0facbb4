"""Polish names of the codes the APIs answer with, for pages (GLOSSARY.md's words).
A code without a name here is shown as itself, so a new code is visible, not hidden."""

from __future__ import annotations

from shared.codes import REASON_LABELS, Reason

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
}

NOTIFIED_BY = {
    "self": "sama osoba lub rodzina zgłosiła się",
    "family": "krewni lub sąsiedzi",
    "police": "policja (dzielnicowy)",
    "school": "szkoła lub przedszkole",
    "health": "placówka ochrony zdrowia",
    "court": "sąd lub kurator sądowy",
    "ngo": "organizacja pozarządowa",
    "other": "inny zgłaszający",
}

SECTORS = {
    "social_assistance": "pomoc społeczna",
    "health": "ochrona zdrowia",
    "education": "oświata",
    "police": "policja",
    "justice": "wymiar sprawiedliwości",
    "labour": "rynek pracy",
    "ngo": "organizacje pozarządowe",
    "culture_and_sport": "kultura i sport",
    "local_government": "samorząd",
    "other": "inne",
}

NEED_AREAS = {
    "health": "zdrowie",
    "disability": "niepełnosprawność",
    "mental_health": "zdrowie psychiczne",
    "addiction": "uzależnienia",
    "domestic_violence": "przemoc domowa",
    "parenting": "opieka i wychowanie dzieci",
    "child_education": "edukacja dziecka",
    "employment": "zatrudnienie",
    "finances": "sytuacja finansowa",
    "housing": "mieszkanie",
    "old_age_and_loneliness": "starość i samotność",
    "social_isolation": "izolacja społeczna",
    "legal": "sprawy prawne",
    "other": "inne",
}

SEVERITY = {1: "niska", 2: "średnia", 3: "wysoka"}

SUPPORT_TYPES = {
    "psychologist": "pomoc psychologa",
    "psychiatrist": "pomoc psychiatry",
    "addiction_therapy": "terapia uzależnień",
    "family_assistant": "asystent rodziny",
    "speech_therapist": "logopeda",
    "rehabilitation": "rehabilitacja",
    "rehabilitation_stay": "turnus rehabilitacyjny",
    "health_care": "opieka zdrowotna",
    "care_services": "usługi opiekuńcze",
    "meals": "posiłki",
    "financial_benefit": "świadczenie pieniężne",
    "vocational_counselling": "doradztwo zawodowe",
    "training": "szkolenie zawodowe",
    "tutoring": "korepetycje",
    "psychological_pedagogical_counselling": "poradnictwo psychologiczno-pedagogiczne",
    "legal_advice": "porada prawna",
    "probation_officer": "kurator sądowy",
    "crisis_intervention": "interwencja kryzysowa",
    "senior_club": "klub seniora",
    "day_support_centre": "placówka wsparcia dziennego",
    "parenting_workshops": "warsztaty dla rodziców",
    "equipment": "sprzęt",
    "housing_help": "pomoc mieszkaniowa",
}

CASE_OUTCOMES = {
    "completed_successfully": "zakończona z sukcesem",
    "completed_partly": "zakończona częściowo",
    "refused_cooperation": "rodzina odmówiła współpracy",
    "moved_away": "rodzina wyprowadziła się",
    "died": "zgon",
    "transferred": "przekazana innemu ośrodkowi",
    "other": "inny wynik",
}

REFERRAL_STATES = {
    "assigned": "przydzielone",
    "accepted": "przyjęte",
    "declined": "odrzucone",
    "completed": "zrealizowane",
    "cancelled": "anulowane",
    "unassignable": "wsparcie nieprzydzielone (brak instytucji)",
    "overdue": "przeterminowane",
}

SUPPORT_OUTCOMES = {
    "achieved": "cel osiągnięty",
    "partly": "cel osiągnięty częściowo",
    "not_achieved": "cel nieosiągnięty",
    "person_withdrew": "osoba zrezygnowała",
}

DECLINE_REASONS = {
    "no_capacity": "brak wolnych miejsc",
    "not_in_scope": "wsparcie poza zakresem instytucji",
    "out_of_area": "poza obszarem działania",
    "person_unreachable": "brak kontaktu z osobą",
}

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
