"""The partnership's group activities (zajęcia grupowe): a club (e.g. a senior club), a
workshop cycle, training or coaching, run by a gmina's PZK beside individual support, and their
sessions (day and length). Who takes part is intake's to know (case members); this service
knows the activity and its sessions. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from shared.codes import ActivityType
from shared.errors import Conflict, InvalidInput
from shared.events import ActivityRegistered, ActivitySessionHeld, Place

MAX_SESSION_MINUTES = 12 * 60  # one session is at most a (long) day


@dataclass(frozen=True)
class Activity:
    activity_id: UUID
    gmina: str
    activity_type: ActivityType
    title: str
    started_on: date
    ended_on: date | None = None


def register(
    place: Place, activity_type: ActivityType, title: str, started_on: date, today: date
) -> tuple[Activity, ActivityRegistered]:
    """A new activity of the gmina's PZK; it may be planned ahead (a year at most)."""
    if (started_on - today).days > 366:
        raise InvalidInput(
            "started_on_too_far", "zajęcia można zaplanować najwyżej rok naprzód",
            field="started_on",
        )  # fmt: skip
    activity = Activity(uuid4(), place.gmina, activity_type, title.strip(), started_on)
    event = ActivityRegistered(
        activity_id=activity.activity_id,
        place=place,
        activity_type=activity_type,
        started_on=started_on,
    )
    return activity, event


def hold_session(
    activity: Activity, place: Place, held_on: date, minutes: int, today: date
) -> ActivitySessionHeld:
    """A session that took place: not before the activity started, not in the future, of a
    length between a quarter of an hour and a day."""
    if held_on > today:
        raise InvalidInput(
            "held_on_in_future", "spotkanie zapisuje się po tym, jak się odbyło", field="held_on"
        )
    if held_on < activity.started_on:
        raise InvalidInput(
            "held_before_start",
            f"zajęcia rozpoczęły się {activity.started_on:%d.%m.%Y}; spotkanie nie może być"
            " wcześniejsze",
            field="held_on",
        )
    if activity.ended_on is not None and held_on > activity.ended_on:
        raise Conflict("activity_ended", "zajęcia zostały zakończone", field="held_on")
    if not 15 <= minutes <= MAX_SESSION_MINUTES:
        raise InvalidInput(
            "minutes_out_of_range",
            "czas spotkania od 15 minut do 12 godzin",
            field="minutes",
        )
    return ActivitySessionHeld(
        session_id=uuid4(),
        activity_id=activity.activity_id,
        place=place,
        activity_type=activity.activity_type,
        held_on=held_on,
        minutes=minutes,
    )
