import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import Principal, Role, Unauthenticated, decode_token, issue_token
from shared.settings import Settings

SETTINGS = Settings(jwt_secret="unit-test-secret-of-at-least-32-bytes!")


def test_token_round_trip_keeps_role_and_scope() -> None:
    token = issue_token(SETTINGS, subject="ala", role=Role.CASEWORKER, gmina="0601032")
    principal = decode_token(token, SETTINGS)
    assert principal == Principal(subject="ala", role=Role.CASEWORKER, gmina="0601032")


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"exp": int(time.time()) - 10},
        {"role": "superuser"},
    ],
)
def test_bad_tokens_are_refused(claims: dict[str, object]) -> None:
    base = {
        "sub": "x",
        "role": "caseworker",
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode({**base, **claims}, SETTINGS.jwt_secret, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_token(token, SETTINGS)


def test_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token(
        Settings(jwt_secret="another-secret-of-at-least-32-bytes!!"), subject="x", role=Role.ANALYST
    )
    with pytest.raises(Unauthenticated):
        decode_token(token, SETTINGS)


def test_rs256_tokens_are_checked_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings = Settings(jwt_private_key=private, jwt_public_key=public)
    token = issue_token(
        settings, subject="k", role=Role.COORDINATOR, powiat="0601", algorithm="RS256"
    )
    assert decode_token(token, settings).powiat == "0601"


def test_scope_covers_gmina_by_territory() -> None:
    assert Principal("a", Role.COORDINATOR, powiat="0601").covers_gmina("0601032")
    assert not Principal("a", Role.COORDINATOR, powiat="0601").covers_gmina("0602011")
    assert Principal("a", Role.ANALYST, region="06").covers_gmina("0601032")
    assert not Principal("a", Role.CASEWORKER, gmina="0601032").covers_gmina("0601042")
    assert not Principal("a", Role.OPERATOR).covers_gmina("0601032")


def test_macro_region_scope_covers_its_regions_only() -> None:
    macro = Principal("m", Role.ANALYST, region="06,14")
    assert macro.covers_gmina("0601032") and macro.covers_gmina("1465011")
    assert not macro.covers_gmina("1801011")
    assert Principal("m", Role.ANALYST, region="*").covers_gmina("2601011")


def test_scope_is_compared_by_whole_codes_not_prefixes() -> None:
    # A malformed scope never reaches here (decode_token refuses it), and even so it matches
    # nothing: the powiat and region of a gmina are its own digits, compared by equality.
    assert not Principal("a", Role.COORDINATOR, powiat="").covers_gmina("0601032")
    assert not Principal("a", Role.COORDINATOR, powiat="06").covers_gmina("0601032")
    assert not Principal("a", Role.COORDINATOR, region="").covers_gmina("0601032")
    assert not Principal("a", Role.COORDINATOR, powiat="0601").covers_gmina("0601")


def test_role_and_scope_are_read_from_the_claims_the_provider_names() -> None:
    from shared.identity_provider import standard_claims

    settings = Settings(
        jwt_role_claim="realm_access.roles",
        jwt_gmina_claim="kooperacja.gmina",
        jwt_institution_claim="org",
    )
    claims = {
        "sub": "x",
        "role": "operator",  # a claim of the same name elsewhere does not count
        "gmina": "0601011",
        "realm_access": {"roles": ["offline_access", "caseworker", "analyst"]},
        "kooperacja": {"gmina": "0601032"},
    }
    mapped = standard_claims(claims, settings)
    assert mapped["role"] == "caseworker"
    assert mapped["gmina"] == "0601032"
    assert "institution" not in mapped
