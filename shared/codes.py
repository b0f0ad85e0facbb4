"""The shared vocabularies of the event contract: codes, never free text.

Labels are Polish because people read them in the UI and in reports; programs use the codes.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Reason for assistance: art. 7 of the Act on social assistance (ustawa z dnia 12 marca
    2004 r. o pomocy społecznej, Dz.U. 2023 poz. 901), each code the number of its point.

    Point 10 is repealed and has no code; point 15 is one point (natural or ecological disaster).
    """

    POVERTY = "1"
    ORPHANHOOD = "2"
    HOMELESSNESS = "3"
    UNEMPLOYMENT = "4"
    DISABILITY = "5"
    LONG_TERM_ILLNESS = "6"
    DOMESTIC_VIOLENCE = "7"
    TRAFFICKING_VICTIM = "7a"
    MATERNITY_OR_LARGE_FAMILY = "8"
    PARENTING_HELPLESSNESS = "9"
    FOREIGNER_INTEGRATION = "11"
    AFTER_PRISON = "12"
    ADDICTION = "13"
    RANDOM_EVENT_OR_CRISIS = "14"
    DISASTER = "15"


# Points of art. 7 the statute repealed: refused wherever a reason is read.
REPEALED_REASONS: frozenset[str] = frozenset({"10"})

# The statute's wording of each point, in the nominative (reports, exports, the UI, the CLI).
REASON_LABELS: dict[Reason, str] = {
    Reason.POVERTY: "ubóstwo",
    Reason.ORPHANHOOD: "sieroctwo",
    Reason.HOMELESSNESS: "bezdomność",
    Reason.UNEMPLOYMENT: "bezrobocie",
    Reason.DISABILITY: "niepełnosprawność",
    Reason.LONG_TERM_ILLNESS: "długotrwała lub ciężka choroba",
    Reason.DOMESTIC_VIOLENCE: "przemoc domowa",
    Reason.TRAFFICKING_VICTIM: "potrzeba ochrony ofiar handlu ludźmi",
    Reason.MATERNITY_OR_LARGE_FAMILY: "potrzeba ochrony macierzyństwa lub wielodzietności",
    Reason.PARENTING_HELPLESSNESS: (
        "bezradność w sprawach opiekuńczo-wychowawczych i prowadzenia gospodarstwa domowego,"
        " zwłaszcza w rodzinach niepełnych lub wielodzietnych"
    ),
    Reason.FOREIGNER_INTEGRATION: (
        "trudności w integracji cudzoziemców, którzy uzyskali w Rzeczypospolitej Polskiej"
        " status uchodźcy, ochronę uzupełniającą lub zezwolenie na pobyt czasowy"
    ),
    Reason.AFTER_PRISON: "trudności w przystosowaniu do życia po zwolnieniu z zakładu karnego",
    Reason.ADDICTION: "alkoholizm lub narkomania",
    Reason.RANDOM_EVENT_OR_CRISIS: "zdarzenie losowe i sytuacja kryzysowa",
    Reason.DISASTER: "klęska żywiołowa lub ekologiczna",
}

# The numbering of `reasons` in case.opened.v1: 2 = the statute's (above). Events published
# before the fix carry no marker and numbered 10 foreigners, 11 after prison, 12 addiction,
# 13 random event or crisis, 14 natural disaster, 15 ecological disaster.
REASONS_VERSION = 2
_BEFORE_THE_FIX: dict[str, str] = {
    "10": "11",
    "11": "12",
    "12": "13",
    "13": "14",
    "14": "15",
    "15": "15",  # natural and ecological disaster are one point of the statute
}


def renumbered(old_codes: list[str]) -> list[str]:
    """Reason codes of the numbering before the fix as the statute numbers them, in the same
    order, without the duplicate that merging 14 and 15 into one point can leave."""
    return list(dict.fromkeys(_BEFORE_THE_FIX.get(str(c), str(c)) for c in old_codes))


class NotifiedBy(StrEnum):
    """Who brought the family's situation to the centre's attention."""

    SELF = "self"
    FAMILY = "family"
    POLICE = "police"
    SCHOOL = "school"
    HEALTH = "health"
    COURT = "court"
    NGO = "ngo"
    OTHER = "other"


