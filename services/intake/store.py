"""Intake's SQL. Nothing else touches intake's tables."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.domain import CaseState, CaseStatus, Consent, NewCase, Step
from shared import audit_log, locks
from shared.auth import Principal
from shared.codes import Sector
from shared.teryt import terc

_CASE_COLUMNS = (
    "case_id",
    "gmina",
    "status",
    "reasons",
    "notified_by",
    "consent_to_share",
    "consent_given_on",
    "consent_scope",
    "interview_summary",
    "opened_on",
    "opened_by",
    "assigned_to",
    "assigned_on",
)
_MEMBER_COLUMNS = (
    "person_id",
    "case_id",
    "position",
    "first_name",
    "last_name",
    "birth_date",
    "sex",
    "relation",
    "pesel",
    "phone",
    "email",
    "address",
    "birth_year",
)
_HISTORY_COLUMNS = ("case_id", "step", "from_status", "to_status", "actor")


def _case_row(case: NewCase, opened_by: str) -> tuple[Any, ...]:
    consent = case.consent
    return (
        case.case_id,
        case.gmina.code,
        str(case.status),
        [str(r) for r in case.reasons],
        str(case.notified_by),
        case.consent_to_share,
        consent.given_on if consent else None,
        [str(s) for s in consent.scope] if consent else [],
        case.interview_summary,
        case.opened_on,
        opened_by,
        opened_by,  # the opener is the responsible caseworker until reassigned
        case.opened_on,
    )


def _member_rows(case: NewCase) -> list[tuple[Any, ...]]:
    return [
        (
            m.person_id,
            case.case_id,
            i,
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
        )
        for i, m in enumerate(case.members)
    ]


def _opening_history(case: NewCase, opened_by: str) -> list[tuple[Any, ...]]:
    """An opening is recorded as opened, and as sent to diagnosis when it comes with consent."""
    rows = [(case.case_id, str(Step.OPEN), None, str(CaseStatus.OPENED), opened_by)]
    if case.status is not CaseStatus.OPENED:
        rows.append(
            (
                case.case_id,
                str(Step.SEND_TO_DIAGNOSIS),
                str(CaseStatus.OPENED),
                str(case.status),
                opened_by,
            )
        )
    return rows


def _insert(table: str, columns: tuple[str, ...]) -> str:
    places = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({places})"


async def save_case(tx: asyncpg.Connection, case: NewCase, opened_by: str) -> None:
    await tx.execute(_insert("cases", _CASE_COLUMNS), *_case_row(case, opened_by))
    await tx.executemany(_insert("members", _MEMBER_COLUMNS), _member_rows(case))
    await tx.executemany(
        _insert("case_history", _HISTORY_COLUMNS), _opening_history(case, opened_by)
    )


async def save_cases(tx: asyncpg.Connection, cases: list[NewCase], opened_by: str) -> None:
    """Many openings at once, as `save_case` records each, copied in one round trip a table."""
    for table, columns, rows in (
        ("cases", _CASE_COLUMNS, [_case_row(c, opened_by) for c in cases]),
        ("members", _MEMBER_COLUMNS, [r for c in cases for r in _member_rows(c)]),
        (
            "case_history",
            _HISTORY_COLUMNS,
            [r for c in cases for r in _opening_history(c, opened_by)],
        ),
    ):
        await tx.copy_records_to_table(table, records=rows, columns=columns)


async def record_step(
    tx: asyncpg.Connection,
    case_id: UUID,
    step: Step,
    before: CaseStatus | None,
    after: CaseStatus,
    actor: str,
    outcome: str | None = None,
) -> None:
    await tx.execute(
        """INSERT INTO case_history (case_id, step, from_status, to_status, actor, outcome)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        case_id,
        str(step),
        str(before) if before else None,
        str(after),
        actor,
        outcome,
    )


