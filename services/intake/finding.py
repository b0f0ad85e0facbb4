"""Finding a family: how a name is folded for a search that ignores case and diacritics, how
results sort in Polish alphabetical order, and what counts as a possible duplicate elsewhere.
No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from shared.errors import InvalidInput

# Diacritics to their base letters (Polish first, then the other Latin letters met in names),
# then ASCII upper case to lower. The same two translations build the members' name keys in
# migrations/0010_case_file.sql; a unit test holds them equal.
_BASES = {
    "a": "ąáàâäãåāĄÁÀÂÄÃÅĀ",
    "c": "ćčçĆČÇ",
    "d": "ďđĎĐ",
    "e": "ęéèêëěēĘÉÈÊËĚĒ",
    "i": "íìîïīÍÌÎÏĪ",
    "l": "łľĺŁĽĹ",
    "n": "ńňñŃŇÑ",
    "o": "óòôöõőøōÓÒÔÖÕŐØŌ",
    "r": "řŕŘŔ",
    "s": "śšşŚŠŞ",
    "t": "ťţŤŢ",
    "u": "úùûüůűūÚÙÛÜŮŰŪ",
    "y": "ýÿÝŸ",
    "z": "źżžŹŻŽ",
}
DIACRITICS = "".join(_BASES.values())
BASE_LETTERS = "".join(base * len(marked) for base, marked in _BASES.items())
ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FOLD = str.maketrans(DIACRITICS + ASCII_UPPER, BASE_LETTERS + ASCII_UPPER.lower())

# A name key starts with the term: every key from the term up to (not including) the term
# followed by the highest code point (keys are compared byte-wise, COLLATE "C").
_AFTER_EVERYTHING = "\U0010ffff"
MIN_SURNAME_LETTERS = 2


def fold(name: str) -> str:
    """A name as the search compares it: "Żółkiewska" → "zolkiewska"."""
    return name.translate(_FOLD)


def surname_range(term: str) -> tuple[str, str]:
    """The keys a surname search matches: those starting with the folded term."""
    key = fold(term.strip())
    if len(key) < MIN_SURNAME_LETTERS:
        raise InvalidInput(
            "surname_too_short",
            f"podaj co najmniej {MIN_SURNAME_LETTERS} litery nazwiska",
            field="surname",
        )
    return key, key + _AFTER_EVERYTHING


_POLISH_ORDER = "aąbcćdeęfghijklłmnńoópqrsśtuvwxyzźż"
_RANK = {letter: i for i, letter in enumerate(_POLISH_ORDER)}


def polish_sort_key(name: str) -> tuple[tuple[int, str], ...]:
    """Polish alphabetical order (ą after a, ł after l, ż last), case ignored first."""
    return tuple((_RANK.get(ch, len(_POLISH_ORDER) + ord(ch)), ch) for ch in name.strip().lower())


@dataclass(frozen=True)
class SearchTerms:
    """What a caseworker searches their gmina by; several terms narrow the search."""

    surname: str | None = None
    pesel: str | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.surname or self.pesel or self.external_id):
            raise InvalidInput(
                "no_search_terms",
                "podaj nazwisko, PESEL lub identyfikator z poprzedniego systemu",
                field="surname",
            )

    @property
    def kinds(self) -> str:
        """Which terms were used (never their values): what the audit entry records."""
        used = [("surname", self.surname), ("pesel", self.pesel), ("external_id", self.external_id)]
        return "+".join(name for name, value in used if value)


@dataclass(frozen=True)
class Person:
    """Who a possible duplicate is looked for: a PESEL, or a name with a birth date."""

    person_id: UUID
    first_name: str
    last_name: str
    birth_date: date | None
    pesel: str | None


@dataclass(frozen=True)
class ElsewhereCase:
    """An open case of another gmina holding a member who may be the same person."""

    gmina: str
    pesel: str | None
    first_name_key: str
    last_name_key: str
    birth_date: date | None


def matched_by(person: Person, other: ElsewhereCase) -> str | None:
    """Why `other` may be the same person: "pesel", "name_and_birth_date", or None."""
    if person.pesel and other.pesel == person.pesel:
        return "pesel"
    if (
        person.birth_date is not None
        and other.birth_date == person.birth_date
        and other.last_name_key == fold(person.last_name)
        and other.first_name_key == fold(person.first_name)
        and other.last_name_key
    ):
        return "name_and_birth_date"
    return None


def neighbours(gmina: str, all_gminas: list[str]) -> list[str]:
    """The gminas whose open cases a search checks for possible duplicates: the other gminas
    of the same powiat (the TERC register holds no borders; the powiat is the area the PZK and
    the PCPR share, and where a family most often moves)."""
    return sorted(g for g in all_gminas if g[:4] == gmina[:4] and g != gmina)