class Sector(StrEnum):
    """Sector of a partner institution."""

    SOCIAL_ASSISTANCE = "social_assistance"
    HEALTH = "health"
    EDUCATION = "education"
    POLICE = "police"
    JUSTICE = "justice"
    LABOUR = "labour"
    NGO = "ngo"
    CULTURE_AND_SPORT = "culture_and_sport"
    LOCAL_GOVERNMENT = "local_government"
    OTHER = "other"


class NeedArea(StrEnum):
    """Area of need recorded during the joint diagnosis."""

    HEALTH = "health"
    DISABILITY = "disability"
    MENTAL_HEALTH = "mental_health"
    ADDICTION = "addiction"
    DOMESTIC_VIOLENCE = "domestic_violence"
    PARENTING = "parenting"
    CHILD_EDUCATION = "child_education"
    EMPLOYMENT = "employment"
    FINANCES = "finances"
    HOUSING = "housing"
    OLD_AGE_AND_LONELINESS = "old_age_and_loneliness"
    SOCIAL_ISOLATION = "social_isolation"
    LEGAL = "legal"
    OTHER = "other"


class SupportType(StrEnum):
    """Catalogue of support a partner institution can give."""

    PSYCHOLOGIST = "psychologist"
    PSYCHIATRIST = "psychiatrist"
    ADDICTION_THERAPY = "addiction_therapy"
    FAMILY_ASSISTANT = "family_assistant"
    SPEECH_THERAPIST = "speech_therapist"
    REHABILITATION = "rehabilitation"
    REHABILITATION_STAY = "rehabilitation_stay"
    HEALTH_CARE = "health_care"
    CARE_SERVICES = "care_services"
    MEALS = "meals"
    FINANCIAL_BENEFIT = "financial_benefit"
    VOCATIONAL_COUNSELLING = "vocational_counselling"
    TRAINING = "training"
    TUTORING = "tutoring"
    PSYCHOLOGICAL_PEDAGOGICAL_COUNSELLING = "psychological_pedagogical_counselling"
    LEGAL_ADVICE = "legal_advice"
    PROBATION_OFFICER = "probation_officer"
    CRISIS_INTERVENTION = "crisis_intervention"
    SENIOR_CLUB = "senior_club"
    DAY_SUPPORT_CENTRE = "day_support_centre"
    PARENTING_WORKSHOPS = "parenting_workshops"
    EQUIPMENT = "equipment"
    HOUSING_HELP = "housing_help"


# Supports only the gmina's social-assistance centre (OPS) may decide: a financial benefit is an
# administrative decision of the OPS (ustawa o pomocy społecznej, art. 106). Referrals assigns
# them to the gmina's OPS and never routes them to another institution.
OPS_ONLY_SUPPORTS: frozenset[SupportType] = frozenset({SupportType.FINANCIAL_BENEFIT})


class GoalResult(StrEnum):
    """A goal of the individual plan (IPW) as its review found it."""

    MET = "met"
    NOT_MET = "not_met"
    IN_PROGRESS = "in_progress"


class CaseOutcome(StrEnum):
    """How a cooperation with a family ended."""

    COMPLETED_SUCCESSFULLY = "completed_successfully"
    COMPLETED_PARTLY = "completed_partly"
    REFUSED_COOPERATION = "refused_cooperation"
    MOVED_AWAY = "moved_away"
    DIED = "died"
    TRANSFERRED = "transferred"
    OTHER = "other"


class SupportOutcome(StrEnum):
    ACHIEVED = "achieved"
    PARTLY = "partly"
    NOT_ACHIEVED = "not_achieved"
    PERSON_WITHDREW = "person_withdrew"


class DeclineReason(StrEnum):
    NO_CAPACITY = "no_capacity"
    NOT_IN_SCOPE = "not_in_scope"
    OUT_OF_AREA = "out_of_area"
    PERSON_UNREACHABLE = "person_unreachable"
    OTHER = "other"


