"""Routing rules: which institution should give a recommended support. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from shared.codes import Sector, SupportType

# An institution answers a referral (accepts or declines) within this time.
ACCEPTANCE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Candidate:
    """An active institution offering the support, seen from one case's gmina."""

    institution_id: UUID
    sector: Sector
    serves_gmina: bool  # else it serves the gmina's powiat
    in_partnership: bool  # sits on the gmina's PZK
    capacity: int  # open referrals it can hold for this support type
    open_referrals: int  # open referrals it holds now for this support type

    @property
    def has_room(self) -> bool:
        return self.open_referrals < self.capacity


def choose_institution(
    candidates: list[Candidate],
    *,
    excluded: set[UUID] = frozenset(),  # type: ignore[assignment]
) -> Candidate | None:
    """Prefer the gmina over its powiat, then PZK members, then the least loaded; only those
    with room and not tried before for this recommendation."""
    eligible = [c for c in candidates if c.has_room and c.institution_id not in excluded]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda c: (
            not c.serves_gmina,
            not c.in_partnership,
            c.open_referrals / max(c.capacity, 1),
            str(c.institution_id),
        ),
    )


def accept_by(now: datetime) -> datetime:
    return now + ACCEPTANCE_WINDOW


@dataclass(frozen=True)
class Route:
    recommendation_id: UUID
    support_type: SupportType
    chosen: Candidate | None
    attempt: int
