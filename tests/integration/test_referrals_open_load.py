"""Each institution's open load is a maintained counter (migration 0007): it follows every
change of a referral's state in the same transaction, and always equals a recount of the
referrals themselves — through every transition, a redelivery, a restore of the table by
COPY, and an upgrade of a database that already holds referrals."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.referrals import store
from shared.db import ensure_database, migrate
from shared.envelope import wrap
from shared.events import CaseConsentWithdrawn
from shared.settings import Settings
from tests.integration.conftest import eventually
from tests.integration.referrals_harness import (  # noqa: F401  (fixtures)
    Area,
    Referrals,
    referrals_fixture,
    referrals_process_fixture,
)

pytestmark = pytest.mark.integration

MIGRATIONS = Path(store.__file__).parent / "migrations"


async def load(referrals: Referrals, institution: UUID) -> int:
    """The counter of the institution's open psychologist referrals (0 without a row)."""
    found = await referrals.db.fetchval(
        """SELECT open_referrals FROM institution_load
           WHERE institution_id = $1 AND support_type = 'psychologist'""",
        institution,
    )
    return found or 0


async def open_rows(referrals: Referrals, institution: UUID) -> int:
    return await referrals.db.fetchval(
        """SELECT count(*) FROM referrals
           WHERE institution_id = $1 AND state IN ('assigned', 'accepted')""",
        institution,
    )


async def assert_agrees(referrals: Referrals, *institutions: UUID) -> None:
    assert await store.open_load_drift(referrals.db) == []
    for institution in institutions:
        assert await load(referrals, institution) == await open_rows(referrals, institution)


async def settled(referrals: Referrals, case_id: UUID, states: set[str]) -> None:
    async def check() -> bool:
        return {r["state"] for r in await referrals.referrals_of(case_id)} == states

    await eventually(check, what=f"case {case_id} in {states}")


async def test_the_counter_follows_every_transition(referrals: Referrals) -> None:
    area = Area()
    first = await referrals.register(area, ["psychologist"], capacity=3, partnership=True)
    second = await referrals.register(area, ["psychologist"], capacity=3)
    cases = [await referrals.agree_plan(area, "psychologist") for _ in range(5)]
    rows = [(await referrals.routed(c.case_id, 1))[0] for c in cases]
    assert await load(referrals, first) + await load(referrals, second) == 5
    await assert_agrees(referrals, first, second)
    ids = [r["referral_id"] for r in rows]
    by_id = {r["referral_id"]: r for r in rows}

    # accepted: still open, the load is unchanged
    url = f"/api/v1/referrals/{ids[0]}"
    staff = referrals.staff(by_id[ids[0]]["institution_id"])
    before = await load(referrals, by_id[ids[0]]["institution_id"])
    assert (await referrals.http.post(f"{url}/accept", headers=staff)).status_code == 200
    assert await load(referrals, by_id[ids[0]]["institution_id"]) == before
    await assert_agrees(referrals, first, second)

    # completed: one place freed
    response = await referrals.http.post(
        f"{url}/complete", headers=staff, json={"outcome": "partly"}
    )
    assert response.status_code == 200, response.text
    assert await load(referrals, by_id[ids[0]]["institution_id"]) == before - 1
    await assert_agrees(referrals, first, second)

    # declined: the place moves with the re-routed referral
    staff = referrals.staff(by_id[ids[1]]["institution_id"])
    response = await referrals.http.post(
        f"/api/v1/referrals/{ids[1]}/decline", headers=staff, json={"reason": "no_capacity"}
    )
    assert response.status_code == 200, response.text
    await referrals.routed(cases[1].case_id, 2)
    await assert_agrees(referrals, first, second)

    # the case closed: its open referral cancelled
    await referrals.close_case(area, cases[2].case_id)
    await settled(referrals, cases[2].case_id, {"cancelled"})
    await assert_agrees(referrals, first, second)

    # consent withdrawn: the unaccepted referral cancelled
    withdrawal = CaseConsentWithdrawn(
        case_id=cases[3].case_id, place=area.place(), withdrawn_on=date(2026, 6, 3)
    )
    await referrals.publish(withdrawal, envelope=wrap(withdrawal, region="06", service="intake"))
    await settled(referrals, cases[3].case_id, {"cancelled"})
    await assert_agrees(referrals, first, second)

    # every case has been through one path: the loads are what is still open
    assert await load(referrals, first) + await load(referrals, second) == 2


