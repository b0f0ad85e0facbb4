"""Intake's SQL for the case file: search, household changes, interview entries, case notes,
transfers and the worklist. Nothing else touches intake's tables (store.py holds the rest)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.casefile import CaseDue, Household, Transfer, TransferState
from services.intake.domain import CaseStatus, Contact, Member
from services.intake.finding import ElsewhereCase
from shared.codes import Reason
from shared.teryt import terc

# --- history --------------------------------------------------------------------------


async def record_change(
    tx: asyncpg.Connection, case_id: UUID, step: str, status: CaseStatus, actor: str
) -> None:
    """A change of the file in the case's history; its status stays."""
    await tx.execute(
        """INSERT INTO case_history (case_id, step, from_status, to_status, actor)
           VALUES ($1, $2, $3, $3, $4)""",
        case_id,
        step,
        str(status),
        actor,
    )


# --- search -------------------------------------------------------------------------------------

# One fixed condition per kind of term, joined as the search uses them (numbered in turn), so
# each combination gets its own plan — by the surname key's index, the PESEL's or the
# reference's — instead of one generic plan with "$n IS NULL OR ..." that could use none.
_TERMS = {
    "surname": "m.last_name_key >= ${} AND m.last_name_key < ${}",
    "pesel": "m.pesel = ${}::bpchar",
    "external_id": "r.external_id = ${}",
}
_FOUND = """
    SELECT c.case_id, c.gmina, c.status, c.opened_on, r.external_id,
           m.person_id, m.first_name, m.last_name, m.birth_date, m.sex, m.relation, m.pesel,
           m.left_on
    FROM members m
    JOIN cases c USING (case_id)
    LEFT JOIN case_external_refs r ON r.case_id = c.case_id
    WHERE c.gmina = $1 AND {terms}
    ORDER BY c.opened_on DESC, c.case_id, m.position
    LIMIT $2"""


