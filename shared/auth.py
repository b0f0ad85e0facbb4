"""Bearer-token authentication and role/scope authorisation shared by every HTTP API.

Tokens are JWTs (HS256 with a shared secret, or RS256 with an identity provider's public key)
carrying `role` and the scope the role acts in: `gmina`, `powiat`, `region` (TERYT codes; a
macro-region's analyst has several, comma-separated, or "*") and `institution` (UUID). The
claims are checked against a schema per role (`shared/claims.py`); scopes are compared as whole
codes of their own level, never as patterns.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared import identity_provider
from shared.claims import ALL_REGIONS, ROLE_CLAIMS, InvalidClaims, Role, parse_claims
from shared.errors import DomainError, Forbidden, InvalidInput
from shared.settings import InsecureConfiguration, Settings, get_settings
from shared.teryt import terc

__all__ = ["Principal", "Role", "Unauthenticated", "decode_token",
           "issue_token", "requires"]  # fmt: skip

log = logging.getLogger(__name__)


class Unauthenticated(DomainError):
    status = 401
    title = "Wymagane uwierzytelnienie"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    gmina: str | None = None
    powiat: str | None = None
    region: str | None = None  # one region; an analyst's may be "06,14" or "*"
    institution: UUID | None = None

    @property
    def regions(self) -> frozenset[str]:
        """The region codes of a region scope ("*" stands for all of them)."""
        return frozenset(self.region.split(",")) if self.region else frozenset()

    def has_scope(self) -> bool:
        """Whether the token names the scope its role needs; without it, no access at all."""
        needed = ROLE_CLAIMS[self.role].needs_one_of
        return not needed or any(getattr(self, name) is not None for name in needed)

    def covers_gmina(self, gmina: str) -> bool:
        """Whether this principal's territorial scope includes the gmina (a 7-digit code; its
        powiat and region are its first four and two digits)."""
        if self.gmina is not None:
            return self.gmina == gmina
        if self.powiat is not None:
            return len(gmina) == 7 and gmina[:4] == self.powiat
        if self.region is not None:
            return len(gmina) == 7 and (ALL_REGIONS in self.regions or gmina[:2] in self.regions)
        return False

    def covers_powiat(self, powiat: str) -> bool:
        """Whether the territorial scope includes the whole powiat (a 4-digit code)."""
        if self.powiat is not None:
            return self.powiat == powiat
        if self.region is not None and self.gmina is None:
            return len(powiat) == 4 and (ALL_REGIONS in self.regions or powiat[:2] in self.regions)
        return False

    def gminas(self) -> list[str]:
        """The TERC gminas the territorial scope covers (none without one): what a query
        compares its gmina column with, by equality."""
        register = terc()
        if self.gmina is not None:
            return [self.gmina]
        if self.powiat is not None:
            return [g.code for g in register.in_powiat(self.powiat)]
        if ALL_REGIONS in self.regions:
            return register.codes()
        return [g.code for region in sorted(self.regions) for g in register.in_region(region)]

    def require_gmina(self, gmina: str) -> None:
        if not self.covers_gmina(gmina):
            raise Forbidden("out_of_scope", f"Gmina {gmina} jest poza Twoim zakresem uprawnień.")

    def gmina_in_scope(self, gmina: str | None) -> str:
        """The gmina a reading names, or the principal's own: a gmina of the register, in
        scope."""
        code = gmina or self.gmina
        if code is None:
            raise InvalidInput("gmina_required", "podaj gminę", field="gmina")
        terc().gmina(code, field="gmina")
        self.require_gmina(code)
        return code


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
    accepted = settings.accepted_algorithms()
    if algorithm not in accepted:
        # A token signed another way than this deployment's keys: a misconfigured client or
        # a forgery (e.g. HS256 with a public secret where an identity provider signs).
        log.warning("token refused: algorithm %r, this service accepts %s", algorithm, accepted)
        raise Unauthenticated("invalid_token", f"algorithm {algorithm!r} not accepted")
    try:
        key: Any = (
            settings.hs_secret() if algorithm.startswith("HS") else _public_key(settings, token)
        )
    except jwt.PyJWTError as exc:
        # The identity provider's key set does not hold the token's key (or cannot be had).
        log.warning("token refused: no key of the identity provider for it (%s)", exc)
        raise Unauthenticated("invalid_token", f"no key for this token: {exc}") from exc
    if not key:
        log.warning("token refused: no key for %r is configured", algorithm)
        raise Unauthenticated("invalid_token", f"no key configured for {algorithm}")
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
    claims = identity_provider.standard_claims(claims, settings)
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("invalid_token", "claim 'sub' must be a non-empty string")
    try:
        scope = parse_claims(claims)
    except InvalidClaims as exc:
        raise Unauthenticated("invalid_token", f"bad role or scope claim: {exc}") from exc
    return Principal(
        subject=subject,
        role=scope.role,
        gmina=scope.gmina,
        powiat=scope.powiat,
        region=scope.region,
        institution=scope.institution,
    )


def _public_key(settings: Settings, token: str) -> Any:
    """The identity provider's key for this token (from its JWKS), or the configured one."""
    if settings.jwt_jwks_url:
        return identity_provider.signing_key(token, settings)
    return _key_material(settings.jwt_public_key)


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
        settings.hs_secret()
        if algorithm.startswith("HS")
        else _key_material(settings.jwt_private_key)
    )
    if not key:
        raise InsecureConfiguration(
            f"no key to sign {algorithm} tokens with: KOOP_JWT_SECRET (HS256), "
            "KOOP_JWT_PRIVATE_KEY (RS256), or KOOP_ENV=development for the built-in secret"
        )
    return jwt.encode(claims, key, algorithm=algorithm)


# Declares the bearer scheme in every operation's OpenAPI (Swagger's Authorize button); the
# header itself is read below, so a missing or malformed one gets our own problem answer.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="A token of the region's identity provider (or `kooperacja token` locally)",
)


async def current_principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("missing_token", "send Authorization: Bearer <token>")
    # The running service's own settings (a test may run one with others than the process's).
    ctx = getattr(request.app.state, "ctx", None)
    return decode_token(token.strip(), ctx.settings if ctx is not None else get_settings())


def requires(*roles: Role) -> Any:
    """A FastAPI dependency admitting only the given roles; yields the principal."""

    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Forbidden("role_not_allowed", f"role {principal.role} may not do this")
        if not principal.has_scope():
            needed = " or ".join(sorted(ROLE_CLAIMS[principal.role].needs_one_of))
            raise Forbidden("scope_missing", f"role {principal.role} needs a {needed} claim")
        return principal

    return Depends(dependency)