async def test_the_counter_holds_through_a_redelivery_and_a_restore_by_copy(
    referrals: Referrals,
) -> None:
    area = Area()
    institution = await referrals.register(area, ["psychologist"], capacity=10)
    case = await referrals.agree_plan(area, "psychologist")
    await referrals.routed(case.case_id, 1)
    # the same plan delivered again, as a replay of the log would: the inbox and the plan's
    # version leave the load as it was
    await referrals.publish(case)
    await referrals.publish(case, envelope=wrap(case, region="06", service="diagnosis"))
    others = [await referrals.agree_plan(area, "psychologist") for _ in range(3)]
    for other in others:
        await referrals.routed(other.case_id, 1)
    assert await load(referrals, institution) == 4
    await assert_agrees(referrals, institution)

    async with referrals.db.acquire() as conn:
        counters = await conn.fetch(
            "SELECT * FROM institution_load WHERE open_referrals > 0 ORDER BY 1, 2"
        )
        saved = io.BytesIO()
        async with conn.transaction():
            await store.lock_routing(conn)
            await conn.copy_from_table("referrals", output=saved, format="binary")
            await conn.execute("TRUNCATE referrals")
            assert await conn.fetchval("SELECT count(*) FROM institution_load") == 0
            saved.seek(0)
            await conn.copy_to_table("referrals", source=saved, format="binary")
        assert (
            await conn.fetch(
                "SELECT * FROM institution_load WHERE open_referrals > 0 ORDER BY 1, 2"
            )
            == counters
        )
    await assert_agrees(referrals, institution)


async def test_the_upgrade_counts_the_referrals_already_there(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url("open_load_upgrade")
    await ensure_database(url)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if int(path.name[:4]) < 7:
            shutil.copy(path, tmp_path / path.name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "referrals", tmp_path)
        busy, idle = uuid4(), uuid4()
        for institution in (busy, idle):
            await conn.execute(
                """INSERT INTO institutions (institution_id, name, sector, support_types, gminas)
                   VALUES ($1, 'Instytucja', 'social_assistance', '{psychologist}', '{0601011}')""",
                institution,
            )
        rows = [
            ("psychologist", "assigned"),
            ("psychologist", "accepted"),
            ("legal_advice", "assigned"),
            ("psychologist", "declined"),
            ("psychologist", "completed"),
            ("legal_advice", "cancelled"),
        ]
        for support_type, state in rows:
            await conn.execute(
                """INSERT INTO referrals (referral_id, recommendation_id, diagnosis_id, case_id,
                                          gmina, powiat, region, variant, support_type, priority,
                                          institution_id, state, attempt)
                   VALUES ($1, $2, $3, $4, '0601011', '0601', '06', 'rural', $5, 1, $6, $7, 1)""",
                uuid4(),
                uuid4(),
                uuid4(),
                uuid4(),
                support_type,
                busy,
                state,
            )
        for path in sorted(MIGRATIONS.glob("*.sql")):
            shutil.copy(path, tmp_path / path.name)
        assert await migrate(conn, "referrals", tmp_path) == sorted(
            p.name for p in MIGRATIONS.glob("*.sql") if int(p.name[:4]) >= 7
        )
        counted = await conn.fetch(
            "SELECT institution_id, support_type, open_referrals FROM institution_load"
        )
        assert sorted((r["support_type"], r["open_referrals"]) for r in counted) == [
            ("legal_advice", 1),
            ("psychologist", 2),
        ]
        assert {r["institution_id"] for r in counted} == {busy}
        assert await store.open_load_drift(conn) == []
    finally:
        await conn.close()
