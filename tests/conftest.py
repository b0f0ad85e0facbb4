"""Test environment: a RabbitMQ virtual host and databases of the tests' own, made anew each run,
so tests never touch a running `kooperacja up` and always start from a clean state.

KOOP_TEST_NAMESPACE names the vhost and database prefix (default kooperacja_test) and
KOOP_TEST_PORT_BASE the first HTTP port (default 8201), so two test runs can share a machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

NAMESPACE = os.environ.get("KOOP_TEST_NAMESPACE", "kooperacja_test")
PORT_BASE = int(os.environ.get("KOOP_TEST_PORT_BASE", "8201"))
SERVICES = ("intake", "diagnosis", "referrals", "reporting", "partnership", "notifications")

os.environ["KOOP_AMQP_URL"] = f"amqp://guest:guest@127.0.0.1:5672/{NAMESPACE}"
os.environ["KOOP_DATABASE_PREFIX"] = NAMESPACE
os.environ.setdefault("KOOP_OUTBOX_POLL_SECONDS", "0.2")
# The tests sign their tokens with the built-in development secret (test.sh sets this too).
os.environ.setdefault("KOOP_ENV", "development")
os.environ.setdefault("KOOP_MAX_ATTEMPTS", "3")
for i, name in enumerate((*SERVICES, "probe", "web")):
    os.environ[f"KOOP_{name.upper()}_PORT"] = str(PORT_BASE + i)
# E-mail goes to an SMTP server a test starts on this port (aiosmtpd, plain SMTP on loopback);
# until it runs, sending fails and is retried, which is how the tests want it.
SMTP_PORT = PORT_BASE + 29  # clear of the integration tests' services (8 … 27, 31)
os.environ.setdefault("KOOP_SMTP_HOST", "127.0.0.1")
os.environ.setdefault("KOOP_SMTP_PORT", str(SMTP_PORT))
os.environ.setdefault("KOOP_SMTP_TLS", "none")
os.environ.setdefault("KOOP_SMTP_SEND_EVERY_SECONDS", "0.3")
os.environ.setdefault("KOOP_SMTP_RETRY_SECONDS", "0.5")
os.environ.setdefault(
    "KOOP_NOTIFICATIONS_PUBLIC_URL", f"http://127.0.0.1:{os.environ['KOOP_WEB_PORT']}"
)
os.environ.setdefault("KOOP_REFERRALS_WATCH_SECONDS", "1")
os.environ.setdefault(
    "KOOP_REFERRALS_PUBLIC_URL", f"http://127.0.0.1:{os.environ['KOOP_WEB_PORT']}"
)

import asyncpg  # noqa: E402
import pytest  # noqa: E402

from shared.settings import get_settings  # noqa: E402

get_settings.cache_clear()

# The services as processes and the API harness, for the e2e and the browser tests alike.
from tests.stack import api, outside_subscriber, running, settings, stack  # noqa: E402

__all__ = ["api", "outside_subscriber", "running", "settings", "stack"]


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


async def _drop_test_databases() -> None:
    admin = await asyncpg.connect(f"{get_settings().postgres_url}/postgres")
    try:
        names = await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{NAMESPACE}\\_%"
        )
        for row in names:
            await admin.execute(f'DROP DATABASE "{row["datname"]}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session", autouse=True)
def clean_slate(request: pytest.FixtureRequest) -> None:
    """A fresh vhost and fresh databases for the integration and end-to-end tests."""
    needs_infra = any(
        any(f"/{kind}/" in str(item.path) for kind in ("integration", "e2e", "browser", "cluster"))
        for item in request.session.items
    )
    if not needs_infra:
        return
    if shutil.which("rabbitmqctl") is None:
        pytest.exit("rabbitmqctl not found: the tests make their own RabbitMQ vhost with it", 2)
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", NAMESPACE], capture_output=True)
    _rabbitmqctl("add_vhost", NAMESPACE)
    _rabbitmqctl("set_permissions", "-p", NAMESPACE, "guest", ".*", ".*", ".*")
    asyncio.run(_drop_test_databases())