class PartnershipRole(StrEnum):
    """A role in a partnership (G-PZK); the adviser comes from the regional centre (ROPS)."""

    ANIMATOR = "animator"
    COORDINATOR = "coordinator"
    ADVISER = "adviser"


class DecisionKind(StrEnum):
    """What a partnership's meeting decided; the first three are tied to a case."""

    DIAGNOSIS_AGREED = "diagnosis_agreed"
    PLAN_AGREED = "plan_agreed"
    REFERRAL_AGREED = "referral_agreed"
    OTHER = "other"


class ModelVariant(StrEnum):
    """Model variant of a gmina, from its TERYT type (RODZ)."""

    RURAL = "rural"
    URBAN_RURAL = "urban_rural"
    URBAN = "urban"


class AgeBand(StrEnum):
    """Ages leave intake only as bands."""

    CHILD_0_5 = "0-5"
    CHILD_6_17 = "6-17"
    ADULT_18_29 = "18-29"
    ADULT_30_44 = "30-44"
    ADULT_45_59 = "45-59"
    SENIOR_60_74 = "60-74"
    SENIOR_75_PLUS = "75+"

    @classmethod
    def of_age(cls, years: int) -> AgeBand:
        for upper, band in (
            (5, cls.CHILD_0_5),
            (17, cls.CHILD_6_17),
            (29, cls.ADULT_18_29),
            (44, cls.ADULT_30_44),
            (59, cls.ADULT_45_59),
            (74, cls.SENIOR_60_74),
        ):
            if years <= upper:
                return band
        return cls.SENIOR_75_PLUS


# --- Polish names of the codes, for what people read (pages, report columns, files) -------


NOTIFIED_BY_LABELS: dict[NotifiedBy, str] = {
    NotifiedBy.SELF: "sama osoba lub rodzina zgłosiła się",
    NotifiedBy.FAMILY: "krewni lub sąsiedzi",
    NotifiedBy.POLICE: "policja (dzielnicowy)",
    NotifiedBy.SCHOOL: "szkoła lub przedszkole",
    NotifiedBy.HEALTH: "placówka ochrony zdrowia",
    NotifiedBy.COURT: "sąd lub kurator sądowy",
    NotifiedBy.NGO: "organizacja pozarządowa",
    NotifiedBy.OTHER: "inny zgłaszający",
}


SECTOR_LABELS: dict[Sector, str] = {
    Sector.SOCIAL_ASSISTANCE: "pomoc społeczna",
    Sector.HEALTH: "ochrona zdrowia",
    Sector.EDUCATION: "oświata",
    Sector.POLICE: "policja",
    Sector.JUSTICE: "wymiar sprawiedliwości",
    Sector.LABOUR: "rynek pracy",
    Sector.NGO: "organizacje pozarządowe",
    Sector.CULTURE_AND_SPORT: "kultura i sport",
    Sector.LOCAL_GOVERNMENT: "samorząd",
    Sector.OTHER: "inne",
}


NEED_AREA_LABELS: dict[NeedArea, str] = {
    NeedArea.HEALTH: "zdrowie",
    NeedArea.DISABILITY: "niepełnosprawność",
    NeedArea.MENTAL_HEALTH: "zdrowie psychiczne",
    NeedArea.ADDICTION: "uzależnienia",
    NeedArea.DOMESTIC_VIOLENCE: "przemoc domowa",
    NeedArea.PARENTING: "opieka i wychowanie dzieci",
    NeedArea.CHILD_EDUCATION: "edukacja dziecka",
    NeedArea.EMPLOYMENT: "zatrudnienie",
    NeedArea.FINANCES: "sytuacja finansowa",
    NeedArea.HOUSING: "mieszkanie",
    NeedArea.OLD_AGE_AND_LONELINESS: "starość i samotność",
    NeedArea.SOCIAL_ISOLATION: "izolacja społeczna",
    NeedArea.LEGAL: "sprawy prawne",
    NeedArea.OTHER: "inne",
}


