"""Referrals' SQL: the institution directory, partnerships (PZK), referrals and their locks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.referrals.domain import (
    LIVE_STATES,
    OPEN_STATES,
    SERVED_STATES,
    Candidate,
    ReferralState,
)
from shared import case_state, locks
from shared.codes import Sector, SupportType
from shared.events import Place


def _sql_list(states: frozenset[ReferralState]) -> str:
    """A set of the domain's states as an SQL list, made from the enum alone."""
    return ", ".join(f"'{state}'" for state in sorted(states))


_OPEN = _sql_list(OPEN_STATES)
_LIVE = _sql_list(LIVE_STATES)
_SERVED = _sql_list(SERVED_STATES)

_INSTITUTION_COLUMNS = """i.institution_id, i.name, i.sector, i.support_types, i.gminas,
    i.powiats, i.capacity, i.capacity_by_type, i.active, i.ops_gmina, i.contact_email,
    i.created_at, i.updated_at,
    coalesce((SELECT array_agg(p.gmina ORDER BY p.gmina) FROM partnerships p
              WHERE p.institution_id = i.institution_id), '{}') AS partnership_gminas"""

_REFERRAL_COLUMNS = """referral_id, recommendation_id, diagnosis_id, case_id, round, gmina, powiat,
    region, variant, support_type, priority, institution_id, state, attempt, accept_by,
    complete_by, accepted_at, closed_at, decline_reason, outcome, cancel_reason,
    acceptance_overdue_at, completion_overdue_at, created_at, updated_at"""


# --- locks ----------------------------------------------------------------------------------


async def lock_case(tx: asyncpg.Connection, case_id: UUID) -> None:
    """Serialise everything that changes one case's referrals (a decline racing a closure).
    The consumer holds this lock already for the case of each event it handles."""
    await locks.lock_subject(tx, locks.case(case_id))


async def try_lock_case(tx: asyncpg.Connection, case_id: UUID) -> bool:
    """Take the case lock only if free: used while holding the routing lock, never to wait."""
    return await locks.try_lock_subject(tx, locks.case(case_id))


async def lock_routing(tx: asyncpg.Connection) -> None:
    """Capacity is an invariant across rows (open referrals per institution and type), so every
    transaction that takes or frees a place takes this lock after its case lock: routing
    decisions are serialised, and lock order (case, then routing) rules out deadlocks."""
    await locks.lock_key(tx, locks.ROUTING)


# --- institutions ---------------------------------------------------------------------------


def _institution(row: asyncpg.Record) -> dict[str, Any]:
    found = dict(row)
    found["capacity_by_type"] = json.loads(found["capacity_by_type"])
    found["ops_gmina"] = found["ops_gmina"].strip() if found["ops_gmina"] else None
    return found


async def register_institution(tx: asyncpg.Connection, inst: dict[str, Any]) -> None:
    await tx.execute(
        """INSERT INTO institutions (institution_id, name, sector, support_types, gminas,
                                     powiats, capacity, capacity_by_type, ops_gmina, contact_email)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)""",
        inst["institution_id"],
        inst["name"],
        inst["sector"],
        inst["support_types"],
        inst["gminas"],
        inst["powiats"],
        inst["capacity"],
        json.dumps(inst["capacity_by_type"]),
        inst["ops_gmina"],
        inst.get("contact_email"),
    )


async def namesakes(
    tx: asyncpg.Connection,
    name: str,
    gminas: set[str],
    powiats: set[str],
    other_than: UUID | None = None,
) -> list[UUID]:
    """Active institutions of the same name (case and spacing aside) serving one of these
    gminas, or one of these powiats as a whole."""
    rows = await tx.fetch(
        r"""SELECT institution_id FROM institutions
           WHERE active AND lower(regexp_replace(btrim(name), '\s+', ' ', 'g')) = $1
             AND (gminas && $2::text[] OR powiats && $3::text[])
             AND institution_id IS DISTINCT FROM $4
           ORDER BY created_at""",
        " ".join(name.split()).lower(),
        sorted(gminas),
        sorted(powiats),
        other_than,
    )
    return [r["institution_id"] for r in rows]