async def lock_open_cases_by_pesel(
    tx: asyncpg.Connection, gmina: str, pesels: list[str], *, other_than: UUID | None = None
) -> dict[str, UUID]:
    """Lock these persons in the gmina (openings for the same person wait for each other, so
    the duplicate check cannot race) and find, for each PESEL, its open case other than
    `other_than`."""
    if not pesels:
        return {}
    await locks.lock_subjects(tx, [locks.pesel(gmina, p) for p in pesels])
    found = await open_cases_by_pesel(tx, gmina, pesels)
    return {pesel: case for pesel, case in found.items() if case != other_than}


async def case_pesels(conn: asyncpg.Connection, case_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT pesel FROM members WHERE case_id = $1 AND pesel IS NOT NULL", case_id
    )
    return [r["pesel"].strip() for r in rows]


def _consent(row: asyncpg.Record) -> Consent | None:
    if not row["consent_to_share"]:
        return None
    return Consent(
        given_on=row["consent_given_on"] or row["opened_on"],
        scope=tuple(Sector(s) for s in row["consent_scope"]),
    )


async def load_state(
    conn: asyncpg.Connection, case_id: UUID, *, lock: bool = False
) -> CaseState | None:
    row = await conn.fetchrow(
        "SELECT * FROM cases WHERE case_id = $1" + (" FOR UPDATE" if lock else ""), case_id
    )
    if row is None:
        return None
    return CaseState(
        case_id=row["case_id"],
        gmina=terc().gmina(row["gmina"]),
        status=CaseStatus(row["status"]),
        consent=_consent(row),
        opened_on=row["opened_on"],
        consent_withdrawn_on=row["consent_withdrawn_on"],
        round=row["round"],
    )


async def move(
    tx: asyncpg.Connection,
    state: CaseState,
    step: Step,
    after: CaseStatus,
    actor: str,
    *,
    outcome: str | None = None,
    closed_on: date | None = None,
    round: int | None = None,
) -> None:
    """Record a step of the lifecycle; `round` is the case's new round (on a reopening)."""
    await tx.execute(
        """UPDATE cases SET status = $2, updated_at = now(),
                  outcome = CASE WHEN $2 = 'closed' THEN $3 ELSE NULL END,
                  closed_on = CASE WHEN $2 = 'closed' THEN $4::date ELSE NULL END,
                  round = coalesce($5, round)
           WHERE case_id = $1""",
        state.case_id,
        str(after),
        outcome,
        closed_on,
        round,
    )
    await record_step(tx, state.case_id, step, state.status, after, actor, outcome)


async def give_consent(
    tx: asyncpg.Connection, state: CaseState, consent: Consent, actor: str
) -> None:
    """Record consent given after opening; the history shows it as its own step."""
    await tx.execute(
        """UPDATE cases SET consent_to_share = true, consent_given_on = $2, consent_scope = $3,
                  updated_at = now()
           WHERE case_id = $1""",
        state.case_id,
        consent.given_on,
        [str(s) for s in consent.scope],
    )
    await record_step(tx, state.case_id, Step.GIVE_CONSENT, state.status, state.status, actor)


async def withdraw_consent(
    tx: asyncpg.Connection, state: CaseState, withdrawn_on: date, actor: str
) -> None:
    """Record the withdrawal: no consent from now on, the day kept; its own step in history."""
    await tx.execute(
        """UPDATE cases SET consent_to_share = false, consent_given_on = NULL,
                  consent_scope = '{}', consent_withdrawn_on = $2, updated_at = now()
           WHERE case_id = $1""",
        state.case_id,
        withdrawn_on,
    )
    await record_step(tx, state.case_id, Step.WITHDRAW_CONSENT, state.status, state.status, actor)


async def audit_grants(
    tx: asyncpg.Connection, case_id: UUID, gmina: str, access: str, purpose: str
) -> int:
    """One audit entry per live access grant of the case, naming its institution: what a
    withdrawal ended (`grant_ended`) or consent given again resumed (`grant_resumed`)."""
    status = await tx.execute(
        """INSERT INTO audit_log (subject, role, institution, case_id, gmina, access, purpose)
           SELECT 'intake-consent', 'system', institution_id, case_id, $2, $3, $4
           FROM access_grants
           WHERE case_id = $1 AND granted_at IS NOT NULL AND revoked_at IS NULL
           ORDER BY granted_at, referral_id""",
        case_id,
        gmina,
        access,
        purpose,
    )
    return int(status.split()[-1])


