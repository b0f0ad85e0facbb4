"""Reporting's SQL: upserts of facts (one multi-row statement per table), and the aggregate
queries over them. Nothing else touches these tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import asyncpg

from services.reporting.domain import FACT_TABLES, Fact, FactTable, Follows, Merge, Rule, combine

# PostgreSQL accepts at most 32767 parameters in one statement.
_MAX_PARAMETERS = 32_000


def _merge_sql(column: str, rule: Rule) -> str:
    """The SQL of a merge rule; `t` is the stored row, EXCLUDED the incoming one."""
    new, old = f"EXCLUDED.{column}", f"t.{column}"
    if isinstance(rule, Follows):
        lead_new, lead_old = f"EXCLUDED.{rule.leader}", f"t.{rule.leader}"
        follows = (
            f"CASE WHEN {lead_new} IS NULL THEN {old}"
            f" WHEN {lead_old} IS NULL OR {lead_new} > {lead_old} THEN {new}"
            f" WHEN {lead_new} = {lead_old} THEN greatest({old}, {new})"
            f" ELSE {old} END"
        )
        if rule.otherwise is None:
            return follows
        return (
            f"CASE WHEN {lead_new} IS NULL AND {lead_old} IS NULL"
            f" THEN {_merge_sql(column, rule.otherwise)} ELSE {follows} END"
        )
    # least/greatest ignore NULLs, as domain.merge does
    return f"{'greatest' if rule is Merge.MAX else 'least'}({old}, {new})"


def _upsert_sql(table: FactTable, rows: int) -> str:
    columns = table.columns
    width = len(columns)
    values = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
    )
    updates = ", ".join(f"{col} = {_merge_sql(col, rule)}" for col, rule in table.rules.items())
    return (
        f"INSERT INTO {table.name} AS t ({', '.join(columns)}) VALUES {values} "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


async def record(tx: asyncpg.Connection, facts: Iterable[Fact]) -> int:
    """Upsert facts, folded per row first; returns the number of rows written."""
    written = 0
    for table, rows in combine(facts).items():
        width = len(table.columns)
        chunk = max(1, _MAX_PARAMETERS // width)
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            args = [row.get(col) for row in part for col in table.columns]
            await tx.execute(_upsert_sql(table, len(part)), *args)
            written += len(part)
    return written


async def forget_everything(tx: asyncpg.Connection) -> None:
    """Empty the projections and the inbox before a rebuild (in the rebuild's transaction, so
    readers see the old figures until the new ones are committed)."""
    for table in FACT_TABLES:
        await tx.execute(f"DELETE FROM {table.name}")
    await tx.execute("DELETE FROM inbox")


# --- bulk loading, for a rebuild ------------------------------------------------------------
# A batch of folded rows goes by binary COPY into an unindexed staging table, then into the
# projection in one INSERT ... SELECT ... ON CONFLICT with the same merge rules as `record`.

_INBOX_STAGING = "staging_inbox"


def _staging(table: FactTable) -> str:
    return f"staging_{table.name}"


async def create_staging(tx: asyncpg.Connection) -> None:
    """Staging tables for `load`, gone when the transaction ends."""
    for table in FACT_TABLES:
        await tx.execute(f"CREATE TEMP TABLE {_staging(table)} (LIKE {table.name}) ON COMMIT DROP")
    await tx.execute(
        f"CREATE TEMP TABLE {_INBOX_STAGING} (event_id uuid, event_type text) ON COMMIT DROP"
    )


def _merge_from_staging_sql(table: FactTable) -> str:
    columns = ", ".join(table.columns)
    updates = ", ".join(f"{col} = {_merge_sql(col, rule)}" for col, rule in table.rules.items())
    return (
        f"INSERT INTO {table.name} AS t ({columns}) SELECT {columns} FROM {_staging(table)} "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
    )


Rows = dict[FactTable, list[tuple[Any, ...]]]


def as_records(facts: Iterable[Fact]) -> Rows:
    """Facts folded into one row per thing, as tuples in the order of the table's columns."""
    return {
        table: [tuple(row.get(c) for c in table.columns) for row in rows]
        for table, rows in combine(facts).items()
    }


