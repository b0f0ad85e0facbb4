"""The partnership service's event handlers: the institution directory as referrals announces
it (names and sectors for the pages and for the sectors a meeting engages), and the PZK
memberships referrals announced before this service owned them (the upgrade path: see
catch_up.py). Each runs in the consumer's transaction after the inbox check."""

from __future__ import annotations

import asyncpg

from services.partnership import store
from services.partnership.legacy import adopt_legacy_partnership
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import InstitutionRegistered, InstitutionUpdated, PartnershipChanged

handlers = Handlers()


@handlers.on(InstitutionRegistered)
async def on_institution_registered(
    tx: asyncpg.Connection, event: InstitutionRegistered, env: Envelope
) -> None:
    await store.save_institution(tx, event, env.time)


@handlers.on(InstitutionUpdated)
async def on_institution_updated(
    tx: asyncpg.Connection, event: InstitutionUpdated, env: Envelope
) -> None:
    await store.save_institution(tx, event, env.time)


@handlers.on(PartnershipChanged)
async def on_partnership_changed(
    tx: asyncpg.Connection, event: PartnershipChanged, env: Envelope
) -> None:
    # Its own events come back through its queue too: only another producer's (referrals'
    # before the upgrade) seed the membership.
    await adopt_legacy_partnership(tx, event, env)
