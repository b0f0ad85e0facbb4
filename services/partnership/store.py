"""The partnership service's SQL: the directory copy, partnerships with their agreements,
membership history, representatives, roles and diagnostic team, and the change log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.partnership.domain import Membership, State
from shared.codes import PartnershipRole
from shared.events import InstitutionRegistered, PartnershipChanged
from shared.teryt import terc

# --- the directory, from referrals' institution events --------------------------------------


async def save_institution(
    tx: asyncpg.Connection, event: InstitutionRegistered, at: datetime
) -> None:
    """Each event carries the whole entry; an older one arriving late changes nothing."""
    await tx.execute(
        """INSERT INTO institutions (institution_id, name, sector, gminas, powiats, active, as_of)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (institution_id) DO UPDATE
               SET name = $2, sector = $3, gminas = $4, powiats = $5, active = $6, as_of = $7
               WHERE institutions.as_of <= $7""",
        event.institution_id,
        event.name,
        str(event.sector),
        event.gminas,
        event.powiats,
        event.active,
        at,
    )


async def institutions(conn: asyncpg.Connection, ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT institution_id, name, sector, active FROM institutions
           WHERE institution_id = ANY($1)""",
        ids,
    )
    return {r["institution_id"]: dict(r) for r in rows}


async def sector_of(conn: asyncpg.Connection, institution: UUID) -> str | None:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "SELECT sector FROM institutions WHERE institution_id = $1", institution
    )


# --- partnerships ---------------------------------------------------------------------------


async def partnership_id(
    conn: asyncpg.Connection, gmina: str, *, create: bool = False, lock: bool = False
) -> UUID | None:
    """The gmina's partnership, made on first need when `create`; locked for a change."""
    found = await conn.fetchval(
        "SELECT partnership_id FROM partnerships WHERE gmina = $1"
        + (" FOR UPDATE" if lock else ""),
        gmina,
    )
    if found is not None or not create:
        return found  # type: ignore[no-any-return]
    place = terc().gmina(gmina).place
    await conn.execute(
        """INSERT INTO partnerships (partnership_id, gmina, powiat, region)
           VALUES ($1, $2, $3, $4) ON CONFLICT (gmina) DO NOTHING""",
        uuid4(),
        gmina,
        place.powiat,
        place.region,
    )
    return await partnership_id(conn, gmina, lock=lock)


async def state(conn: asyncpg.Connection, pid: UUID, gmina: str) -> State:
    memberships = await conn.fetch(
        """SELECT institution_id, joined_on, left_on FROM memberships
           WHERE partnership_id = $1 ORDER BY joined_on, institution_id""",
        pid,
    )
    roles = await conn.fetch(
        "SELECT role, institution_id FROM role_holders WHERE partnership_id = $1 AND until IS NULL",
        pid,
    )
    team = await conn.fetch(
        "SELECT institution_id FROM diagnostic_team WHERE partnership_id = $1", pid
    )
    return State(
        gmina=gmina,
        memberships=tuple(
            Membership(r["institution_id"], r["joined_on"], r["left_on"]) for r in memberships
        ),
        roles={PartnershipRole(r["role"]): r["institution_id"] for r in roles},
        diagnostic_team=frozenset(r["institution_id"] for r in team),
    )


async def log(
    tx: asyncpg.Connection,
    pid: UUID,
    on_day: date,
    what: str,
    actor: str,
    institution: UUID | None = None,
) -> None:
    await tx.execute(
        """INSERT INTO partnership_log (partnership_id, on_day, what, institution_id, actor)
           VALUES ($1, $2, $3, $4, $5)""",
        pid,
        on_day,
        what,
        institution,
        actor,
    )