SUPPORT_TYPE_LABELS: dict[SupportType, str] = {
    SupportType.PSYCHOLOGIST: "pomoc psychologa",
    SupportType.PSYCHIATRIST: "pomoc psychiatry",
    SupportType.ADDICTION_THERAPY: "terapia uzależnień",
    SupportType.FAMILY_ASSISTANT: "asystent rodziny",
    SupportType.SPEECH_THERAPIST: "logopeda",
    SupportType.REHABILITATION: "rehabilitacja",
    SupportType.REHABILITATION_STAY: "turnus rehabilitacyjny",
    SupportType.HEALTH_CARE: "opieka zdrowotna",
    SupportType.CARE_SERVICES: "usługi opiekuńcze",
    SupportType.MEALS: "posiłki",
    SupportType.FINANCIAL_BENEFIT: "świadczenie pieniężne",
    SupportType.VOCATIONAL_COUNSELLING: "doradztwo zawodowe",
    SupportType.TRAINING: "szkolenie zawodowe",
    SupportType.TUTORING: "korepetycje",
    SupportType.PSYCHOLOGICAL_PEDAGOGICAL_COUNSELLING: "poradnictwo psychologiczno-pedagogiczne",
    SupportType.LEGAL_ADVICE: "porada prawna",
    SupportType.PROBATION_OFFICER: "kurator sądowy",
    SupportType.CRISIS_INTERVENTION: "interwencja kryzysowa",
    SupportType.SENIOR_CLUB: "klub seniora",
    SupportType.DAY_SUPPORT_CENTRE: "placówka wsparcia dziennego",
    SupportType.PARENTING_WORKSHOPS: "warsztaty dla rodziców",
    SupportType.EQUIPMENT: "sprzęt",
    SupportType.HOUSING_HELP: "pomoc mieszkaniowa",
}


CASE_OUTCOME_LABELS: dict[CaseOutcome, str] = {
    CaseOutcome.COMPLETED_SUCCESSFULLY: "zakończona z sukcesem",
    CaseOutcome.COMPLETED_PARTLY: "zakończona częściowo",
    CaseOutcome.REFUSED_COOPERATION: "rodzina odmówiła współpracy",
    CaseOutcome.MOVED_AWAY: "rodzina wyprowadziła się",
    CaseOutcome.DIED: "zgon",
    CaseOutcome.TRANSFERRED: "przekazana innemu ośrodkowi",
    CaseOutcome.OTHER: "inny wynik",
}


SUPPORT_OUTCOME_LABELS: dict[SupportOutcome, str] = {
    SupportOutcome.ACHIEVED: "cel osiągnięty",
    SupportOutcome.PARTLY: "cel osiągnięty częściowo",
    SupportOutcome.NOT_ACHIEVED: "cel nieosiągnięty",
    SupportOutcome.PERSON_WITHDREW: "osoba zrezygnowała",
}


DECLINE_REASON_LABELS: dict[DeclineReason, str] = {
    DeclineReason.NO_CAPACITY: "brak wolnych miejsc",
    DeclineReason.NOT_IN_SCOPE: "wsparcie poza zakresem instytucji",
    DeclineReason.OUT_OF_AREA: "poza obszarem działania",
    DeclineReason.PERSON_UNREACHABLE: "brak kontaktu z osobą",
    DeclineReason.OTHER: "inny powód",
}


# --- the partnership's group activities and its evaluation -------------------------------------


class ActivityType(StrEnum):
    """A group activity of the PZK (zajęcia grupowe), beside individual support."""

    CLUB = "club"  # e.g. a senior club (klub seniora)
    WORKSHOP_CYCLE = "workshop_cycle"
    TRAINING = "training"  # e.g. the "Szkoła Kooperacji"
    COACHING = "coaching"


ACTIVITY_TYPE_LABELS: dict[ActivityType, str] = {
    ActivityType.CLUB: "klub (np. klub seniora)",
    ActivityType.WORKSHOP_CYCLE: "cykl warsztatów",
    ActivityType.TRAINING: "szkolenie",
    ActivityType.COACHING: "coaching",
}