def _summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "gmina": row["gmina"],
        "status": row["status"],
        "reasons": list(row["reasons"]),
        "notified_by": row["notified_by"],
        "consent_to_share": row["consent_to_share"],
        "opened_on": row["opened_on"],
        "closed_on": row["closed_on"],
        "outcome": row["outcome"],
        "household_size": row["household_size"],
        "assigned_to": row["assigned_to"],
        "assigned_on": row["assigned_on"],
    }


async def search(
    conn: asyncpg.Connection,
    *,
    gmina: str,
    status: str | None,
    reason: str | None,
    opened_from: date | None,
    opened_to: date | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT c.*, (SELECT count(*) FROM members m
                        WHERE m.case_id = c.case_id AND m.left_on IS NULL)
                       AS household_size
           FROM cases c
           WHERE c.gmina = $1
             AND ($2::text IS NULL OR c.status = $2)
             AND ($3::text IS NULL OR $3 = ANY(c.reasons))
             AND ($4::date IS NULL OR c.opened_on >= $4)
             AND ($5::date IS NULL OR c.opened_on <= $5)
           ORDER BY c.opened_on DESC, c.created_at DESC
           LIMIT $6 OFFSET $7""",
        gmina,
        status,
        reason,
        opened_from,
        opened_to,
        limit,
        offset,
    )
    return [_summary(r) for r in rows]


async def _stored_case(conn: asyncpg.Connection, case_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT c.*, (SELECT count(*) FROM members m
                        WHERE m.case_id = c.case_id AND m.left_on IS NULL)
                       AS household_size
           FROM cases c WHERE case_id = $1""",
        case_id,
    )