async def load(tx: asyncpg.Connection, rows: Rows, handled: list[tuple[Any, str]]) -> int:
    """Merge a batch of folded rows into the projections and record its events in the inbox
    (needs `create_staging` first); returns the number of rows written."""
    written = 0
    for table, records in rows.items():
        staging = _staging(table)
        await tx.copy_records_to_table(staging, records=records, columns=table.columns)
        await tx.execute(_merge_from_staging_sql(table))
        await tx.execute(f"TRUNCATE {staging}")
        written += len(records)
    await tx.copy_records_to_table(_INBOX_STAGING, records=handled)
    # An event published twice is twice in the log: recorded once.
    await tx.execute(
        f"""INSERT INTO inbox (event_id, event_type)
            SELECT DISTINCT ON (event_id) event_id, event_type FROM {_INBOX_STAGING}
            ON CONFLICT DO NOTHING"""
    )
    await tx.execute(f"TRUNCATE {_INBOX_STAGING}")
    return written


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every fact row, sorted: to compare a rebuilt projection with the live one."""
    found = {}
    for table in FACT_TABLES:
        rows = await conn.fetch(
            f"SELECT {', '.join(table.columns)} FROM {table.name} ORDER BY {', '.join(table.key)}"
        )
        found[table.name] = [dict(r) for r in rows]
    return found


# --- aggregates ------------------------------------------------------------------------------
# Every query takes the same filter: $1 region, $2 powiat, $3 gmina, $4 variant (NULL = all),
# $5 the last day included (as_of), $6/$7 the period (NULL = open-ended) that the date of
# each thing falls in: a case its opening, a referral its first event, an unmet need its record;
# $8/$9 the inner and outer keys of the HMAC that gives each record its key (disclosure.py).

GROUPINGS = ("region", "powiat", "gmina", "variant")

_SCOPE = """($1::text[] IS NULL OR {a}region = ANY($1)) AND ($2::text IS NULL OR {a}powiat = $2)
    AND ($3::text IS NULL OR {a}gmina = $3) AND ($4::text IS NULL OR {a}variant = $4)"""


def _record_key(message: str) -> str:
    """A record's key, as disclosure.record_key computes it: the first two bytes of
    HMAC-SHA256(secret, message) = sha256(outer || sha256(inner || message))."""
    digest = f"sha256($9::bytea || sha256($8::bytea || {message}))"
    return f"('x' || left(encode({digest}, 'hex'), 4))::bit(16)::int"


def _key_of(id_column: str) -> str:
    return _record_key(f"uuid_send({id_column})")


# A case counts once it was opened by the day; one known only from later events (its opening
# not yet seen) is left out of case figures until its opening arrives.


def _period(column: str) -> str:
    """Things whose own date falls in the period asked for ($6 .. $7, either open-ended)."""
    return f"($6::date IS NULL OR {column} >= $6) AND ($7::date IS NULL OR {column} <= $7)"


# A case counts where it was at the end of the day ($5): its gmina then, which differs from its
# current one (case_facts) only for a case transferred since (the second part of the union,
# so that a never-moved case is read as stored, by its indexes). Its latest transfer by then puts
# it in that transfer's receiving gmina; with none by then, it was where its first transfer
# took it from. Every case figure is placed so: each family once, in the same place in every
# table, and a report as of a past day does not move when the family moves later.
_CASE_COLUMNS = """c.case_id, c.opened_on, c.household_size, c.age_bands, c.reasons,
        c.notified_by, c.diagnosed_on, c.need_areas"""
_CASES = f"""(SELECT {_CASE_COLUMNS}, c.gmina, c.powiat, c.region, c.variant
    FROM case_facts c WHERE c.transferred_on IS NULL
    UNION ALL
    SELECT {_CASE_COLUMNS},
        coalesce(p.gmina, c.gmina), coalesce(p.powiat, c.powiat),
        coalesce(p.region, c.region), coalesce(p.variant, c.variant)
    FROM case_facts c LEFT JOIN LATERAL (
        SELECT CASE WHEN t.transferred_on <= $5 THEN t.to_gmina ELSE t.from_gmina END AS gmina,
               CASE WHEN t.transferred_on <= $5 THEN t.to_powiat ELSE t.from_powiat END
                   AS powiat,
               CASE WHEN t.transferred_on <= $5 THEN t.to_region ELSE t.from_region END
                   AS region,
               CASE WHEN t.transferred_on <= $5 THEN t.to_variant ELSE t.from_variant END
                   AS variant
        FROM case_transfer_facts t
        WHERE t.case_id = c.case_id
        ORDER BY t.transferred_on <= $5 DESC,
                 CASE WHEN t.transferred_on <= $5 THEN t.sequence END DESC,
                 CASE WHEN t.transferred_on <= $5 THEN t.transferred_on END DESC,
                 t.sequence, t.transferred_on
        LIMIT 1) p ON true
    WHERE c.transferred_on IS NOT NULL)"""

_CASES_AS_OF = (
    "opened_on IS NOT NULL AND opened_on <= $5 AND "
    + _period("opened_on")
    + " AND "
    + _SCOPE.format(a="")
)


def _outcome_then(cases: str = "case_facts") -> str:
    """The outcome of the case if it was closed at the end of the day, else NULL: its last
    transition dated by then, in the order of domain.transition_order (intake's sequence)."""
    return f"""(SELECT CASE WHEN t.kind = 'closed' THEN coalesce(t.outcome, 'other') END
        FROM case_transition_facts t WHERE t.case_id = {cases}.case_id AND t.on_day <= $5
        ORDER BY t.sequence DESC, t.on_day DESC, t.kind DESC LIMIT 1)"""


# The state of a referral as of the day: the furthest step it had reached.
_REFERRAL_STATE = """CASE
    WHEN completed_on <= $5 THEN 'completed'
    WHEN cancelled_on <= $5 THEN 'cancelled'
    WHEN declined_on <= $5 THEN 'declined'
    WHEN accepted_on <= $5 THEN 'accepted'
    ELSE 'assigned' END"""
# The answer to a referral as of the day: ever accepted (even if cancelled or completed since),
# declined, or none yet. The acceptance rate is accepted / (accepted + declined), in every report.
_REFERRAL_ANSWER = """CASE
    WHEN accepted_on <= $5 THEN 'accepted'
    WHEN declined_on <= $5 THEN 'declined'
    ELSE 'unanswered' END"""
_REFERRALS_AS_OF = "seen_on <= $5 AND " + _period("seen_on") + " AND " + _SCOPE.format(a="")
# A goal of a plan counts from the day of the plan's version that first holds it until the
# day of a revision that drops it; one known only from its review (its plan not yet seen, so
# no planned_on) is left out until its plan arrives.
_GOALS_AS_OF = (
    "planned_on <= $5 AND (dropped_on IS NULL OR dropped_on > $5) AND area IS NOT NULL AND "
    + _period("planned_on")
    + " AND "
    + _SCOPE.format(a="")
)


class Filter:
    def __init__(
        self,
        *,
        region: list[str] | None = None,
        powiat: str | None = None,
        gmina: str | None = None,
        variant: str | None = None,
        as_of: date,
        opened_from: date | None = None,
        opened_to: date | None = None,
        key_pads: tuple[bytes, bytes],
    ) -> None:
        self.args = (region, powiat, gmina, variant, as_of, opened_from, opened_to, *key_pads)


async def _fetch(
    conn: asyncpg.Connection, sql: str, where: Filter, by: str | None = None
) -> list[dict[str, Any]]:
    if by is not None and by not in GROUPINGS and by != "all":
        raise ValueError(f"cannot group by {by!r}")
    # "all": one row of the whole scope, for the totals of figures that do not add up
    column = "'all'::text" if by == "all" else (by or "region")
    sql = sql.replace("{by}", column)
    # the keys' parameters ($8, $9) go only to a query that uses them
    args = where.args if "$8" in sql else where.args[:7]
    rows = await conn.fetch(sql, *args)
    return [dict(r) for r in rows]


async def cells(
    conn: asyncpg.Connection, report: str, where: Filter, by: str
) -> list[dict[str, Any]]:
    """(level, row, col, n, key) of a report: its cells (level "cell"), and as cells of their
    own the row totals ("row", col NULL), the column totals ("col", row NULL) and the grand
    total ("all"). A total counts the distinct records of its line, and its key is the sum of
    theirs (disclosure.py). `report` is a cross table, "indicators" or "summary"."""
    return await _fetch(conn, _aggregate(RECORDS[report]), where, by)


async def records(
    conn: asyncpg.Connection, report: str, where: Filter, by: str
) -> list[dict[str, Any]]:
    """(row, col, unit) of every record a report counts: which things each figure counts."""
    sql = f"SELECT DISTINCT row, col, unit::text AS unit FROM ({RECORDS[report]}) r"
    return await _fetch(conn, sql, where, by)


def _aggregate(records: str) -> str:
    """Counts and keys of the records (row, col, unit: the thing counted, k: its key) per cell,
    per row, per column and in all."""

    def level(name: str, row: str, col: str, columns: str) -> str:
        group = f" GROUP BY {columns}" if columns else ""
        inner = ", ".join(c for c in (columns, "unit, k") if c)
        return f"""SELECT '{name}' AS level, {row} AS row, {col} AS col, count(*) AS n,
                    coalesce(sum(k), 0) AS key
                FROM (SELECT DISTINCT {inner} FROM records) d{group}"""

    return f"""WITH records AS ({records})
        {level("cell", "row", "col", "row, col")}
        UNION ALL {level("row", "row", "NULL", "row")}
        UNION ALL {level("col", "NULL", "col", "col")}
        UNION ALL {level("all", "NULL", "NULL", "")}"""


_CASE_KEY = _key_of("case_id")
_PERSON_KEY = _record_key("uuid_send(case_id) || convert_to(band.key || ' ' || i, 'UTF8')")
_REFERRAL_KEY = _key_of("referral_id")
# A support is a recommendation that reached an institution: its referrals (a decline and the
# re-routing after it) are attempts at one support. A referral whose assignment has not been
# seen yet stands for its support on its own until it is.
_SUPPORT = "coalesce(recommendation_id, referral_id)"
_SUPPORT_KEY = _key_of(_SUPPORT)
_GOAL_KEY = _key_of("goal_id")


def _part_key(id_column: str, suffix: str) -> str:
    """The key of a record that is part of another (a person of a household, an answer of a
    round): the id and a text suffix, as disclosure.record_key(secret, id, suffix)."""
    return _record_key(f"uuid_send({id_column}) || convert_to({suffix}, 'UTF8')")


_PARTICIPANT_KEY = _part_key("p.case_id", "p.activity_type || ' ' || i")
# Participants are counted as they stand at the end of the day asked for: the period (which
# dates each other thing by its own day) does not apply to them. $6 and $7 are still named, so
# that every query takes the same parameters.
_AS_OF_ONLY = (
    "($6::date IS NULL OR $6::date IS NOT NULL) AND ($7::date IS NULL OR $7::date IS NOT NULL)"
)

# What each cross table counts, one line per record: (row, col, unit, k). A case is counted
# in each reason and need area it has; a person of a household in their age band; an
# institution once per gmina, sector and level however often it was engaged.
CROSS_TABLES: dict[str, str] = {
    # cases by state as of the day: still open, or closed with their outcome
    "cases": f"""SELECT {{by}} AS row, coalesce({_outcome_then()}, 'open') AS col,
                    case_id AS unit, {_CASE_KEY} AS k
                 FROM {_CASES} AS case_facts WHERE {_CASES_AS_OF}""",
    "referrals": f"""SELECT {{by}} AS row, {_REFERRAL_STATE} AS col,
                        referral_id AS unit, {_REFERRAL_KEY} AS k
                     FROM referral_facts WHERE {_REFERRALS_AS_OF}""",
    "acceptance_by_sector": f"""SELECT coalesce(sector, 'other') AS row,
                    {_REFERRAL_ANSWER} AS col, referral_id AS unit, {_REFERRAL_KEY} AS k
                 FROM referral_facts WHERE {_REFERRALS_AS_OF}""",
    "declines": f"""SELECT coalesce(sector, 'other') AS row, decline_reason AS col,
                    referral_id AS unit, {_REFERRAL_KEY} AS k
                 FROM referral_facts WHERE declined_on <= $5 AND {_period("declined_on")}
                    AND {_SCOPE.format(a="")}""",
    "supports": f"""SELECT {{by}} AS row, support_type AS col,
                       {_SUPPORT} AS unit, {_SUPPORT_KEY} AS k
                    FROM referral_facts WHERE {_REFERRALS_AS_OF} AND support_type IS NOT NULL""",
    "unmet_needs": f"""SELECT {{by}} AS row, support_type AS col,
                          recommendation_id AS unit, {_key_of("recommendation_id")} AS k
                       FROM unmet_need_facts
                       WHERE recorded_on <= $5 AND {_period("recorded_on")}
                         AND {_SCOPE.format(a="")}""",
    "households": f"""SELECT {{by}} AS row,
                         CASE WHEN household_size >= 6 THEN '6+' ELSE household_size::text END
                         AS col, case_id AS unit, {_CASE_KEY} AS k
                      FROM {_CASES} AS case_facts
                      WHERE {_CASES_AS_OF} AND household_size IS NOT NULL""",
    # persons: the i-th person of a band in a household, keyed by the case, band and i
    "age_bands": f"""SELECT {{by}} AS row, band.key AS col,
                        case_id::text || ' ' || band.key || ' ' || i AS unit,
                        {_PERSON_KEY} AS k
                     FROM {_CASES} AS case_facts, jsonb_each_text(age_bands) AS band,
                          generate_series(1, band.value::int) AS i
                     WHERE {_CASES_AS_OF}""",
    "reasons": f"""SELECT {{by}} AS row, reason AS col, case_id AS unit, {_CASE_KEY} AS k
                   FROM {_CASES} AS case_facts, unnest(reasons) AS reason
                   WHERE {_CASES_AS_OF}""",
    "needs": f"""SELECT {{by}} AS row, area AS col, case_id AS unit, {_CASE_KEY} AS k
                 FROM {_CASES} AS case_facts, unnest(need_areas) AS area
                 WHERE {_CASES_AS_OF} AND diagnosed_on <= $5""",
    # a case's move to another gmina: out where it left, in where it arrived; each move and
    # direction a record of its own, keyed by the case, the day, the gminas and the direction
    "transfers": f"""SELECT {{by}} AS row, direction AS col,
                       case_id::text || ' ' || unit AS unit,
                       {_record_key("uuid_send(case_id) || convert_to(unit, 'UTF8')")} AS k
                     FROM (
                       SELECT from_region AS region, from_powiat AS powiat, from_gmina AS gmina,
                              from_variant AS variant, 'out' AS direction, transferred_on,
                              case_id, concat_ws(' ', transferred_on, from_gmina, to_gmina, 'out')
                              AS unit
                         FROM case_transfer_facts
                       UNION ALL
                       SELECT to_region, to_powiat, to_gmina, to_variant, 'in', transferred_on,
                              case_id, concat_ws(' ', transferred_on, from_gmina, to_gmina, 'in')
                         FROM case_transfer_facts) AS transfer
                     WHERE transferred_on <= $5 AND {_period("transferred_on")}
                       AND {_SCOPE.format(a="")}""",
    # plans (IPW) agreed by the day, with or without a social contract signed by then
    "plans": f"""SELECT {{by}} AS row,
                   CASE WHEN social_contract_on <= $5 THEN 'with_contract'
                        ELSE 'without_contract' END AS col,
                   plan_id AS unit, {_key_of("plan_id")} AS k
                 FROM plan_facts WHERE agreed_on <= $5 AND {_period("agreed_on")}
                   AND {_SCOPE.format(a="")}""",
    # goals of the plans, by need area: planned by the day and not dropped by then
    "goals": f"""SELECT {{by}} AS row, area AS col, goal_id AS unit, {_GOAL_KEY} AS k
                 FROM goal_facts WHERE {_GOALS_AS_OF}""",
    # the same goals by their latest review by the day (one reviewed later counts unreviewed)
    "goal_reviews": f"""SELECT {{by}} AS row,
                          CASE WHEN reviewed_on <= $5 THEN result ELSE 'not_reviewed' END AS col,
                          goal_id AS unit, {_GOAL_KEY} AS k
                        FROM goal_facts WHERE {_GOALS_AS_OF}""",
    # the breadth of cooperation: distinct institutions of each sector engaged in the gmina
    "cooperation": f"""SELECT {{by}} AS row, coalesce(e.sector, i.sector, 'other') AS col,
                         e.institution_id AS unit, {_key_of("e.institution_id")} AS k
                       FROM engagement_facts e
                       LEFT JOIN institution_facts i USING (institution_id)
                       WHERE e.engaged_on <= $5 AND {_period("e.engaged_on")}
                         AND {_SCOPE.format(a="e.")}""",
    # --- the partnership's group activities -------------------------------------------------
    # activities by type, started by the day
    "activities": f"""SELECT {{by}} AS row, activity_type AS col, activity_id AS unit,
                        {_key_of("activity_id")} AS k
                      FROM activity_facts WHERE started_on <= $5 AND {_period("started_on")}
                        AND {_SCOPE.format(a="")}""",
    # sessions held by the day, by the type of their activity
    "activity_sessions": f"""SELECT {{by}} AS row, activity_type AS col, session_id AS unit,
                        {_key_of("session_id")} AS k
                      FROM activity_session_facts WHERE held_on <= $5 AND {_period("held_on")}
                        AND {_SCOPE.format(a="")}""",
    # distinct participants by type: the i-th member of a case taking part in any activity of
    # the type as the case's latest change by the day says (intake counts them; no person id)
    "activity_participants": f"""SELECT {{by}} AS row, activity_type AS col,
                        case_id::text || ' ' || activity_type || ' ' || i AS unit,
                        {_PARTICIPANT_KEY} AS k
                      FROM (SELECT DISTINCT ON (case_id, activity_type) *
                            FROM participation_facts WHERE changed_on <= $5
                            ORDER BY case_id, activity_type, sequence DESC) p,
                           generate_series(1, p.participants_in_type) AS i
                      WHERE {_AS_OF_ONLY} AND {_SCOPE.format(a="")}""",
    # --- the partnerships' meetings -----------------------------------------------------------
    # meetings held by the day; institutions attending (one per meeting and institution); the
    # distinct cases discussed
    "meetings": f"""SELECT {{by}} AS row, 'held' AS col, meeting_id::text AS unit,
                        {_key_of("meeting_id")} AS k
                      FROM meeting_facts WHERE held_on <= $5 AND {_period("held_on")}
                        AND {_SCOPE.format(a="")}
                    UNION ALL
                    SELECT {{by}}, 'attendances', meeting_id::text || ' ' || institution_id,
                        {_part_key("meeting_id", "institution_id::text")}
                      FROM meeting_attendance_facts WHERE held_on <= $5
                        AND {_period("held_on")} AND {_SCOPE.format(a="")}
                    UNION ALL
                    SELECT {{by}}, 'cases_discussed', case_id::text, {_key_of("case_id")}
                      FROM meeting_case_facts WHERE held_on <= $5 AND {_period("held_on")}
                        AND {_SCOPE.format(a="")}""",
    # meetings by the sectors present (a meeting once per sector, however many institutions)
    "meeting_sectors": f"""SELECT {{by}} AS row, sector AS col,
                        meeting_id::text || ' ' || sector AS unit,
                        {_part_key("meeting_id", "sector")} AS k
                      FROM meeting_attendance_facts WHERE held_on <= $5
                        AND {_period("held_on")} AND {_SCOPE.format(a="")}""",
    # --- evaluation ----------------------------------------------------------------------------
    # follow-ups of families after closing (3 and 6 months), sustained or not; the period is
    # that of the closing
    "follow_ups": f"""SELECT {{by}} AS row,
                        months || CASE WHEN sustained THEN '_sustained' ELSE '_not_sustained' END
                        AS col,
                        case_id::text || ' ' || round || ' ' || months AS unit,
                        {_part_key("case_id", "round || ' ' || months")}
                        AS k
                      FROM follow_up_facts WHERE recorded_on <= $5 AND {_period("closed_on")}
                        AND {_SCOPE.format(a="")}""",
    # the roles families fulfil again, at their latest follow-up by the day
    "follow_up_roles": f"""SELECT {{by}} AS row, role AS col,
                        case_id::text || ' ' || round AS unit,
                        {_part_key("case_id", "round::text")} AS k
                      FROM (SELECT DISTINCT ON (case_id, round) *
                            FROM follow_up_facts WHERE recorded_on <= $5
                            ORDER BY case_id, round, months DESC) f, unnest(roles) AS role
                      WHERE {_period("closed_on")} AND {_SCOPE.format(a="")}""",
    # the members' survey: each answer given to each question (rows are the questions)
    "survey_answers": f"""SELECT question AS row, answer::text AS col,
                        concat_ws(' ', round_id, question, answer, i) AS unit,
                        {_part_key("round_id", "concat_ws(' ', question, answer, i)")}
                        AS k
                      FROM survey_answer_facts, generate_series(1, n) AS i
                      WHERE closed_on <= $5 AND {_period("closed_on")}
                        AND {_SCOPE.format(a="")}""",
    # the representatives asked in each round: answered or not
    "survey_responses": f"""SELECT {{by}} AS row, v.col,
                        concat_ws(' ', round_id, v.col, i) AS unit,
                        {_part_key("round_id", "concat_ws(' ', v.col, i)")}
                        AS k
                      FROM survey_round_facts,
                           LATERAL (VALUES ('answered', respondents),
                                           ('not_answered', greatest(invited - respondents, 0)))
                           AS v(col, m),
                           generate_series(1, v.m) AS i
                      WHERE closed_on <= $5 AND {_period("closed_on")}
                        AND {_SCOPE.format(a="")}""",
}


async def session_minutes(conn: asyncpg.Connection, where: Filter, by: str) -> list[dict[str, Any]]:
    """(row, col, minutes) of the sessions of `activity_sessions`: the hours beside them."""
    sql = f"""SELECT row, col, sum(minutes) AS minutes FROM (
                SELECT {{by}} AS row, activity_type AS col, minutes
                FROM activity_session_facts WHERE held_on <= $5 AND {_period("held_on")}
                  AND {_SCOPE.format(a="")}) s
              GROUP BY ROLLUP (row, col)"""
    return await _fetch(conn, sql, where, by)


# The counts of the indicators, one line per record and count it is in (col = the count).
_INDICATOR_RECORDS = f"""
    WITH first_support AS (
        SELECT case_id, min(accepted_on) AS accepted_on
        FROM referral_facts WHERE accepted_on <= $5 GROUP BY case_id),
    cases AS (
        SELECT {{by}} AS row, c.case_id, c.diagnosed_on, f.accepted_on,
               {_outcome_then("c")} AS outcome
        FROM {_CASES} c LEFT JOIN first_support f USING (case_id)
        WHERE {_CASES_AS_OF})
    SELECT row, v.col, case_id AS unit, {_CASE_KEY} AS k
    FROM cases, LATERAL (VALUES
        ('cases_opened', true),
        ('cases_closed', outcome IS NOT NULL),
        ('completed_successfully', outcome = 'completed_successfully'),
        ('diagnosed', diagnosed_on <= $5),
        ('supported', diagnosed_on <= $5 AND accepted_on IS NOT NULL)) AS v(col, member)
    WHERE v.member
    UNION ALL
    SELECT {{by}}, v.col, referral_id, {_REFERRAL_KEY}
    FROM referral_facts, LATERAL (VALUES
        ('referrals', true),
        ('referrals_accepted', accepted_on <= $5),
        ('referrals_declined', declined_on <= $5),
        ('referrals_answered', accepted_on <= $5 OR declined_on <= $5),
        ('referrals_overdue', overdue_on <= $5)) AS v(col, member)
    WHERE {_REFERRALS_AS_OF} AND v.member"""

_SUMMARY_RECORDS = f"""
    SELECT {{by}} AS row, 'cases_opened' AS col, case_id AS unit, {_CASE_KEY} AS k
    FROM {_CASES} AS case_facts WHERE {_CASES_AS_OF}
    UNION ALL
    SELECT {{by}}, v.col, v.unit, v.k
    FROM referral_facts, LATERAL (VALUES
        ('supports_assigned', {_SUPPORT}, {_SUPPORT_KEY}),
        ('referrals', referral_id, {_REFERRAL_KEY})) AS v(col, unit, k)
    WHERE {_REFERRALS_AS_OF}"""

RECORDS: dict[str, str] = {
    **CROSS_TABLES,
    "indicators": _INDICATOR_RECORDS,
    "summary": _SUMMARY_RECORDS,
}


async def durations(conn: asyncpg.Connection, where: Filter, by: str) -> list[dict[str, Any]]:
    """Per group, the days of each case from opening to completed diagnosis and from diagnosis
    to the first accepted support: for the percentiles of the indicators."""
    sql = f"""
    WITH first_support AS (
        SELECT case_id, min(accepted_on) AS accepted_on
        FROM referral_facts WHERE accepted_on <= $5 GROUP BY case_id)
    SELECT {{by}} AS row,
        coalesce(array_agg(c.diagnosed_on - c.opened_on)
            FILTER (WHERE c.diagnosed_on <= $5), '{{}}') AS days_to_diagnosis,
        coalesce(array_agg(f.accepted_on - c.diagnosed_on)
            FILTER (WHERE c.diagnosed_on <= $5 AND f.accepted_on IS NOT NULL), '{{}}')
            AS days_to_first_support
    FROM {_CASES} c LEFT JOIN first_support f USING (case_id)
    WHERE {_CASES_AS_OF} GROUP BY 1"""
    return await _fetch(conn, sql, where, by)
