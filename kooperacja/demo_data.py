"""A small demo region: powiat bialski (lubelskie), four gminas, their partner institutions
and a few households. Names are invented; PESEL numbers are generated to be valid."""

from __future__ import annotations

import random
from datetime import date

POWIAT = "0601"
GMINAS = {
    "0601032": "Biała Podlaska (gmina wiejska)",
    "0601113": "Piszczac (gmina miejsko-wiejska)",
    "0601011": "Międzyrzec Podlaski (gmina miejska)",
    "0601042": "Drelów (gmina wiejska)",
}

# Each institution's `pzk`: the gminas whose partnership (G-PZK) it signed the agreement of; the
# agreement is recorded in the partnership service, the rest of the entry in referrals' directory.
AGREEMENT_SIGNED_ON = "2024-03-15"
AGREEMENT_DOCUMENT = "Porozumienie o współpracy w ramach G-PZK nr 1/2024"

INSTITUTIONS: list[dict[str, object]] = [
    *(
        {
            "name": f"Ośrodek Pomocy Społecznej — {name.split(' (')[0]}",
            "sector": "social_assistance",
            "support_types": ["family_assistant", "financial_benefit", "meals", "care_services"],
            "gminas": [code],
            "capacity": 20,
            "pzk": [code],
            "ops_gmina": code,
        }
        for code, name in GMINAS.items()
    ),
    {
        "name": "Powiatowe Centrum Pomocy Rodzinie w Białej Podlaskiej",
        "sector": "social_assistance",
        "support_types": ["psychologist", "crisis_intervention", "rehabilitation", "equipment"],
        "gminas": list(GMINAS),
        "powiats": [POWIAT],
        "capacity": 15,
        "pzk": list(GMINAS),
    },
    {
        "name": "Poradnia Psychologiczno-Pedagogiczna w Białej Podlaskiej",
        "sector": "education",
        "support_types": ["psychological_pedagogical_counselling", "speech_therapist", "tutoring"],
        "gminas": list(GMINAS),
        "capacity": 10,
        "pzk": ["0601032", "0601113"],
    },
    {
        "name": "Powiatowy Urząd Pracy w Białej Podlaskiej",
        "sector": "labour",
        "support_types": ["vocational_counselling", "training"],
        "gminas": list(GMINAS),
        "powiats": [POWIAT],
        "capacity": 30,
        "pzk": list(GMINAS),
    },
    {
        "name": "Poradnia Terapii Uzależnień i Współuzależnienia",
        "sector": "health",
        "support_types": ["addiction_therapy", "psychiatrist", "health_care"],
        "gminas": list(GMINAS),
        "capacity": 8,
        "pzk": ["0601011"],
    },
    {
        "name": "Stowarzyszenie Razem dla Rodziny",
        "sector": "ngo",
        "support_types": [
            "parenting_workshops",
            "legal_advice",
            "day_support_centre",
            "senior_club",
        ],
        "gminas": list(GMINAS),
        "capacity": 12,
        "pzk": ["0601032", "0601042"],
    },
    {
        "name": "Zespół Kuratorskiej Służby Sądowej w Białej Podlaskiej",
        "sector": "justice",
        "support_types": ["probation_officer"],
        "gminas": list(GMINAS),
        "capacity": 10,
    },
]

# Needs found in diagnoses and the support the team would recommend for them.
NEED_PLANS = [
    ("parenting", 2, ["family_assistant", "parenting_workshops"]),
    ("employment", 2, ["vocational_counselling", "training"]),
    ("addiction", 3, ["addiction_therapy"]),
    ("child_education", 1, ["psychological_pedagogical_counselling", "tutoring"]),
    ("finances", 2, ["financial_benefit"]),
    ("mental_health", 2, ["psychologist"]),
    ("old_age_and_loneliness", 1, ["senior_club", "care_services"]),
    ("domestic_violence", 3, ["crisis_intervention", "legal_advice"]),
]