class FamilyRole(StrEnum):
    """A social role a family fulfils again, as the follow-up after closing finds it (the
    model's evaluation asks which functions of the family were restored)."""

    CARE_AND_UPBRINGING = "care_and_upbringing"
    HOUSEHOLD_MANAGEMENT = "household_management"
    ECONOMIC = "economic"
    HEALTH = "health"
    SOCIAL_PARTICIPATION = "social_participation"


FAMILY_ROLE_LABELS: dict[FamilyRole, str] = {
    FamilyRole.CARE_AND_UPBRINGING: "opiekuńczo-wychowawcza",
    FamilyRole.HOUSEHOLD_MANAGEMENT: "prowadzenie gospodarstwa domowego",
    FamilyRole.ECONOMIC: "ekonomiczna (utrzymanie rodziny)",
    FamilyRole.HEALTH: "dbałość o zdrowie",
    FamilyRole.SOCIAL_PARTICIPATION: "uczestnictwo w życiu społecznym",
}

# The follow-up of a family after its case is closed: 3 and 6 months on.
FOLLOW_UP_MONTHS: tuple[int, ...] = (3, 6)


class SurveyQuestion(StrEnum):
    """The fixed questions of the survey of the PZK's members about the cooperation, each
    answered on a five-point Likert scale (1 zdecydowanie się nie zgadzam … 5 zdecydowanie się
    zgadzam). A new question is a new code; the wording of a code never changes its meaning."""

    GOALS_CLEAR = "goals_clear"
    INFORMATION_FLOW = "information_flow"
    MEETINGS_USEFUL = "meetings_useful"
    DECISIONS_JOINT = "decisions_joint"
    ROLES_CLEAR = "roles_clear"
    FAMILIES_BENEFIT = "families_benefit"
    OWN_INSTITUTION_ENGAGED = "own_institution_engaged"
    WOULD_CONTINUE = "would_continue"


SURVEY_QUESTION_LABELS: dict[SurveyQuestion, str] = {
    SurveyQuestion.GOALS_CLEAR: "Cele Partnerskiego Zespołu Kooperacji są dla mnie jasne.",
    SurveyQuestion.INFORMATION_FLOW: "Informacje między instytucjami zespołu przepływają sprawnie.",
    SurveyQuestion.MEETINGS_USEFUL: "Spotkania zespołu są potrzebne i dobrze przygotowane.",
    SurveyQuestion.DECISIONS_JOINT: "Decyzje w sprawach rodzin podejmujemy wspólnie.",
    SurveyQuestion.ROLES_CLEAR: "Wiem, za co odpowiada moja instytucja we współpracy.",
    SurveyQuestion.FAMILIES_BENEFIT: "Rodziny korzystają na współpracy instytucji w zespole.",
    SurveyQuestion.OWN_INSTITUTION_ENGAGED: "Moja instytucja angażuje się we współpracę.",
    SurveyQuestion.WOULD_CONTINUE: "Chcę, aby współpraca w zespole była kontynuowana.",
}

LIKERT_SCALE: dict[int, str] = {
    1: "zdecydowanie się nie zgadzam",
    2: "raczej się nie zgadzam",
    3: "ani tak, ani nie",
    4: "raczej się zgadzam",
    5: "zdecydowanie się zgadzam",
}

# The model's testing phase (2018-2021): of 172 families, 140 completed their plan
# successfully. Regions compare their gminas with it.
TESTING_PHASE_SUCCESSFUL = 140
TESTING_PHASE_FAMILIES = 172
PARTNERSHIP_ROLE_LABELS: dict[PartnershipRole, str] = {
    PartnershipRole.ANIMATOR: "animator partnerstwa",
    PartnershipRole.COORDINATOR: "koordynator",
    PartnershipRole.ADVISER: "doradca ds. modelu (ROPS)",
}


DECISION_KIND_LABELS: dict[DecisionKind, str] = {
    DecisionKind.DIAGNOSIS_AGREED: "zespół uzgodnił diagnozę",
    DecisionKind.PLAN_AGREED: "zespół uzgodnił plan (IPW)",
    DecisionKind.REFERRAL_AGREED: "zespół uzgodnił skierowanie do instytucji",
    DecisionKind.OTHER: "inne ustalenie",
}
