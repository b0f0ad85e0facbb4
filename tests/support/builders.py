"""Request bodies with sensible defaults: a test names only what it is about."""

from __future__ import annotations

from typing import Any


def a_person(
    first_name: str = "Anna",
    last_name: str = "Testowa",
    *,
    birth_date: str = "1980-05-05",
    sex: str = "F",
    **more: Any,
) -> dict[str, Any]:
    """A household member as POST /cases takes it (add `pesel`, `relation`, `contact`…)."""
    return {
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth_date,
        "sex": sex,
        **more,
    }


def a_child(first_name: str, last_name: str, birth_date: str, sex: str = "M") -> dict[str, Any]:
    return a_person(first_name, last_name, birth_date=birth_date, sex=sex, relation="child")


def a_household(
    gmina: str,
    *members: dict[str, Any],
    reasons: list[str] | None = None,
    notified_by: str = "self",
    consent: bool = True,
    **more: Any,
) -> dict[str, Any]:
    """The body of POST /cases: a household (one adult when no member is given) of the gmina."""
    return {
        "gmina": gmina,
        "members": list(members) or [a_person()],
        "reasons": reasons or ["4"],
        "notified_by": notified_by,
        "consent_to_share": consent,
        **more,
    }


def an_institution(
    name: str,
    sector: str,
    support_types: list[str],
    gminas: list[str],
    **more: Any,
) -> dict[str, Any]:
    """The body of POST /institutions: a partner institution serving the gminas (add
    `capacity`, `ops_gmina`…)."""
    return {
        "name": name,
        "sector": sector,
        "support_types": support_types,
        "gminas": gminas,
        **more,
    }
