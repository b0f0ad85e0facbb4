"""KOOP_ENV and the token keys on a real service: unset is production, which refuses to start
without a key of its own; with an identity provider's public key only asymmetric tokens get in,
and the public development secret never does."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.intake.app import spec as intake_spec
from shared.auth import Role, issue_token
from shared.runtime import ServiceRuntime
from shared.settings import DEVELOPMENT_SECRET, Environment, InsecureConfiguration, Settings
from tests.integration.service_under_test import Service, running

pytestmark = pytest.mark.integration
GMINA = "2602012"  # Imielno (świętokrzyskie): no other test of intake opens cases here


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE, PUBLIC = _key_pair()


def _service_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOOP_ENV", "KOOP_JWT_"))}
    return {**env, **overrides}


def _start_intake(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m services.intake`, expected to refuse to start (it is killed otherwise)."""
    return subprocess.run(
        [sys.executable, "-m", "services.intake"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("what", "env"),
    [
        ("KOOP_ENV unset, no key", {}),
        ("production, no key", {"KOOP_ENV": "production"}),
        ("the public development secret", {"KOOP_JWT_SECRET": DEVELOPMENT_SECRET}),
        ("a short secret", {"KOOP_JWT_SECRET": "too-short"}),
    ],
)
def test_production_refuses_to_start_without_a_key_of_its_own(
    what: str, env: dict[str, str]
) -> None:
    try:
        done = _start_intake(_service_env(**env))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what}: intake started")
    assert done.returncode == 2, (what, done.returncode, done.stderr[-2000:])
    assert "refuses to start" in done.stderr and "KOOP_JWT_SECRET" in done.stderr, done.stderr


async def test_runtime_refuses_before_touching_database_or_broker(settings: Settings) -> None:
    production = settings.model_copy(update={"env": Environment.PRODUCTION, "jwt_secret": ""})
    with pytest.raises(InsecureConfiguration):
        await ServiceRuntime(intake_spec, production).run()


@pytest.fixture(scope="module")
async def with_public_key(settings: Settings) -> AsyncIterator[Service]:
    """Intake in production with an identity provider's key, and a secret left set too."""
    configured = settings.model_copy(
        update={
            "env": Environment.PRODUCTION,
            "jwt_public_key": PUBLIC,
            "jwt_secret": "a-secret-someone-forgot-to-remove-0123456789",
        }
    )
    async with running(intake_spec, "intakekeys", 20, configured) as service:
        yield service


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_with_a_public_key_only_asymmetric_tokens_get_in(
    with_public_key: Service, caplog: pytest.LogCaptureFixture
) -> None:
    service = with_public_key
    provider = service.settings.model_copy(update={"jwt_private_key": PRIVATE})
    signed = issue_token(
        provider, subject="idp-user", role=Role.CASEWORKER, gmina=GMINA, algorithm="RS256"
    )
    r = await service.call("GET", "/cases", _bearer(signed))
    assert r.status_code == 200, r.text

    forged_with = {
        "the public development secret": Settings(env=Environment.DEVELOPMENT),
        "the secret left configured": Settings(
            env=Environment.DEVELOPMENT, jwt_secret=service.settings.jwt_secret
        ),
    }
    caplog.set_level(logging.WARNING, logger="shared.auth")
    for what, signer in forged_with.items():
        assert signer.hs_secret() in {DEVELOPMENT_SECRET, service.settings.jwt_secret}
        forged = issue_token(signer, subject="idp-user", role=Role.CASEWORKER, gmina=GMINA)
        r = await service.call("GET", "/cases", _bearer(forged))
        assert r.status_code == 401, (what, r.text)
        assert r.json()["code"] == "invalid_token"
    refusals = [r for r in caplog.records if "token refused" in r.getMessage()]
    assert len(refusals) == 2 and all("HS256" in r.getMessage() for r in refusals)


def test_the_development_secret_validates_nothing_in_production() -> None:
    # A deployment that set the development secret on purpose still gets no HS256 key.
    production = Settings(env=Environment.PRODUCTION, jwt_secret=DEVELOPMENT_SECRET)
    assert production.hs_secret() == ""
    assert Settings(env=Environment.PRODUCTION).hs_secret() == ""
    assert Settings(env=Environment.DEVELOPMENT).hs_secret() == DEVELOPMENT_SECRET