async def add_agreement(
    tx: asyncpg.Connection,
    pid: UUID,
    *,
    signed_on: date,
    valid_from: date,
    valid_until: date | None,
    gmina_signed: bool,
    powiat_signed: bool,
    documents: list[str],
    parties: list[UUID],
) -> UUID:
    agreement_id = uuid4()
    await tx.execute(
        """INSERT INTO agreements (agreement_id, partnership_id, signed_on, valid_from,
                                   valid_until, gmina_signed, powiat_signed, documents)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        agreement_id,
        pid,
        signed_on,
        valid_from,
        valid_until,
        gmina_signed,
        powiat_signed,
        documents,
    )
    await tx.executemany(
        "INSERT INTO agreement_parties (agreement_id, institution_id) VALUES ($1, $2)",
        [(agreement_id, p) for p in parties],
    )
    return agreement_id


async def join(tx: asyncpg.Connection, pid: UUID, institution: UUID, joined_on: date) -> None:
    await tx.execute(
        """INSERT INTO memberships (membership_id, partnership_id, institution_id, joined_on)
           VALUES ($1, $2, $3, $4)""",
        uuid4(),
        pid,
        institution,
        joined_on,
    )


async def leave(tx: asyncpg.Connection, pid: UUID, institution: UUID, left_on: date) -> None:
    await tx.execute(
        """UPDATE memberships SET left_on = $3
           WHERE partnership_id = $1 AND institution_id = $2 AND left_on IS NULL""",
        pid,
        institution,
        left_on,
    )
    # A member who leaves leaves the diagnostic team; its representatives end with it.
    await tx.execute(
        "DELETE FROM diagnostic_team WHERE partnership_id = $1 AND institution_id = $2",
        pid,
        institution,
    )
    await tx.execute(
        """UPDATE representatives SET until = $3, name = NULL, function = NULL, email = NULL
           WHERE partnership_id = $1 AND institution_id = $2 AND until IS NULL""",
        pid,
        institution,
        left_on,
    )


async def add_representative(
    tx: asyncpg.Connection,
    pid: UUID,
    institution: UUID,
    name: str,
    function: str,
    email: str,
    since: date,
) -> UUID:
    representative_id = uuid4()
    await tx.execute(
        """INSERT INTO representatives
               (representative_id, partnership_id, institution_id, name, function, email, since)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        representative_id,
        pid,
        institution,
        name,
        function,
        email,
        since,
    )
    return representative_id


async def representative(
    conn: asyncpg.Connection, pid: UUID, representative_id: UUID
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """SELECT representative_id, institution_id, until FROM representatives
           WHERE partnership_id = $1 AND representative_id = $2""",
        pid,
        representative_id,
    )
    return dict(row) if row else None


async def end_representative(
    tx: asyncpg.Connection, pid: UUID, representative_id: UUID, until: date
) -> None:
    """A representative who no longer represents: the dates stay, the personal data goes."""
    await tx.execute(
        """UPDATE representatives SET until = $3, name = NULL, function = NULL, email = NULL
           WHERE partnership_id = $1 AND representative_id = $2""",
        pid,
        representative_id,
        until,
    )
    await tx.execute(
        "UPDATE role_holders SET representative_id = NULL WHERE representative_id = $1",
        representative_id,
    )


async def set_role(
    tx: asyncpg.Connection,
    pid: UUID,
    role: PartnershipRole,
    institution: UUID,
    representative_id: UUID | None,
    since: date,
) -> None:
    await tx.execute(
        """UPDATE role_holders SET until = $3
           WHERE partnership_id = $1 AND role = $2 AND until IS NULL""",
        pid,
        str(role),
        since,
    )
    await tx.execute(
        """INSERT INTO role_holders (partnership_id, role, institution_id, representative_id, since)
           VALUES ($1, $2, $3, $4, $5)""",
        pid,
        str(role),
        institution,
        representative_id,
        since,
    )


async def set_diagnostic_team(tx: asyncpg.Connection, pid: UUID, team: frozenset[UUID]) -> None:
    await tx.execute("DELETE FROM diagnostic_team WHERE partnership_id = $1", pid)
    await tx.executemany(
        "INSERT INTO diagnostic_team (partnership_id, institution_id) VALUES ($1, $2)",
        [(pid, i) for i in sorted(team)],
    )


async def changed(tx: asyncpg.Connection, pid: UUID) -> PartnershipChanged:
    """Count the change and say what the partnership is now (ids only, never people)."""
    row = await tx.fetchrow(
        """UPDATE partnerships SET version = version + 1, own_changes = true, updated_at = now()
           WHERE partnership_id = $1 RETURNING gmina, version""",
        pid,
    )
    assert row is not None
    current = await state(tx, pid, row["gmina"])
    signed_on = await tx.fetchval(
        "SELECT max(signed_on) FROM agreements WHERE partnership_id = $1", pid
    )
    return PartnershipChanged(
        gmina=row["gmina"],
        institutions=sorted(current.members),
        coordinator_institution=current.roles.get(PartnershipRole.COORDINATOR),
        animator_institution=current.roles.get(PartnershipRole.ANIMATOR),
        adviser_institution=current.roles.get(PartnershipRole.ADVISER),
        diagnostic_team=sorted(current.diagnostic_team),
        partnership_id=pid,
        version=row["version"],
        agreement_signed_on=signed_on,
    )


