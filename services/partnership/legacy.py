"""The upgrade path: before this service, referrals owned PZK membership (an institution's
`partnership_gminas`) and published `partnership.changed.v1` with the members only. Such an
event, seen live (a referrals of the earlier release still running) or while catching up from
the event log (catch_up.py), seeds the gmina's membership here, with its history dated by the
events' days — until the partnership's first change of its own: from then on this service is
the authority and referrals' announcements are history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg

from services.partnership import store
from shared.envelope import Envelope
from shared.events import PartnershipChanged

LEGACY_PRODUCER = "referrals"
ACTOR = "referrals (przed wydzieleniem partnerstwa)"
POLAND = ZoneInfo("Europe/Warsaw")


def is_legacy(env: Envelope) -> bool:
    return env.source.rsplit("/", 1)[-1] == LEGACY_PRODUCER


async def adopt_legacy_partnership(
    tx: asyncpg.Connection, event: PartnershipChanged, env: Envelope
) -> bool:
    """Seed from one of referrals' announcements; whether it changed anything. A later
    announcement seen before an earlier one wins (by the envelope's time)."""
    if not is_legacy(env):
        return False
    pid = await store.partnership_id(tx, event.gmina, create=True, lock=True)
    assert pid is not None
    row = await tx.fetchrow(
        "SELECT own_changes, legacy_as_of FROM partnerships WHERE partnership_id = $1", pid
    )
    if row["own_changes"] or (row["legacy_as_of"] is not None and row["legacy_as_of"] > env.time):
        return False
    await tx.execute(
        "UPDATE partnerships SET legacy_as_of = $2 WHERE partnership_id = $1", pid, env.time
    )
    day = env.time.astimezone(POLAND).date()
    current = await store.state(tx, pid, event.gmina)
    wanted = set(event.institutions)
    for institution in sorted(wanted - current.members):
        await store.join(tx, pid, institution, day)
        await store.log(tx, pid, day, "joined", ACTOR, institution)
    for institution in sorted(current.members - wanted):
        membership = current.current(institution)
        assert membership is not None
        await store.leave(tx, pid, institution, max(day, membership.joined_on))
        await store.log(tx, pid, day, "left", ACTOR, institution)
    return True
