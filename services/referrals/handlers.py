"""Referrals' event handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from services.referrals import domain, store
from shared import outbox
from shared.consumer import Handlers
from shared.envelope import Envelope
from shared.events import DiagnosisCompleted, SupportAssigned, SupportUnassignable
from shared.outbox import Origin

handlers = Handlers()


def origin_of(envelope: Envelope) -> Origin:
    return Origin(envelope.region, "referrals")


@handlers.on(DiagnosisCompleted)
async def on_diagnosis_completed(
    tx: asyncpg.Connection, event: DiagnosisCompleted, envelope: Envelope
) -> None:
    """Route each recommendation of the plan (IPW) to an institution that can give it."""
    now = datetime.now(UTC)
    for rec in sorted(event.recommendations, key=lambda r: r.priority):
        chosen = domain.choose_institution(
            await store.candidates(tx, rec.support_type, event.place)
        )
        referral_id = uuid4()
        common = dict(
            referral_id=referral_id,
            recommendation_id=rec.recommendation_id,
            diagnosis_id=event.diagnosis_id,
            case_id=event.case_id,
            place=event.place,
            support_type=rec.support_type,
            priority=rec.priority,
            attempt=1,
        )
        if chosen is None:
            await store.save_referral(
                tx, **common, institution_id=None, state="unassignable", accept_by=None
            )
            await outbox.add(
                tx,
                origin_of(envelope),
                SupportUnassignable(
                    recommendation_id=rec.recommendation_id,
                    case_id=event.case_id,
                    place=event.place,
                    support_type=rec.support_type,
                    attempts=0,
                ),
                cause=envelope,
            )
            continue
        due = domain.accept_by(now)
        await store.save_referral(
            tx, **common, institution_id=chosen.institution_id, state="assigned", accept_by=due
        )
        await outbox.add(
            tx,
            origin_of(envelope),
            SupportAssigned(
                referral_id=referral_id,
                recommendation_id=rec.recommendation_id,
                case_id=event.case_id,
                place=event.place,
                support_type=rec.support_type,
                institution_id=chosen.institution_id,
                sector=chosen.sector,
                attempt=1,
                accept_by=due,
            ),
            cause=envelope,
        )
