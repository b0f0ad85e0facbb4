"""Bearer-token authentication and role/scope authorisation shared by every HTTP API.

Tokens are JWTs (HS256 with a shared secret, or RS256 with a public key) carrying `role` and the
scope the role acts in: `gmina`, `powiat`, `region` (TERYT codes; a macro-region's analyst has
several, comma-separated, or "*") and `institution` (UUID).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import Depends, Request

from shared.errors import DomainError, Forbidden
from shared.settings import Settings, get_settings


class Role(StrEnum):
    CASEWORKER = "caseworker"  # pracownik socjalny OPS
    TEAM_MEMBER = "team_member"  # członek PZK
    COORDINATOR = "coordinator"  # koordynator / animator PZK
    INSTITUTION_STAFF = "institution_staff"
    ANALYST = "analyst"  # regional analyst (ROPS)
    OPERATOR = "operator"


class Unauthenticated(DomainError):
    status = 401
    title = "Wymagane uwierzytelnienie"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    gmina: str | None = None
    powiat: str | None = None
    region: str | None = None
    institution: UUID | None = None

    def covers_gmina(self, gmina: str) -> bool:
        """Whether this principal's territorial scope includes the gmina."""
        if self.gmina is not None:
            return self.gmina == gmina
        if self.powiat is not None:
            return gmina.startswith(self.powiat)
        if self.region is not None:
            # A macro-region (several partner regions) is a comma-separated list, "*" all.
            regions = [r.strip() for r in self.region.split(",")]
            return "*" in regions or gmina[:2] in regions
        return False

    def require_gmina(self, gmina: str) -> None:
        if not self.covers_gmina(gmina):
            raise Forbidden("out_of_scope", f"gmina {gmina} is outside your scope")


def _key_material(value: str) -> str:
    if value and not value.lstrip().startswith("-----") and Path(value).is_file():
        return Path(value).read_text()
    return value


def decode_token(token: str, settings: Settings) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("invalid_token", f"malformed token: {exc}") from exc
    algorithm = header.get("alg", "")
    if algorithm not in settings.jwt_algorithms:
        raise Unauthenticated("invalid_token", f"algorithm {algorithm!r} not accepted")
    if algorithm.startswith("HS"):
        key: Any = settings.jwt_secret
    else:
        key = _key_material(settings.jwt_public_key)
        if not key:
            raise Unauthenticated("invalid_token", "no public key configured for RS256")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthenticated("invalid_token", str(exc)) from exc
    try:
        return Principal(
            subject=str(claims["sub"]),
            role=Role(claims.get("role")),
            gmina=claims.get("gmina"),
            powiat=claims.get("powiat"),
            region=claims.get("region"),
            institution=UUID(claims["institution"]) if claims.get("institution") else None,
        )
    except (ValueError, KeyError) as exc:
        raise Unauthenticated("invalid_token", f"bad role or scope claim: {exc}") from exc


def issue_token(
    settings: Settings,
    *,
    subject: str,
    role: Role,
    gmina: str | None = None,
    powiat: str | None = None,
    region: str | None = None,
    institution: UUID | str | None = None,
    ttl_seconds: int = 8 * 3600,
    algorithm: str = "HS256",
) -> str:
    """Sign a token; for local use (`kooperacja token`) and tests."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": str(role),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    for name, value in (
        ("gmina", gmina),
        ("powiat", powiat),
        ("region", region),
        ("institution", institution),
    ):
        if value is not None:
            claims[name] = str(value)
    key = (
        settings.jwt_secret
        if algorithm.startswith("HS")
        else _key_material(settings.jwt_private_key)
    )
    return jwt.encode(claims, key, algorithm=algorithm)


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("missing_token", "send Authorization: Bearer <token>")
    return decode_token(token.strip(), get_settings())


def requires(*roles: Role) -> Any:
    """A FastAPI dependency admitting only the given roles; yields the principal."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Forbidden("role_not_allowed", f"role {principal.role} may not do this")
        return principal

    return Depends(dependency)


Authenticated = Annotated[Principal, Depends(current_principal)]
