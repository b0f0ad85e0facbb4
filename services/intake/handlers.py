"""Intake's event handlers: access grants from referrals, the case's move into support when the
family agrees to the plan of the case's current round, the PZK's group activities its cases'
members may take part in.

Each runs inside the consumer's transaction after the inbox check.
"""

from __future__ import annotations

import logging

import asyncpg

from services.intake import evaluation_store, store
from services.intake.domain import Step
from services.intake.evaluation import KnownActivity
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    ActivityRegistered,
    PlanAgreed,
    PlanRevised,
    ReferralAccepted,
    SupportCancelled,
    SupportCompleted,
)

log = logging.getLogger(__name__)
handlers = Handlers()


@handlers.on(ReferralAccepted)
async def on_referral_accepted(
    tx: asyncpg.Connection, event: ReferralAccepted, _: Envelope
) -> None:
    # Staff of the institution may now read the minimal personal data the support needs.
    await store.grant(tx, event.referral_id, event.case_id, event.institution_id, event.sector)


@handlers.on(SupportCompleted)
async def on_support_completed(
    tx: asyncpg.Connection, event: SupportCompleted, _: Envelope
) -> None:
    # Support delivered: the institution no longer needs the person's data.
    await store.revoke(tx, event.referral_id, event.case_id, event.institution_id)


@handlers.on(SupportCancelled)
async def on_support_cancelled(
    tx: asyncpg.Connection, event: SupportCancelled, _: Envelope
) -> None:
    await store.revoke(tx, event.referral_id, event.case_id, event.institution_id)


@handlers.on(ActivityRegistered)
async def on_activity_registered(
    tx: asyncpg.Connection, event: ActivityRegistered, _: Envelope
) -> None:
    # Members of the gmina's cases may now be linked to the PZK's group activity.
    activity = KnownActivity(event.activity_id, event.activity_type, event.place.gmina)
    await evaluation_store.know_activity(tx, activity)


@handlers.on(PlanAgreed)
async def on_plan_agreed(tx: asyncpg.Connection, event: PlanAgreed, envelope: Envelope) -> None:
    # Support starts when the family agrees to its plan (IPW): the case goes into support.
    await _start_support(tx, event, envelope)


@handlers.on(PlanRevised)
async def on_plan_revised(tx: asyncpg.Connection, event: PlanRevised, envelope: Envelope) -> None:
    # After a reopening the plan revised for the new round starts the support again (and a
    # revision arriving before its agreement starts it as well); within a round in support a
    # revision changes nothing here.
    await _start_support(tx, event, envelope)


async def _start_support(
    tx: asyncpg.Connection, event: PlanAgreed | PlanRevised, envelope: Envelope
) -> None:
    state = await store.load_state(tx, event.case_id, lock=True)
    if state is None:
        log.warning("%s for case %s unknown to intake", envelope.routing_key, event.case_id)
        return
    after = state.start_support(event.round)
    if after is not None:
        await store.move(tx, state, Step.START_SUPPORT, after, actor="diagnosis")