async def update_institution(tx: asyncpg.Connection, inst: dict[str, Any]) -> None:
    await tx.execute(
        """UPDATE institutions SET name = $2, sector = $3, support_types = $4, gminas = $5,
                  powiats = $6, capacity = $7, capacity_by_type = $8::jsonb, active = $9,
                  ops_gmina = $10, contact_email = $11, updated_at = now()
           WHERE institution_id = $1""",
        inst["institution_id"],
        inst["name"],
        inst["sector"],
        inst["support_types"],
        inst["gminas"],
        inst["powiats"],
        inst["capacity"],
        json.dumps(inst["capacity_by_type"]),
        inst["active"],
        inst["ops_gmina"],
        inst.get("contact_email"),
    )


async def get_institution(
    conn: asyncpg.Connection, institution_id: UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE OF i" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_INSTITUTION_COLUMNS} FROM institutions i WHERE i.institution_id = $1{lock}",
        institution_id,
    )
    return _institution(row) if row else None


async def ops_of(conn: asyncpg.Connection, gmina: str) -> UUID | None:
    """The active institution registered as the gmina's social-assistance centre (OPS)."""
    return await conn.fetchval(
        "SELECT institution_id FROM institutions WHERE ops_gmina = $1 AND active", gmina
    )


async def list_institutions(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {_INSTITUTION_COLUMNS} FROM institutions i ORDER BY i.name")
    return [_institution(r) for r in rows]


async def save_partnership(
    tx: asyncpg.Connection, gmina: str, institutions: list[UUID], at: datetime
) -> bool:
    """The gmina's PZK members as the partnership service announced them; an announcement
    older than the one kept changes nothing. Whether it was taken."""
    newer = await tx.fetchval(
        """INSERT INTO partnership_versions (gmina, as_of) VALUES ($1, $2)
           ON CONFLICT (gmina) DO UPDATE SET as_of = $2 WHERE partnership_versions.as_of <= $2
           RETURNING true""",
        gmina,
        at,
    )
    if not newer:
        return False
    await tx.execute("DELETE FROM partnerships WHERE gmina = $1", gmina)
    await tx.executemany(
        "INSERT INTO partnerships (gmina, institution_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(gmina, i) for i in sorted(set(institutions))],
    )
    return True


async def partnership_of(tx: asyncpg.Connection, gmina: str) -> list[UUID]:
    rows = await tx.fetch(
        "SELECT institution_id FROM partnerships WHERE gmina = $1 ORDER BY institution_id", gmina
    )
    return [r["institution_id"] for r in rows]


async def candidates(
    tx: asyncpg.Connection, support_type: SupportType, place: Place
) -> list[Candidate]:
    """Active institutions offering the support in the gmina or its powiat, with their load
    (the maintained counter of migration 0007, one row per candidate whatever the history).

    Callers hold the routing lock, so the load read here cannot change before they commit.
    """
    rows = await tx.fetch(
        """SELECT i.institution_id, i.sector,
                  coalesce((i.capacity_by_type ->> $1)::int, i.capacity) AS capacity,
                  $2 = ANY(i.gminas) AS serves_gmina,
                  EXISTS (SELECT 1 FROM partnerships p
                          WHERE p.gmina = $2 AND p.institution_id = i.institution_id)
                      AS in_partnership,
                  coalesce((SELECT l.open_referrals FROM institution_load l
                            WHERE l.institution_id = i.institution_id
                              AND l.support_type = $1), 0) AS open_referrals,
                  coalesce(i.ops_gmina = $2, false) AS is_gmina_ops
           FROM institutions i
           WHERE i.active AND $1 = ANY(i.support_types)
             AND ($2 = ANY(i.gminas) OR $3 = ANY(i.powiats))
           ORDER BY i.institution_id""",
        str(support_type),
        place.gmina,
        place.powiat,
    )
    return [
        Candidate(
            institution_id=r["institution_id"],
            sector=Sector(r["sector"]),
            serves_gmina=r["serves_gmina"],
            in_partnership=r["in_partnership"],
            capacity=r["capacity"],
            open_referrals=r["open_referrals"],
            is_gmina_ops=r["is_gmina_ops"],
        )
        for r in rows
    ]


async def open_load_drift(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Where the maintained open load differs from a recount of the referrals (none, unless
    something wrote around the trigger): institution, support type, counter, recount."""
    rows = await conn.fetch(
        f"""WITH recount AS (
               SELECT institution_id, support_type, count(*)::int AS n FROM referrals
               WHERE institution_id IS NOT NULL AND state IN ({_OPEN})
               GROUP BY institution_id, support_type)
           SELECT coalesce(l.institution_id, r.institution_id) AS institution_id,
                  coalesce(l.support_type, r.support_type) AS support_type,
                  coalesce(l.open_referrals, 0) AS counter, coalesce(r.n, 0) AS recount
           FROM institution_load l FULL JOIN recount r USING (institution_id, support_type)
           WHERE coalesce(l.open_referrals, 0) <> coalesce(r.n, 0)
           ORDER BY 1, 2"""
    )
    return [dict(r) for r in rows]


async def sector_of(tx: asyncpg.Connection, institution_id: UUID) -> Sector:
    return Sector(
        await tx.fetchval(
            "SELECT sector FROM institutions WHERE institution_id = $1", institution_id
        )
    )


# --- cases and recommendations ---------------------------------------------------------------


async def record_case_event(
    tx: asyncpg.Connection, case_id: UUID, *, closed: bool, round: int, sequence: int | None
) -> None:
    """Mirror intake's closing or reopening (shared/case_state.py)."""
    await case_state.record(
        tx, "case_status", case_id, closed=closed, round=round, sequence=sequence
    )


async def is_round_closed(tx: asyncpg.Connection, case_id: UUID, round: int) -> bool:
    """Whether intake closed the case in `round` or a later one: nothing of that round is
    routed any more."""
    return await case_state.closed_round(tx, "case_status", case_id) >= round


async def settle_consent(
    tx: asyncpg.Connection, case_id: UUID, shared: bool, sequence: int | None
) -> bool | None:
    """Record consent withdrawn or given again unless a later event of intake already said
    otherwise. Returns whether sharing was in effect before (None: it did not change, because
    this event is not the latest; a case never withdrawn counts as shared)."""
    before = await tx.fetchrow(
        "SELECT shared, sequence FROM case_consent WHERE case_id = $1", case_id
    )
    seq = sequence if sequence is not None else 0
    if before is not None and before["sequence"] >= seq:
        return None
    await tx.execute(
        """INSERT INTO case_consent (case_id, shared, sequence) VALUES ($1, $2, $3)
           ON CONFLICT (case_id) DO UPDATE
               SET shared = excluded.shared, sequence = excluded.sequence, changed_at = now()""",
        case_id,
        shared,
        seq,
    )
    return True if before is None else bool(before["shared"])


async def is_consent_withdrawn(tx: asyncpg.Connection, case_id: UUID) -> bool:
    return (
        await tx.fetchval("SELECT shared FROM case_consent WHERE case_id = $1", case_id)
    ) is False


async def held_for_consent(tx: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    """The last referral of each recommendation of the case that the family's withdrawal
    cancelled (or held before it was routed), where the recommendation has no live referral
    and was not dropped since, of a round not closed since: what consent given again routes."""
    rows = await tx.fetch(
        f"""SELECT DISTINCT ON (recommendation_id) {_REFERRAL_COLUMNS} FROM referrals r
            WHERE case_id = $1 AND cancel_reason = 'consent_withdrawn'
              AND r.round > coalesce((SELECT closed_round FROM case_status s
                                      WHERE s.case_id = r.case_id), 0)
              AND NOT EXISTS (SELECT 1 FROM referrals l
                              WHERE l.recommendation_id = r.recommendation_id
                                AND l.state IN ({_SERVED}))
              AND NOT EXISTS (SELECT 1 FROM dropped_recommendations d
                              WHERE d.recommendation_id = r.recommendation_id)
            ORDER BY recommendation_id, created_at DESC""",
        case_id,
    )
    return sorted((dict(r) for r in rows), key=lambda r: (r["priority"], r["created_at"]))


async def declined_institutions(tx: asyncpg.Connection, recommendation_id: UUID) -> set[UUID]:
    rows = await tx.fetch(
        """SELECT DISTINCT institution_id FROM referrals
           WHERE recommendation_id = $1 AND state = 'declined'""",
        recommendation_id,
    )
    return {r["institution_id"] for r in rows}


async def newer_plan_version(
    tx: asyncpg.Connection, plan_id: UUID, case_id: UUID, version: int
) -> bool:
    """Record that the plan's referrals follow this version, unless they follow a later one
    (or this one) already; returns whether it was recorded."""
    status = await tx.execute(
        """INSERT INTO plan_versions (plan_id, case_id, version) VALUES ($1, $2, $3)
           ON CONFLICT (plan_id) DO UPDATE SET version = excluded.version, seen_at = now()
           WHERE plan_versions.version < excluded.version""",
        plan_id,
        case_id,
        version,
    )
    return status == "INSERT 0 1"


async def recommendation_history(
    tx: asyncpg.Connection, ids: list[UUID]
) -> dict[UUID, dict[str, Any]]:
    """For each recommendation with referrals: whether one is live (assigned, accepted,
    completed or waiting), whether the family's withdrawal holds it, and its last attempt."""
    rows = await tx.fetch(
        f"""SELECT recommendation_id,
                  bool_or(state IN ({_SERVED})) AS live,
                  bool_or(cancel_reason = 'consent_withdrawn') AS held,
                  max(attempt) AS attempts
           FROM referrals WHERE recommendation_id = ANY($1::uuid[])
           GROUP BY recommendation_id""",
        ids,
    )
    return {r["recommendation_id"]: dict(r) for r in rows}


async def recommendations_of_diagnosis(tx: asyncpg.Connection, diagnosis_id: UUID) -> set[UUID]:
    rows = await tx.fetch(
        "SELECT DISTINCT recommendation_id FROM referrals WHERE diagnosis_id = $1", diagnosis_id
    )
    return {r["recommendation_id"] for r in rows}


async def undrop(tx: asyncpg.Connection, ids: list[UUID]) -> None:
    """Recommendations a later version of the plan takes in again."""
    await tx.execute(
        "DELETE FROM dropped_recommendations WHERE recommendation_id = ANY($1::uuid[])", ids
    )


async def drop_recommendation(
    tx: asyncpg.Connection, recommendation_id: UUID, case_id: UUID
) -> None:
    await tx.execute(
        """INSERT INTO dropped_recommendations (recommendation_id, case_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING""",
        recommendation_id,
        case_id,
    )


async def live_support(
    tx: asyncpg.Connection, case_id: UUID, support_type: SupportType
) -> UUID | None:
    """The recommendation whose referral of this support type the case has open or waiting."""
    found = await tx.fetchval(
        f"""SELECT recommendation_id FROM referrals
           WHERE case_id = $1 AND support_type = $2
             AND state IN ({_LIVE})
           LIMIT 1""",
        case_id,
        str(support_type),
    )
    return found


async def merge_recommendation(
    tx: asyncpg.Connection, recommendation_id: UUID, case_id: UUID, into: UUID
) -> None:
    await tx.execute(
        """INSERT INTO merged_recommendations (recommendation_id, case_id, into_recommendation)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
        recommendation_id,
        case_id,
        into,
    )


async def tried_institutions(tx: asyncpg.Connection, recommendation_id: UUID) -> set[UUID]:
    rows = await tx.fetch(
        """SELECT DISTINCT institution_id FROM referrals
           WHERE recommendation_id = $1 AND institution_id IS NOT NULL""",
        recommendation_id,
    )
    return {r["institution_id"] for r in rows}


# --- referrals ------------------------------------------------------------------------------


async def save_referral(
    tx: asyncpg.Connection,
    *,
    referral_id: UUID,
    recommendation_id: UUID,
    diagnosis_id: UUID,
    case_id: UUID,
    round: int,
    place: Place,
    support_type: SupportType,
    priority: int,
    institution_id: UUID | None,
    state: ReferralState,
    attempt: int,
    accept_by: datetime | None,
) -> None:
    await tx.execute(
        """INSERT INTO referrals (referral_id, recommendation_id, diagnosis_id, case_id, gmina,
                                  powiat, region, variant, support_type, priority,
                                  institution_id, state, attempt, accept_by, round)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)""",
        referral_id,
        recommendation_id,
        diagnosis_id,
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
        str(support_type),
        priority,
        institution_id,
        str(state),
        attempt,
        accept_by,
        round,
    )


async def get_referral(
    conn: asyncpg.Connection, referral_id: UUID, *, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_REFERRAL_COLUMNS} FROM referrals WHERE referral_id = $1{lock}", referral_id
    )
    return dict(row) if row else None


async def assign(
    tx: asyncpg.Connection,
    referral_id: UUID,
    state: ReferralState,
    institution_id: UUID,
    accept_by: datetime,
) -> None:
    """A waiting recommendation's referral goes to an institution that now has room."""
    await tx.execute(
        """UPDATE referrals SET state = $2, institution_id = $3, accept_by = $4,
                  updated_at = now()
           WHERE referral_id = $1""",
        referral_id,
        str(state),
        institution_id,
        accept_by,
    )


async def accept(
    tx: asyncpg.Connection, referral_id: UUID, accepted_at: datetime, complete_by: datetime
) -> None:
    await tx.execute(
        """UPDATE referrals SET state = 'accepted', accepted_at = $2, complete_by = $3,
                  updated_at = now()
           WHERE referral_id = $1""",
        referral_id,
        accepted_at,
        complete_by,
    )


async def close(
    tx: asyncpg.Connection,
    referral_id: UUID,
    state: ReferralState,
    *,
    decline_reason: str | None = None,
    outcome: str | None = None,
    cancel_reason: str | None = None,
) -> None:
    """End a referral: declined, completed or cancelled, with the code saying why or how."""
    await tx.execute(
        """UPDATE referrals SET state = $2, decline_reason = $3, outcome = $4, cancel_reason = $5,
                  closed_at = now(), updated_at = now()
           WHERE referral_id = $1""",
        referral_id,
        str(state),
        decline_reason,
        outcome,
        cancel_reason,
    )


async def live_referrals_of_case(
    tx: asyncpg.Connection, case_id: UUID, *, up_to_round: int
) -> list[dict[str, Any]]:
    """Open and waiting referrals of a case planned in `up_to_round` or before, locked."""
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE case_id = $1 AND state IN ({_LIVE})
              AND round <= $2
            ORDER BY priority, created_at FOR UPDATE""",
        case_id,
        up_to_round,
    )
    return [dict(r) for r in rows]


async def unaccepted_referrals_of_case(
    tx: asyncpg.Connection, case_id: UUID
) -> list[dict[str, Any]]:
    """Referrals of a case no institution has accepted yet (assigned or waiting), locked."""
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE case_id = $1 AND state IN ('assigned', 'unassignable')
            ORDER BY priority, created_at FOR UPDATE""",
        case_id,
    )
    return [dict(r) for r in rows]


async def live_referrals_of_diagnosis(
    tx: asyncpg.Connection, diagnosis_id: UUID
) -> list[dict[str, Any]]:
    """Open and waiting referrals of a diagnosis's recommendations, locked."""
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE diagnosis_id = $1 AND state IN ({_LIVE})
            ORDER BY priority, created_at FOR UPDATE""",
        diagnosis_id,
    )
    return [dict(r) for r in rows]


async def open_referrals_of_institution(
    tx: asyncpg.Connection, institution_id: UUID
) -> list[dict[str, Any]]:
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE institution_id = $1 AND state IN ({_OPEN})
            ORDER BY priority, created_at""",
        institution_id,
    )
    return [dict(r) for r in rows]


async def waiting_for(
    tx: asyncpg.Connection,
    *,
    support_types: list[str] | None,
    gminas: list[str] | None,
    powiats: list[str] | None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Waiting (unassignable) recommendations, most urgent and oldest first; None = any."""
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE state = 'unassignable'
              AND ($1::text[] IS NULL OR support_type = ANY($1))
              AND ($2::text[] IS NULL OR gmina = ANY($2) OR powiat = ANY($3))
            ORDER BY priority, created_at LIMIT $4""",
        support_types,
        gminas,
        powiats if powiats is not None else [],
        limit,
    )
    return [dict(r) for r in rows]


async def claim_overdue(tx: asyncpg.Connection, limit: int = 200) -> list[dict[str, Any]]:
    """Open referrals past a deadline not yet reported, locked; rows locked by a concurrent
    transition (or another instance's watch) are skipped and looked at next time."""
    rows = await tx.fetch(
        f"""SELECT {_REFERRAL_COLUMNS}, now() AS checked_at FROM referrals
            WHERE (state = 'assigned' AND acceptance_overdue_at IS NULL AND accept_by < now())
               OR (state = 'accepted' AND completion_overdue_at IS NULL AND complete_by < now())
            ORDER BY created_at LIMIT $1
            FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [dict(r) for r in rows]


async def mark_overdue(tx: asyncpg.Connection, referral_id: UUID, stage: str) -> None:
    column = "acceptance_overdue_at" if stage == "acceptance" else "completion_overdue_at"
    await tx.execute(
        f"UPDATE referrals SET {column} = now(), updated_at = now() WHERE referral_id = $1",
        referral_id,
    )


# A referral is in a territory (the gminas of `gminas`, an array parameter) when the case it
# is for is: where the case was transferred to (case_places) if it moved, else where the
# referral was made. Written as two index-friendly parts, for `referrals r`.
_IN_TERRITORY = """((r.gmina = ANY({gminas}::text[])
      AND NOT EXISTS (SELECT 1 FROM case_places p WHERE p.case_id = r.case_id
                      AND p.gmina <> ALL({gminas}::text[])))
     OR r.case_id IN (SELECT p.case_id FROM case_places p
                      WHERE p.gmina = ANY({gminas}::text[])))"""


async def find_referrals(
    conn: asyncpg.Connection,
    *,
    institution_id: UUID | None,
    state: str | None,
    case_id: UUID | None,
    gminas: list[str] | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Referrals matching the filters, oldest first, a page of `limit` from `offset`; `gminas`
    (the codes of a coordinator's territory) keeps a coordinator to it."""
    rows = await conn.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals r
            WHERE ($1::uuid IS NULL OR institution_id = $1)
              AND ($2::text IS NULL OR state = $2)
              AND ($3::uuid IS NULL OR case_id = $3)
              AND ($4::text[] IS NULL OR {_IN_TERRITORY.format(gminas="$4")})
            ORDER BY created_at, referral_id LIMIT $5 OFFSET $6""",
        institution_id,
        state,
        case_id,
        gminas,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def referrals_of_case(
    conn: asyncpg.Connection, case_id: UUID, gminas: list[str]
) -> list[dict[str, Any]]:
    """Every referral of a case in these gminas (the caller's territory), with its
    institution and whether it goes on as the institution's own relation (accepted, and the
    family's consent withdrawn since), oldest first."""
    rows = await conn.fetch(
        f"""SELECT {", ".join("r." + c.strip() for c in _REFERRAL_COLUMNS.split(","))},
                   i.name AS institution_name, i.sector,
                   (r.state = 'accepted' AND c.shared IS FALSE) AS own_relation
            FROM referrals r
            LEFT JOIN institutions i USING (institution_id)
            LEFT JOIN case_consent c USING (case_id)
            WHERE r.case_id = $1 AND {_IN_TERRITORY.format(gminas="$2")}
            ORDER BY r.created_at, r.referral_id""",
        case_id,
        gminas,
    )
    return [dict(r) for r in rows]


async def overdue_referrals(
    conn: asyncpg.Connection, gminas: list[str], limit: int = 1000, offset: int = 0
) -> list[dict[str, Any]]:
    """Open referrals whose deadline was reported missed and which are still not acted on."""
    rows = await conn.fetch(
        f"""SELECT {_REFERRAL_COLUMNS},
                   CASE WHEN state = 'assigned' THEN 'acceptance' ELSE 'completion' END AS stage
            FROM referrals r
            WHERE {_IN_TERRITORY.format(gminas="$1")}
              AND ((state = 'assigned' AND acceptance_overdue_at IS NOT NULL)
                   OR (state = 'accepted' AND completion_overdue_at IS NOT NULL))
            ORDER BY coalesce(completion_overdue_at, acceptance_overdue_at), referral_id
            LIMIT $2 OFFSET $3""",
        gminas,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


# --- cases transferred to another gmina's OPS ------------------------------------------------


async def follow_case_place(
    tx: asyncpg.Connection, case_id: UUID, place: Place, sequence: int | None
) -> bool:
    """Record where a transferred case is now, unless a later word of intake's (its sequence)
    is recorded already; returns whether it was recorded."""
    status = await tx.execute(
        """INSERT INTO case_places AS p (case_id, gmina, powiat, region, variant, sequence)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (case_id) DO UPDATE
               SET gmina = $2, powiat = $3, region = $4, variant = $5, sequence = $6
               WHERE p.sequence < $6""",
        case_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
        sequence or 0,
    )
    return status == "INSERT 0 1"


async def case_place(conn: asyncpg.Connection, case_id: UUID) -> Place | None:
    """Where a transferred case is now; None for a case never transferred."""
    row = await conn.fetchrow(
        "SELECT gmina, powiat, region, variant FROM case_places WHERE case_id = $1", case_id
    )
    if row is None:
        return None
    return Place(gmina=row["gmina"], powiat=row["powiat"], region=row["region"],
                 variant=row["variant"])  # fmt: skip


async def move_referral(tx: asyncpg.Connection, referral_id: UUID, place: Place) -> None:
    """A referral that reached no institution (waiting, or held while consent is withdrawn)
    goes with its case to the receiving gmina, where it is routed from then on."""
    await tx.execute(
        """UPDATE referrals SET gmina = $2, powiat = $3, region = $4, variant = $5,
                  updated_at = now()
           WHERE referral_id = $1""",
        referral_id,
        place.gmina,
        place.powiat,
        place.region,
        str(place.variant),
    )
