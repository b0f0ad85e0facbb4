"""Intake's event handlers: access grants from referrals, the case's move into support once
the diagnosis of its current round is concluded.

Each runs inside the consumer's transaction after the inbox check.
"""

from __future__ import annotations

import logging

import asyncpg

from services.intake import store
from services.intake.domain import Step
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import (
    DiagnosisCompleted,
    DiagnosisRevised,
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


@handlers.on(DiagnosisCompleted)
async def on_diagnosis_completed(
    tx: asyncpg.Connection, event: DiagnosisCompleted, _: Envelope
) -> None:
    await _start_support(tx, event)


@handlers.on(DiagnosisRevised)
async def on_diagnosis_revised(
    tx: asyncpg.Connection, event: DiagnosisRevised, _: Envelope
) -> None:
    # After a reopening the review of the diagnosis concludes with a revision; within a round
    # in support a revision changes nothing here.
    await _start_support(tx, event)


async def _start_support(
    tx: asyncpg.Connection, event: DiagnosisCompleted | DiagnosisRevised
) -> None:
    """The diagnosis of the case's current round is concluded: the plan (IPW) starts."""
    state = await store.load_state(tx, event.case_id, lock=True)
    if state is None:
        log.warning("%s for case %s unknown to intake", event.routing_key, event.case_id)
        return
    after = state.start_support(event.round)
    if after is not None:
        await store.move(tx, state, Step.START_SUPPORT, after, actor="diagnosis")