FIRST_NAMES = {
    "F": ["Anna", "Maria", "Katarzyna", "Zofia", "Ewa"],
    "M": ["Jan", "Piotr", "Tomasz", "Krzysztof", "Paweł"],
}
LAST_NAMES = ["Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński"]
_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


def pesel_for(birth: date, sex: str, serial: int) -> str:
    """A valid PESEL for a date of birth (1900–2099) and sex; `serial` picks one of many."""
    month = birth.month + (20 if birth.year >= 2000 else 0)
    sex_digit = (serial % 5) * 2 + (1 if sex == "M" else 0)
    digits = (
        f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{(serial // 5) % 1000:03d}{sex_digit}"
    )
    check = (10 - sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 10) % 10
    return digits + str(check)


def household(rng: random.Random, today: date) -> list[dict[str, object]]:
    """A household: a head, perhaps a partner, 0–3 children; some members without PESEL."""
    last = rng.choice(LAST_NAMES)
    members = []
    head_sex = rng.choice("FM")
    ages = [rng.randint(24, 70)]
    if rng.random() < 0.6:
        ages.append(max(20, ages[0] + rng.randint(-5, 5)))
    ages += [rng.randint(0, 17) for _ in range(rng.randint(0, 3))]
    for i, age in enumerate(ages):
        sex = (
            head_sex
            if i == 0
            else ("M" if head_sex == "F" else "F")
            if i == 1
            else rng.choice("FM")
        )
        birth = date(today.year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
        member: dict[str, object] = {
            "first_name": rng.choice(FIRST_NAMES[sex]),
            "last_name": last if sex == "M" or not last.endswith("ski") else last[:-1] + "a",
            "birth_date": birth.isoformat(),
            "sex": sex,
            "relation": "head" if i == 0 else "partner" if i == 1 else "child",
        }
        if rng.random() < 0.8:
            member["pesel"] = pesel_for(birth, sex, rng.randint(0, 4999))
        members.append(member)
    return members


# The demo region's people, one of each role, for the development sign-in of the web front and
# for `kooperacja up --demo`'s printout. Names are invented; `subject` is their own identity.
# An institution's staff names their institution by name; its id is the one referrals gave it.
DEMO_PEOPLE: list[dict[str, str]] = [
    {
        "subject": "demo-anna-kowalczyk",
        "name": "Anna Kowalczyk",
        "role": "caseworker",
        "gmina": "0601032",
        "title": "pracownica socjalna, GOPS Biała Podlaska",
    },
    {
        "subject": "demo-tomasz-mazur",
        "name": "Tomasz Mazur",
        "role": "caseworker",
        "gmina": "0601011",
        "title": "pracownik socjalny, MOPS Międzyrzec Podlaski",
    },
    {
        "subject": "demo-ewa-sadowska",
        "name": "Ewa Sadowska",
        "role": "team_member",
        "gmina": "0601032",
        # A team member speaks for their institution: the PZK admits institutions.
        "institution": "Powiatowe Centrum Pomocy Rodzinie w Białej Podlaskiej",
        "title": "członkini PZK (PCPR), gmina Biała Podlaska",
    },
    {
        "subject": "demo-marek-wrobel",
        "name": "Marek Wróbel",
        "role": "coordinator",
        "gmina": "0601032",
        "title": "koordynator PZK, gmina Biała Podlaska",
    },
    {
        "subject": "demo-joanna-pietrzak",
        "name": "Joanna Pietrzak",
        "role": "institution_staff",
        "institution": "Powiatowy Urząd Pracy w Białej Podlaskiej",
        "title": "doradczyni zawodowa, PUP w Białej Podlaskiej",
    },
    {
        "subject": "demo-krzysztof-baran",
        "name": "Krzysztof Baran",
        "role": "analyst",
        "region": "06",
        "title": "analityk ROPS w Lublinie",
    },
    {
        "subject": "demo-agnieszka-lis",
        "name": "Agnieszka Lis",
        "role": "operator",
        "title": "operatorka systemu",
    },
]
