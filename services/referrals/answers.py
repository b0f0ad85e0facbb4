"""An institution's answers to a referral — accept, decline with a reason, record completion —
as one story each, for the signed-in staff's routes and the e-mailed link's alike. The caller
has opened the transaction and locked the referral (`lock_referral`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.referrals import domain, routing, store
from services.referrals.domain import Action, ReferralState
from shared import outbox
from shared.codes import DeclineReason, SupportOutcome, SupportType
from shared.events import Event, ReferralAccepted, ReferralDeclined, SupportCompleted
from shared.outbox import Origin


async def lock_referral(
    conn: asyncpg.Connection, referral_id: UUID, *, frees_place: bool
) -> dict[str, Any] | None:
    """The referral locked after its case (and the routing lock when the answer frees or takes
    a place), so that the state it is checked in is the state it changes from."""
    found = await store.get_referral(conn, referral_id)
    if found is None:
        return None
    await store.lock_case(conn, found["case_id"])
    if frees_place:
        await store.lock_routing(conn)
    return await store.get_referral(conn, referral_id, for_update=True)


async def about(conn: asyncpg.Connection, ref: dict[str, Any]) -> dict[str, Any]:
    """What every event about one referral says of it."""
    return {
        "referral_id": ref["referral_id"],
        "case_id": ref["case_id"],
        "place": routing.place_of(ref),
        "support_type": SupportType(ref["support_type"]),
        "institution_id": ref["institution_id"],
        "sector": await store.sector_of(conn, ref["institution_id"]),
    }


async def accept(conn: asyncpg.Connection, origin: Origin, ref: dict[str, Any]) -> None:
    domain.next_state(ReferralState(ref["state"]), Action.ACCEPT)
    now = datetime.now(UTC)
    due = domain.complete_by(now, SupportType(ref["support_type"]))
    await store.accept(conn, ref["referral_id"], now, due)
    await outbox.add(conn, origin, ReferralAccepted(**await about(conn, ref), complete_by=due))


async def decline(
    conn: asyncpg.Connection, origin: Origin, ref: dict[str, Any], reason: DeclineReason
) -> None:
    """Declined with a reason code; the recommendation goes to the next institution at once."""
    state = domain.next_state(ReferralState(ref["state"]), Action.DECLINE)
    await store.close(conn, ref["referral_id"], state, decline_reason=str(reason))
    events: list[Event] = [
        ReferralDeclined(**await about(conn, ref), reason=reason, attempt=ref["attempt"])
    ]
    events += await routing.reroute(conn, ref)
    events += await routing.assign_waiting_for(conn, {ref["institution_id"]})
    await outbox.add(conn, origin, *events)


async def complete(
    conn: asyncpg.Connection, origin: Origin, ref: dict[str, Any], outcome: SupportOutcome
) -> None:
    """The support was given, with this outcome; the place is freed."""
    state = domain.next_state(ReferralState(ref["state"]), Action.COMPLETE)
    await store.close(conn, ref["referral_id"], state, outcome=str(outcome))
    events: list[Event] = [SupportCompleted(**await about(conn, ref), outcome=outcome)]
    events += await routing.assign_waiting_for(conn, {ref["institution_id"]})
    await outbox.add(conn, origin, *events)
