"""Intake's event handlers: access grants from referrals, the case's move into support.

Each runs inside the consumer's transaction after the inbox check.
"""

from __future__ import annotations

import logging

import asyncpg

from services.intake import store
from services.intake.domain import Step
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import DiagnosisCompleted, ReferralAccepted, SupportCancelled, SupportCompleted

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
    state = await store.load_state(tx, event.case_id, lock=True)
    if state is None:
        log.warning("diagnosis.completed.v1 for case %s unknown to intake", event.case_id)
        return
    after = state.start_support()
    if after is not None:
        await store.move(tx, state, Step.START_SUPPORT, after, actor="diagnosis")
