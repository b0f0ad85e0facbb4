"""A case transferred to another gmina's OPS (case.transferred.v1): its support goes on there.

- An accepted referral goes on: the institution took the family on, a relation of its own
  (it may well serve the new gmina, as a powiat's PCPR does); the institution completes it.
- A referral not accepted yet is cancelled (`case_transferred`) and its support routed anew in
  the receiving gmina, never to an institution that declined it (the same institution may be
  chosen again if it serves that gmina too).
- A support waiting for a place, or held while the family's consent is withdrawn, reached no
  institution: it moves with the case and is routed there.

Every referral keeps the place it was made in (its events say so); the staff of the gmina the
case is in now read them all (store's territory check), those of the old gmina no longer do.
The latest transfer in intake's per-case sequence stands, whatever order they arrive in."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import asyncpg

from services.referrals import routing, store
from services.referrals.domain import ReferralState
from shared.events import CaseTransferred, Event

CASE_TRANSFERRED = "case_transferred"


async def follow(
    tx: asyncpg.Connection, event: CaseTransferred, sequence: int | None
) -> list[Event]:
    """Move the case's support to the receiving gmina (callers hold the case and routing
    locks); returns the events it caused. A transfer older than one recorded does nothing."""
    if not await store.follow_case_place(tx, event.case_id, event.place, sequence):
        return []
    there = event.place
    events: list[Event] = []
    freed: set[UUID] = set()
    waiting_types: set[str] = set()
    for row in await store.unaccepted_referrals_of_case(tx, event.case_id):
        if row["gmina"].strip() == there.gmina:
            continue  # made there already (a plan revised there arrived first)
        if row["state"] == ReferralState.UNASSIGNABLE:
            await store.move_referral(tx, row["referral_id"], there)
            waiting_types.add(row["support_type"])
            continue
        events += await routing.cancel(tx, row, CASE_TRANSFERRED)
        freed.add(row["institution_id"])
        declined = await store.declined_institutions(tx, row["recommendation_id"])
        again = replace(routing.pending_of(row), place=there)
        events += await routing.route(tx, again, attempt=row["attempt"] + 1, excluded=declined)
    for row in await store.held_for_consent(tx, event.case_id):
        await store.move_referral(tx, row["referral_id"], there)
    if waiting_types:
        events += await routing.assign_waiting(
            tx, support_types=sorted(waiting_types), gminas=[there.gmina], powiats=[there.powiat]
        )
    return events + await routing.assign_waiting_for(tx, freed)