# --- reading --------------------------------------------------------------------------------


async def gminas_of_member(conn: asyncpg.Connection, institution: UUID) -> list[str]:
    rows = await conn.fetch(
        """SELECT p.gmina FROM partnerships p JOIN memberships m USING (partnership_id)
           WHERE m.institution_id = $1 AND m.left_on IS NULL ORDER BY p.gmina""",
        institution,
    )
    return [r["gmina"] for r in rows]


async def summaries(conn: asyncpg.Connection, gminas: list[str]) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT p.partnership_id, p.gmina, p.version,
                  (SELECT count(*) FROM memberships m
                   WHERE m.partnership_id = p.partnership_id AND m.left_on IS NULL) AS members,
                  (SELECT max(signed_on) FROM agreements a
                   WHERE a.partnership_id = p.partnership_id) AS agreement_signed_on,
                  (SELECT count(*) FROM meetings t
                   WHERE t.partnership_id = p.partnership_id) AS meetings
           FROM partnerships p WHERE p.gmina = ANY($1::text[]) ORDER BY p.gmina""",
        gminas,
    )
    return [dict(r) for r in rows]


async def view(conn: asyncpg.Connection, pid: UUID, *, with_people: bool) -> dict[str, Any]:
    """The whole partnership as the API shows it; representatives' contact only `with_people`."""
    head = await conn.fetchrow(
        "SELECT partnership_id, gmina, version FROM partnerships WHERE partnership_id = $1", pid
    )
    assert head is not None
    agreements = [
        {**dict(a), "parties": list(a["parties"])}
        for a in await conn.fetch(
            """SELECT a.agreement_id, a.signed_on, a.valid_from, a.valid_until, a.gmina_signed,
                      a.powiat_signed, a.documents,
                      coalesce((SELECT array_agg(ap.institution_id ORDER BY ap.institution_id)
                                FROM agreement_parties ap
                                WHERE ap.agreement_id = a.agreement_id), '{}') AS parties
               FROM agreements a WHERE a.partnership_id = $1
               ORDER BY a.signed_on, a.recorded_at""",
            pid,
        )
    ]
    memberships = await conn.fetch(
        """SELECT m.institution_id, m.joined_on, m.left_on, i.name, i.sector
           FROM memberships m LEFT JOIN institutions i USING (institution_id)
           WHERE m.partnership_id = $1 ORDER BY m.joined_on, i.name, m.institution_id""",
        pid,
    )
    representatives = await conn.fetch(
        """SELECT representative_id, institution_id, name, function, email, since, until
           FROM representatives WHERE partnership_id = $1 AND until IS NULL
           ORDER BY institution_id, since, representative_id""",
        pid,
    )
    roles = await conn.fetch(
        """SELECT r.role, r.institution_id, r.representative_id, r.since, r.until, i.name
           FROM role_holders r LEFT JOIN institutions i USING (institution_id)
           WHERE r.partnership_id = $1 ORDER BY r.since, r.recorded_at""",
        pid,
    )
    team = await conn.fetch(
        "SELECT institution_id FROM diagnostic_team WHERE partnership_id = $1 ORDER BY 1", pid
    )
    history = await conn.fetch(
        """SELECT at, on_day, what, institution_id FROM partnership_log
           WHERE partnership_id = $1 ORDER BY entry_id DESC LIMIT 200""",
        pid,
    )
    return {
        **dict(head),
        "agreements": agreements,
        "members": [dict(m) for m in memberships if m["left_on"] is None],
        "membership_history": [dict(m) for m in memberships],
        "representatives": [
            {
                **dict(r),
                **({} if with_people else {"name": None, "function": None, "email": None}),
            }
            for r in representatives
        ],
        "roles": [dict(r) for r in roles if r["until"] is None],
        "role_history": [dict(r) for r in roles],
        "diagnostic_team": [r["institution_id"] for r in team],
        "history": [dict(h) for h in history],
    }
