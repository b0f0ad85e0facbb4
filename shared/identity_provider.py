"""Tokens of the region's identity provider (OpenID Connect): their RS256 keys from the
provider's JWKS, and the role and scope read from the claims the provider names them by.

KOOP_JWT_JWKS_URL names the key set (fetched when a token names a key not yet known, and kept
for `jwks_lifespan` seconds); KOOP_JWT_ROLE_CLAIM and KOOP_JWT_<SCOPE>_CLAIM name the claims
(a dotted path reaches into an object, e.g. `realm_access.roles`; from a list the first known
role is taken)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jwt

from shared.claims import Role
from shared.settings import Settings

ROLES = frozenset(str(role) for role in Role)
SCOPES = ("gmina", "powiat", "region", "institution")


@cache
def _key_set(url: str, lifespan: int) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=lifespan, timeout=5)


def signing_key(token: str, settings: Settings) -> Any:
    """The provider's public key the token says it was signed with (by `kid`; a provider with a
    single key may leave `kid` out); PyJWKClientError (a PyJWTError) when the key set cannot be
    had or does not hold the token's key."""
    client = _key_set(settings.jwt_jwks_url, settings.jwt_jwks_lifespan)
    kid = jwt.get_unverified_header(token).get("kid")
    if kid:
        return client.get_signing_key(kid).key
    keys = [k for k in client.get_jwk_set().keys if k.public_key_use in ("sig", None)]
    if len(keys) != 1:
        raise jwt.PyJWKClientError("the token names no key and the key set has not exactly one")
    return keys[0].key


def _at(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def standard_claims(claims: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The claims under the names the services read (`role`, `gmina`, …), taken from where
    this deployment's provider puts them."""
    out = dict(claims)
    role = _at(claims, settings.jwt_role_claim)
    if isinstance(role, list):
        role = next((r for r in role if r in ROLES), None)
    out["role"] = role
    for scope in SCOPES:
        value = _at(claims, getattr(settings, f"jwt_{scope}_claim"))
        if value is None:
            out.pop(scope, None)
        else:
            out[scope] = value
    return out
