"""The claims each role's token takes (the README's table, row by row), and every malformed
claim refused: a wrong type, a code of the wrong level or not in the TERC register, a pattern."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import jwt
import pytest

from shared.auth import Principal, Role, Unauthenticated, decode_token
from shared.claims import ROLE_CLAIMS
from shared.settings import Settings

SETTINGS = Settings(env="development", jwt_secret="unit-test-secret-of-at-least-32-bytes!")
GMINA, POWIAT, REGION = "0601032", "0601", "06"
INSTITUTION = "3f2b8c1e-6d1a-4b5e-9c7d-2a1b0c9d8e7f"


def _decode(**claims: Any) -> Principal:
    base = {
        "sub": "x",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode({**base, **claims}, SETTINGS.jwt_secret, algorithm="HS256")
    return decode_token(token, SETTINGS)


# The README's table: role → (a full token's scope, the claims it may add, what it needs).
ROWS: list[tuple[Role, dict[str, str], dict[str, str]]] = [
    (Role.CASEWORKER, {"gmina": GMINA}, {}),
    (Role.TEAM_MEMBER, {"institution": INSTITUTION}, {"gmina": GMINA}),
    (Role.COORDINATOR, {"gmina": GMINA}, {"institution": INSTITUTION}),
    (Role.COORDINATOR, {"powiat": POWIAT}, {"institution": INSTITUTION}),
    (Role.COORDINATOR, {"region": REGION}, {"institution": INSTITUTION}),
    (Role.INSTITUTION_STAFF, {"institution": INSTITUTION}, {}),
    (Role.ANALYST, {"region": REGION}, {}),
    (Role.ANALYST, {"region": "06,14"}, {}),
    (Role.ANALYST, {"region": "*"}, {}),
    (Role.OPERATOR, {}, {}),
]


@pytest.mark.parametrize(("role", "needed", "optional"), ROWS)
def test_each_row_of_the_claims_table_is_accepted_with_its_scope(
    role: Role, needed: dict[str, str], optional: dict[str, str]
) -> None:
    for claims in (needed, {**needed, **optional}):
        principal = _decode(role=str(role), **claims)
        assert principal.role is role and principal.has_scope()
        for name, value in claims.items():
            got = getattr(principal, name)
            assert (str(got) if isinstance(got, UUID) else got) == value


@pytest.mark.parametrize(("role", "needed", "optional"), ROWS)
def test_each_row_without_its_scope_claim_is_no_access(
    role: Role, needed: dict[str, str], optional: dict[str, str]
) -> None:
    principal = _decode(role=str(role), **optional)
    assert principal.has_scope() is (not ROLE_CLAIMS[role].needs_one_of)


@pytest.mark.parametrize("role", list(Role))
def test_a_claim_a_role_does_not_take_invalidates_the_token(role: Role) -> None:
    takes = ROLE_CLAIMS[role].takes
    foreign = {"gmina": GMINA, "powiat": POWIAT, "region": REGION, "institution": INSTITUTION}
    for name, value in foreign.items():
        if name not in takes:
            with pytest.raises(Unauthenticated, match=name):
                _decode(role=str(role), **{name: value})


@pytest.mark.parametrize(
    ("role", "claims"),
    [
        (Role.CASEWORKER, {"gmina": ""}),
        (Role.CASEWORKER, {"gmina": "%"}),
        (Role.CASEWORKER, {"gmina": "0601%"}),
        (Role.CASEWORKER, {"gmina": "06010"}),
        (Role.CASEWORKER, {"gmina": "0601039"}),  # seven digits, not in the register
        (Role.CASEWORKER, {"gmina": 601032}),
        (Role.CASEWORKER, {"gmina": ["0601032"]}),
        (Role.COORDINATOR, {"powiat": ""}),
        (Role.COORDINATOR, {"powiat": "06"}),
        (Role.COORDINATOR, {"powiat": "0699"}),
        (Role.COORDINATOR, {"powiat": ["0601"]}),
        (Role.COORDINATOR, {"region": 6}),
        (Role.COORDINATOR, {"region": "6"}),
        (Role.COORDINATOR, {"region": "99"}),
        (Role.COORDINATOR, {"region": "06,14"}),  # several regions: an analyst's only
        (Role.COORDINATOR, {"region": "*"}),
        (Role.COORDINATOR, {"gmina": GMINA, "powiat": POWIAT}),
        (Role.COORDINATOR, {"gmina": GMINA, "institution": 123}),
        (Role.ANALYST, {"region": "06,"}),
        (Role.ANALYST, {"region": "06,99"}),
        (Role.ANALYST, {"region": "%"}),
        (Role.ANALYST, {"region": {"code": "06"}}),
        (Role.INSTITUTION_STAFF, {"institution": 123}),
        (Role.INSTITUTION_STAFF, {"institution": ""}),
        (Role.INSTITUTION_STAFF, {"institution": "not-a-uuid"}),
        (Role.INSTITUTION_STAFF, {"institution": "{" + INSTITUTION + "}"}),
        (Role.INSTITUTION_STAFF, {"institution": INSTITUTION.replace("-", "")}),
        (Role.TEAM_MEMBER, {"institution": INSTITUTION, "gmina": "%"}),
    ],
)
def test_malformed_or_wrongly_typed_claims_invalidate_the_token(
    role: Role, claims: dict[str, Any]
) -> None:
    with pytest.raises(Unauthenticated):
        _decode(role=str(role), **claims)


@pytest.mark.parametrize("claims", [{"role": 1}, {"role": None}, {"sub": 5}, {"sub": ""}])
def test_role_and_subject_of_another_type_invalidate_the_token(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated):
        _decode(**{"role": "operator", **claims})


def test_a_null_claim_is_an_absent_one() -> None:
    principal = _decode(role="institution_staff", institution=None)
    assert principal.institution is None and not principal.has_scope()


def test_scope_gminas_are_whole_codes_of_the_register() -> None:
    powiat = _decode(role="coordinator", powiat=POWIAT).gminas()
    assert GMINA in powiat and all(len(g) == 7 and g[:4] == POWIAT for g in powiat)
    region = _decode(role="coordinator", region=REGION).gminas()
    assert set(powiat) < set(region) and all(g[:2] == REGION for g in region)
    macro = _decode(role="analyst", region="14,06").gminas()
    assert set(region) < set(macro) and {g[:2] for g in macro} == {"06", "14"}
    assert _decode(role="caseworker", gmina=GMINA).gminas() == [GMINA]
