"""The append-only audit log of personal data (shared/migrations/0003_audit_log.sql): every read
or change of a person's data is recorded with who, in which role, which case of which gmina,
what and why. A service may add columns of its own (diagnosis names the diagnosis); it passes
them as `also`, named in its code, never taken from a request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from shared.auth import Principal

_COLUMNS = ("subject", "role", "institution", "case_id", "gmina", "access", "purpose")
_READ = ("entry_id", "at", "subject", "role", "institution", "case_id", "access", "purpose")


async def record(
    tx: asyncpg.Connection,
    principal: Principal | None,
    *,
    case_id: UUID | None,
    gmina: str,
    access: str,
    purpose: str,
    actor: str | None = None,
    also: Mapping[str, object] | None = None,
) -> None:
    """One entry, in the caller's transaction. Without a principal, `actor` names the system
    job that acted (role `system`)."""
    if principal is None:
        who: tuple[object, ...] = (actor, "system", None)
    else:
        who = (principal.subject, str(principal.role), principal.institution)
    extra = dict(also or {})
    columns = _COLUMNS + tuple(extra)
    values = (*who, case_id, gmina, access, purpose, *extra.values())
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    await tx.execute(
        f"INSERT INTO audit_log ({', '.join(columns)}) VALUES ({placeholders})", *values
    )


async def entries(
    conn: asyncpg.Connection,
    *,
    gmina: str,
    case_id: UUID | None,
    limit: int,
    also: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The gmina's entries (of one case, when named), newest first."""
    rows = await conn.fetch(
        f"""SELECT {", ".join(_READ + tuple(also))}
            FROM audit_log WHERE gmina = $1 AND ($2::uuid IS NULL OR case_id = $2)
            ORDER BY entry_id DESC LIMIT $3""",
        gmina,
        case_id,
        limit,
    )
    return [dict(r) for r in rows]


async def of_case(conn: asyncpg.Connection, case_id: UUID) -> list[dict[str, Any]]:
    """Every entry of one case, oldest first (what a person's data export lists)."""
    rows = await conn.fetch(
        """SELECT entry_id, at, subject, role, institution, access, purpose FROM audit_log
           WHERE case_id = $1 ORDER BY entry_id""",
        case_id,
    )
    return [dict(r) for r in rows]
