"""The scope claims each role's token takes, checked against the TERC register.

A claim of the wrong type, malformed, not in the register, or not taken by the role makes the
token invalid (401). A role's scope claim that is absent leaves the token valid but without
access: `requires` answers 403 `scope_missing` on every route. The README's table of claims
per role is `ROLE_CLAIMS` written out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from shared.teryt import terc


class Role(StrEnum):
    CASEWORKER = "caseworker"  # pracownik socjalny OPS
    TEAM_MEMBER = "team_member"  # członek PZK
    COORDINATOR = "coordinator"  # koordynator / animator PZK
    INSTITUTION_STAFF = "institution_staff"
    ANALYST = "analyst"  # regional analyst (ROPS)
    OPERATOR = "operator"


SCOPE_CLAIMS = ("gmina", "powiat", "region", "institution")
TERRITORY = ("gmina", "powiat", "region")
ALL_REGIONS = "*"


@dataclass(frozen=True)
class RoleClaims:
    """Which scope claims a role's token may carry, and which one of them it needs."""

    takes: frozenset[str]
    needs_one_of: frozenset[str]
    several_regions: bool = False  # a macro-region: "06,14", or "*" for all


ROLE_CLAIMS: dict[Role, RoleClaims] = {
    Role.CASEWORKER: RoleClaims(frozenset({"gmina"}), frozenset({"gmina"})),
    Role.TEAM_MEMBER: RoleClaims(frozenset({"gmina", "institution"}), frozenset({"institution"})),
    Role.COORDINATOR: RoleClaims(
        frozenset({"gmina", "powiat", "region", "institution"}), frozenset(TERRITORY)
    ),
    Role.INSTITUTION_STAFF: RoleClaims(frozenset({"institution"}), frozenset({"institution"})),
    Role.ANALYST: RoleClaims(frozenset({"region"}), frozenset({"region"}), several_regions=True),
    Role.OPERATOR: RoleClaims(frozenset(), frozenset()),
}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DIGITS = {"gmina": re.compile(r"^\d{7}$"), "powiat": re.compile(r"^\d{4}$"),
           "region": re.compile(r"^\d{2}$")}  # fmt: skip


class InvalidClaims(ValueError):
    """The token's role or scope claims break the schema; the message names the claim."""


@dataclass(frozen=True)
class Scope:
    """Validated claims: the role and the scope it acts in (None where absent)."""

    role: Role
    gmina: str | None = None
    powiat: str | None = None
    region: str | None = None  # one region, or for an analyst "06,14" or "*"
    institution: UUID | None = None


def parse_claims(claims: Mapping[str, Any]) -> Scope:
    """The role and scope of a token's claims, or InvalidClaims naming what is wrong."""
    role_claim = claims.get("role")
    if not isinstance(role_claim, str) or role_claim not in set(Role):
        raise InvalidClaims(f"role {role_claim!r} is not one of {', '.join(Role)}")
    role = Role(role_claim)
    rule = ROLE_CLAIMS[role]
    # JSON null is an absent claim, as identity providers write unset attributes.
    present = {name: claims[name] for name in SCOPE_CLAIMS if claims.get(name) is not None}
    for name in present.keys() - rule.takes:
        raise InvalidClaims(f"role {role} takes no {name!r} claim")
    if len(present.keys() & set(TERRITORY)) > 1:
        raise InvalidClaims(f"role {role} names one of gmina, powiat, region, not several")
    values: dict[str, Any] = {}
    for name, value in present.items():
        if not isinstance(value, str):
            raise InvalidClaims(f"claim {name!r} must be a string, not {type(value).__name__}")
        if name == "institution":
            values[name] = _institution(value)
        elif name == "region" and rule.several_regions:
            values[name] = _regions(value)
        else:
            values[name] = _place(name, value)
    return Scope(role=role, **values)


def _institution(value: str) -> UUID:
    if not _UUID.fullmatch(value):
        raise InvalidClaims(f"claim 'institution' {value!r} is not a UUID")
    return UUID(value)


def _place(level: str, value: str) -> str:
    """A TERYT code of the claim's own level that the TERC register holds."""
    register = terc()
    known = {"gmina": value in register, "powiat": value in register.powiats,
             "region": value in register.regions}  # fmt: skip
    if not _DIGITS[level].fullmatch(value) or not known[level]:
        raise InvalidClaims(f"claim {level!r} {value!r} is not a {level} code of the TERC register")
    return value


def _regions(value: str) -> str:
    """An analyst's region claim: one region, several comma-separated, or "*" for all."""
    if value == ALL_REGIONS:
        return value
    codes = [part.strip() for part in value.split(",")]
    return ",".join(sorted({_place("region", code) for code in codes}))