async def search(
    conn: asyncpg.Connection,
    gmina: str,
    *,
    surname: tuple[str, str] | None,
    pesel: str | None,
    external_id: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Members of the gmina's cases matching every term given (a surname by its folded key)."""
    args: list[object] = [gmina, limit]
    terms = []
    for kind, values in (
        ("surname", list(surname) if surname else []),
        ("pesel", [pesel] if pesel else []),
        ("external_id", [external_id] if external_id else []),
    ):
        if values:
            numbers = range(len(args) + 1, len(args) + 1 + len(values))
            terms.append(_TERMS[kind].format(*numbers))
            args.extend(values)
    return await conn.fetch(_FOUND.format(terms=" AND ".join(terms)), *args)


async def open_cases_elsewhere(
    conn: asyncpg.Connection,
    gminas: list[str],
    pesels: list[str],
    names: list[tuple[str, str, date]],
) -> list[tuple[ElsewhereCase, UUID]]:
    """Members still in open cases of these gminas with one of these PESELs or (folded
    surname, folded first name, birth date): each with its case id (for the audit only)."""
    if not gminas or not (pesels or names):
        return []
    # Two index probes joined by UNION (an OR of both would scan every member).
    rows = await conn.fetch(
        """SELECT c.case_id, c.gmina, m.pesel, m.first_name_key, m.last_name_key, m.birth_date
           FROM members m JOIN cases c USING (case_id)
           WHERE m.pesel = ANY($2::bpchar[])
             AND c.gmina = ANY($1::bpchar[]) AND c.status <> 'closed' AND m.left_on IS NULL
           UNION
           SELECT c.case_id, c.gmina, m.pesel, m.first_name_key, m.last_name_key, m.birth_date
           FROM unnest($3::text[], $4::text[], $5::date[]) AS n(last_key, first_key, born)
           JOIN members m ON m.last_name_key = n.last_key AND m.first_name_key = n.first_key
                         AND m.birth_date = n.born
           JOIN cases c USING (case_id)
           WHERE c.gmina = ANY($1::bpchar[]) AND c.status <> 'closed' AND m.left_on IS NULL""",
        gminas,
        pesels,
        [n[0] for n in names],
        [n[1] for n in names],
        [n[2] for n in names],
    )
    return [
        (
            ElsewhereCase(
                gmina=r["gmina"],
                pesel=r["pesel"].strip() if r["pesel"] else None,
                first_name_key=r["first_name_key"],
                last_name_key=r["last_name_key"],
                birth_date=r["birth_date"],
            ),
            r["case_id"],
        )
        for r in rows
    ]


# --- the household ------------------------------------------------------------------------------


def _member(row: asyncpg.Record) -> Member:
    return Member(
        person_id=row["person_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        relation=row["relation"],
        pesel=row["pesel"].strip() if row["pesel"] else None,
        contact=Contact(phone=row["phone"], email=row["email"], address=row["address"]),
    )


async def load_household(
    conn: asyncpg.Connection, case_id: UUID, *, lock: bool = False
) -> Household | None:
    case = await conn.fetchrow(
        "SELECT * FROM cases WHERE case_id = $1" + (" FOR UPDATE" if lock else ""), case_id
    )
    if case is None:
        return None
    members = await conn.fetch(
        "SELECT * FROM members WHERE case_id = $1 ORDER BY position", case_id
    )
    return Household(
        case_id=case_id,
        gmina=terc().gmina(case["gmina"]),
        status=CaseStatus(case["status"]),
        opened_on=case["opened_on"],
        reasons=tuple(Reason(r) for r in case["reasons"]),
        members=tuple(_member(m) for m in members),
        left=frozenset(m["person_id"] for m in members if m["left_on"] is not None),
    )


async def add_member(tx: asyncpg.Connection, case_id: UUID, m: Member, joined_on: date) -> None:
    await tx.execute(
        """INSERT INTO members (person_id, case_id, position, first_name, last_name, birth_date,
                                sex, relation, pesel, phone, email, address, birth_year,
                                joined_on)
           VALUES ($1, $2, (SELECT coalesce(max(position), -1) + 1 FROM members
                            WHERE case_id = $2),
                   $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        m.person_id,
        case_id,
        m.first_name,
        m.last_name,
        m.birth_date,
        m.sex,
        m.relation,
        m.pesel,
        m.contact.phone,
        m.contact.email,
        m.contact.address,
        m.birth_date.year,
        joined_on,
    )


async def mark_left(tx: asyncpg.Connection, person_id: UUID, left_on: date) -> None:
    await tx.execute("UPDATE members SET left_on = $2 WHERE person_id = $1", person_id, left_on)


async def correct_member(tx: asyncpg.Connection, m: Member) -> None:
    await tx.execute(
        """UPDATE members SET first_name = $2, last_name = $3, birth_date = $4, sex = $5,
                  pesel = $6, birth_year = $7
           WHERE person_id = $1""",
        m.person_id,
        m.first_name,
        m.last_name,
        m.birth_date,
        m.sex,
        m.pesel,
        m.birth_date.year,
    )


async def revise_reasons(tx: asyncpg.Connection, case_id: UUID, reasons: list[Reason]) -> None:
    await tx.execute(
        "UPDATE cases SET reasons = $2, updated_at = now() WHERE case_id = $1",
        case_id,
        [str(r) for r in reasons],
    )


# --- interview entries and notes ------------------------------------------------------------


async def interview_count(conn: asyncpg.Connection, case_id: UUID) -> int:
    return await conn.fetchval("SELECT count(*) FROM interview_entries WHERE case_id = $1", case_id)


async def add_interview(
    tx: asyncpg.Connection,
    entry_id: UUID,
    case_id: UUID,
    kind: str,
    conducted_on: date,
    summary: str,
    author: str,
) -> None:
    await tx.execute(
        """INSERT INTO interview_entries (entry_id, case_id, kind, conducted_on, summary, author)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        entry_id,
        case_id,
        kind,
        conducted_on,
        summary,
        author,
    )


async def interviews_of(conn: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT entry_id, kind, conducted_on, summary, author, recorded_at
           FROM interview_entries WHERE case_id = $1 ORDER BY conducted_on, recorded_at""",
        case_id,
    )
    return [dict(r) for r in rows]


async def add_note(
    tx: asyncpg.Connection,
    note_id: UUID,
    case_id: UUID,
    noted_on: date,
    text: str,
    follow_up_on: date | None,
    author: str,
) -> None:
    await tx.execute(
        """INSERT INTO case_notes (note_id, case_id, noted_on, text, follow_up_on, author)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        note_id,
        case_id,
        noted_on,
        text,
        follow_up_on,
        author,
    )


async def notes_of(conn: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT note_id, noted_on, text, follow_up_on, author, recorded_at
           FROM case_notes WHERE case_id = $1 ORDER BY noted_on, recorded_at""",
        case_id,
    )
    return [dict(r) for r in rows]


# --- transfers ----------------------------------------------------------------------------------


def _transfer(row: asyncpg.Record | None) -> Transfer | None:
    if row is None:
        return None
    return Transfer(
        transfer_id=row["transfer_id"],
        case_id=row["case_id"],
        from_gmina=row["from_gmina"],
        to_gmina=row["to_gmina"],
        state=TransferState(row["state"]),
    )


async def waiting_transfer(conn: asyncpg.Connection, case_id: UUID) -> Transfer | None:
    row = await conn.fetchrow(
        "SELECT * FROM case_transfers WHERE case_id = $1 AND state = 'requested'", case_id
    )
    return _transfer(row)


async def request_transfer(tx: asyncpg.Connection, transfer: Transfer, actor: str) -> None:
    await tx.execute(
        """INSERT INTO case_transfers (transfer_id, case_id, from_gmina, to_gmina, state,
                                       requested_by)
           VALUES ($1, $2, $3, $4, 'requested', $5)""",
        transfer.transfer_id,
        transfer.case_id,
        transfer.from_gmina,
        transfer.to_gmina,
        actor,
    )


async def decide_transfer(
    tx: asyncpg.Connection, transfer_id: UUID, state: TransferState, actor: str
) -> None:
    await tx.execute(
        """UPDATE case_transfers SET state = $2, decided_by = $3, decided_at = now()
           WHERE transfer_id = $1""",
        transfer_id,
        str(state),
        actor,
    )


async def move_to_gmina(
    tx: asyncpg.Connection, case_id: UUID, gmina: str, assignee: str, day: date
) -> None:
    """The case is the receiving gmina's, and whoever accepted it there is responsible."""
    await tx.execute(
        """UPDATE cases SET gmina = $2, assigned_to = $3, assigned_on = $4, updated_at = now()
           WHERE case_id = $1""",
        case_id,
        gmina,
        assignee,
        day,
    )


# --- the responsible caseworker ------------------------------------------------------------------


async def assignment_of(conn: asyncpg.Connection, case_id: UUID) -> tuple[str, date]:
    row = await conn.fetchrow(
        "SELECT assigned_to, assigned_on FROM cases WHERE case_id = $1", case_id
    )
    assert row is not None  # the caller holds the case locked
    return row["assigned_to"], row["assigned_on"]


async def assign(tx: asyncpg.Connection, case_id: UUID, assignee: str, day: date) -> None:
    await tx.execute(
        """UPDATE cases SET assigned_to = $2, assigned_on = $3, updated_at = now()
           WHERE case_id = $1""",
        case_id,
        assignee,
        day,
    )


async def transfers_of(conn: asyncpg.Connection, gmina: str) -> list[dict[str, Any]]:
    """Transfers waiting, into the gmina or out of it: codes and counts only."""
    rows = await conn.fetch(
        """SELECT t.transfer_id, t.case_id, t.from_gmina, t.to_gmina, t.state,
                  t.requested_at, c.status, c.opened_on, c.reasons,
                  (SELECT count(*) FROM members m
                   WHERE m.case_id = t.case_id AND m.left_on IS NULL) AS household_size
           FROM case_transfers t JOIN cases c USING (case_id)
           WHERE t.state = 'requested' AND (t.to_gmina = $1 OR t.from_gmina = $1)
           ORDER BY t.requested_at""",
        gmina,
    )
    return [{**dict(r), "reasons": list(r["reasons"])} for r in rows]


# --- the worklist -----------------------------------------------------------------------------


async def open_cases_due(
    conn: asyncpg.Connection, gmina: str, assigned_to: str | None
) -> list[CaseDue]:
    """Dates of each open case of the gmina (or only those assigned to `assigned_to`) that its
    due work follows from. The interview summary given at opening counts as the home
    interview."""
    rows = await conn.fetch(
        """SELECT c.case_id, c.opened_on, c.assigned_to,
                  greatest(i.last_on,
                           CASE WHEN c.interview_summary <> '' THEN c.opened_on END)
                      AS last_interview_on,
                  greatest(i.last_on, n.last_on) AS last_entry_on,
                  coalesce(n.follow_ups, '{}') AS follow_ups
           FROM cases c
           LEFT JOIN LATERAL (SELECT max(conducted_on) AS last_on FROM interview_entries
                              WHERE case_id = c.case_id) i ON true
           LEFT JOIN LATERAL (SELECT max(noted_on) AS last_on,
                                     array_agg(follow_up_on) FILTER (
                                         WHERE follow_up_on IS NOT NULL) AS follow_ups
                              FROM case_notes WHERE case_id = c.case_id) n ON true
           WHERE c.gmina = $1 AND c.status <> 'closed'
             AND ($2::text IS NULL OR c.assigned_to = $2)""",
        gmina,
        assigned_to,
    )
    return [
        CaseDue(
            case_id=r["case_id"],
            opened_on=r["opened_on"],
            last_interview_on=r["last_interview_on"],
            last_entry_on=r["last_entry_on"],
            follow_ups=tuple(r["follow_ups"]),
            assigned_to=r["assigned_to"],
        )
        for r in rows
    ]