async def _history(conn: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT at, step, from_status, to_status, actor, outcome FROM case_history
           WHERE case_id = $1 ORDER BY entry_id""",
        case_id,
    )
    return [dict(h) for h in rows]


def _codes(row: asyncpg.Record) -> dict[str, Any]:
    """The case's codes and consent: what may be read without an audit."""
    return {
        **_summary(row),
        "consent": {"given_on": row["consent_given_on"], "scope": list(row["consent_scope"])}
        if row["consent_to_share"]
        else None,
        "consent_withdrawn_on": row["consent_withdrawn_on"],
    }


async def get_case(conn: asyncpg.Connection, case_id: UUID) -> dict[str, Any] | None:
    """The whole case with its people and history: personal data, read only with an audit."""
    row = await _stored_case(conn, case_id)
    if row is None:
        return None
    members = await conn.fetch(
        "SELECT * FROM members WHERE case_id = $1 ORDER BY position", case_id
    )
    return {
        **_codes(row),
        "interview_summary": row["interview_summary"],
        "opened_by": row["opened_by"],
        "anonymised_at": row["anonymised_at"],
        "members": [
            {
                "person_id": m["person_id"],
                "first_name": m["first_name"],
                "last_name": m["last_name"],
                "birth_date": m["birth_date"],
                "birth_year": m["birth_year"],
                "sex": m["sex"],
                "relation": m["relation"],
                "pesel": m["pesel"].strip() if m["pesel"] else None,
                "contact": {"phone": m["phone"], "email": m["email"], "address": m["address"]},
                "joined_on": m["joined_on"],
                "left_on": m["left_on"],
            }
            for m in members
        ],
        "history": await _history(conn, case_id),
    }


async def overview(conn: asyncpg.Connection, case_id: UUID) -> dict[str, Any] | None:
    """A case's codes, consent and history without anyone's personal data: what a case page
    shows before a reason to read the household is given, so no audit is needed."""
    row = await _stored_case(conn, case_id)
    if row is None:
        return None
    history = [{k: v for k, v in h.items() if k != "actor"} for h in await _history(conn, case_id)]
    return {**_codes(row), "history": history}


async def members_of(conn: asyncpg.Connection, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT first_name, last_name, birth_date, relation, phone, email FROM members
           WHERE case_id = $1 AND left_on IS NULL ORDER BY position""",
        case_id,
    )


async def case_gmina_and_consent(
    conn: asyncpg.Connection, case_id: UUID
) -> tuple[str, Consent | None] | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    return (row["gmina"], _consent(row)) if row else None


# --- access grants and the audit log ----------------------------------------------------------


async def grant(
    tx: asyncpg.Connection, referral_id: UUID, case_id: UUID, institution_id: UUID, sector: str
) -> None:
    await tx.execute(
        """INSERT INTO access_grants (referral_id, case_id, institution_id, sector, granted_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (referral_id) DO UPDATE SET granted_at = coalesce(
               access_grants.granted_at, EXCLUDED.granted_at), sector = EXCLUDED.sector""",
        referral_id,
        case_id,
        institution_id,
        sector,
    )


async def revoke(
    tx: asyncpg.Connection, referral_id: UUID, case_id: UUID, institution_id: UUID
) -> None:
    await tx.execute(
        """INSERT INTO access_grants (referral_id, case_id, institution_id, revoked_at)
           VALUES ($1, $2, $3, now())
           ON CONFLICT (referral_id) DO UPDATE
               SET revoked_at = coalesce(access_grants.revoked_at, now())""",
        referral_id,
        case_id,
        institution_id,
    )


async def granted_sectors(
    conn: asyncpg.Connection, case_id: UUID, institution_id: UUID
) -> list[Sector]:
    """Sectors under which the institution holds a live grant for the case (empty: none)."""
    rows = await conn.fetch(
        """SELECT sector FROM access_grants
           WHERE case_id = $1 AND institution_id = $2
             AND granted_at IS NOT NULL AND revoked_at IS NULL""",
        case_id,
        institution_id,
    )
    return [Sector(r["sector"]) for r in rows]


async def audit(
    tx: asyncpg.Connection,
    principal: Principal,
    case_id: UUID | None,
    gmina: str,
    access: str,
    purpose: str,
) -> None:
    await audit_log.record(
        tx, principal, case_id=case_id, gmina=gmina, access=access, purpose=purpose
    )


# --- data protection: retention and the access right (RODO art. 15) ---------------------------


async def lock_cases_to_anonymise(
    tx: asyncpg.Connection, closed_before: date, limit: int
) -> list[asyncpg.Record]:
    """Closed cases past retention, locked; another instance's batch or a reopening in
    progress is skipped and met on the next pass."""
    return await tx.fetch(
        """SELECT case_id, gmina, closed_on FROM cases
           WHERE status = 'closed' AND anonymised_at IS NULL AND closed_on < $1
           ORDER BY closed_on LIMIT $2 FOR UPDATE SKIP LOCKED""",
        closed_before,
        limit,
    )


async def anonymise_case(tx: asyncpg.Connection, case_id: UUID, gmina: str, why: str) -> int:
    """Erase the case's personal data, keep its codes and history; audited in the same
    transaction. Returns how many persons were anonymised."""
    members = await tx.execute(
        """UPDATE members SET first_name = '', last_name = '', birth_date = NULL, pesel = NULL,
                  phone = NULL, email = NULL, address = NULL, anonymised_at = now()
           WHERE case_id = $1""",
        case_id,
    )
    await tx.execute(
        """UPDATE cases SET interview_summary = '', anonymised_at = now(), updated_at = now()
           WHERE case_id = $1""",
        case_id,
    )
    await tx.execute("UPDATE interview_entries SET summary = '' WHERE case_id = $1", case_id)
    await tx.execute("UPDATE case_notes SET text = '' WHERE case_id = $1", case_id)
    await audit_log.record(
        tx, None, actor="intake-retention", case_id=case_id, gmina=gmina, access="anonymised",
        purpose=why,
    )  # fmt: skip
    return int(members.split()[-1])


async def person_cases(conn: asyncpg.Connection, person_id: UUID) -> list[asyncpg.Record]:
    """The member rows of one person: the row itself and, through the PESEL, the same person
    in the household of any other case."""
    return await conn.fetch(
        """SELECT m.*, c.gmina FROM members m JOIN cases c USING (case_id)
           WHERE m.person_id = $1
              OR m.pesel = (SELECT pesel FROM members WHERE person_id = $1 AND pesel IS NOT NULL)
           ORDER BY c.opened_on, m.case_id""",
        person_id,
    )


# --- bulk import ------------------------------------------------------------------------------


# The import's reads per chunk, named so that bench/intake_bulk.py explains these very queries.
# From the members with these PESELs to their cases by key, one lookup each (OFFSET 0 keeps the
# planner from turning it into a join): during a large import the statistics lag behind, and a
# plan that hashes all of the gmina's open cases for every chunk grew with each chunk imported.
OPEN_CASES_BY_PESEL = """
    SELECT DISTINCT ON (m.pesel) m.pesel, c.case_id
    FROM members m
    CROSS JOIN LATERAL (
        SELECT case_id, opened_on FROM cases
        WHERE case_id = m.case_id AND gmina = $1 AND status <> 'closed'
        OFFSET 0) AS c
    WHERE m.pesel = ANY($2::bpchar[]) AND m.left_on IS NULL
    ORDER BY m.pesel, c.opened_on"""
EXTERNAL_REFS = """
    SELECT external_id, case_id, line_digest FROM case_external_refs
    WHERE gmina = $1 AND external_id = ANY($2::text[])"""


async def open_cases_by_pesel(
    conn: asyncpg.Connection, gmina: str, pesels: list[str]
) -> dict[str, UUID]:
    """For each of these PESELs with an open case in the gmina, the earliest such case."""
    rows = await conn.fetch(OPEN_CASES_BY_PESEL, gmina, pesels)
    return {r["pesel"].strip(): r["case_id"] for r in rows}


async def external_refs(
    conn: asyncpg.Connection, gmina: str, external_ids: list[str]
) -> dict[str, tuple[UUID, str]]:
    """Which of these references were imported into the gmina: (case id, line digest)."""
    rows = await conn.fetch(EXTERNAL_REFS, gmina, external_ids)
    return {r["external_id"]: (r["case_id"], r["line_digest"]) for r in rows}


async def begin_import(
    conn: asyncpg.Connection, import_id: UUID, gmina: str, principal: Principal
) -> None:
    await conn.execute(
        "INSERT INTO case_imports (import_id, gmina, subject, role) VALUES ($1, $2, $3, $4)",
        import_id,
        gmina,
        principal.subject,
        str(principal.role),
    )


async def record_imported(
    tx: asyncpg.Connection,
    import_id: UUID,
    principal: Principal,
    imported: list[tuple[int, str, str, NewCase]],
) -> None:
    """The references of newly imported cases (line, external id, digest, case) and an audit
    entry for each: who brought the personal data in, in which import, from which line."""
    await tx.copy_records_to_table(
        "case_external_refs",
        records=[
            (case.gmina.code, external_id, case.case_id, digest, import_id)
            for _, external_id, digest, case in imported
        ],
        columns=("gmina", "external_id", "case_id", "line_digest", "import_id"),
    )
    await tx.copy_records_to_table(
        "audit_log",
        records=[
            (
                principal.subject,
                str(principal.role),
                principal.institution,
                case.case_id,
                case.gmina.code,
                "imported",
                f"bulk import {import_id}, line {line}",
            )
            for line, _, _, case in imported
        ],
        columns=("subject", "role", "institution", "case_id", "gmina", "access", "purpose"),
    )


async def count_import(
    conn: asyncpg.Connection,
    import_id: UUID,
    *,
    lines: int,
    imported: int,
    already_imported: int,
    rejected: int,
    finished: bool = False,
) -> None:
    await conn.execute(
        """UPDATE case_imports SET lines = $2, imported = $3, already_imported = $4,
                  rejected = $5, finished_at = CASE WHEN $6 THEN now() END
           WHERE import_id = $1""",
        import_id,
        lines,
        imported,
        already_imported,
        rejected,
        finished,
    )
