"""Reporting on the real broker and database: projections from events in any order and more than
once, the model's testing-phase figure, as_of, exact figures for coordinators of a gmina or powiat
and protected ones (cell-key perturbation, small counts withheld) for the others, exports, and a
rebuild from the event log that equals the live projection.

The service runs on a vhost of its own (tests/integration/reporting_stack.py). Each test keeps to
regions or gminas of its own; the 172-families test alone uses the five partner regions.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import openpyxl
import pytest

from services.reporting import disclosure, store
from services.reporting.event_log import MARKER_PREFIX, AmqpReader, StreamReader, stream_url_of
from services.reporting.rebuild import rebuild
from services.reporting.tables import DERIVED, indicator_rows
from shared.auth import Role
from shared.codes import Reason
from shared.envelope import Envelope, wrap
from shared.events import (
    CaseClosed,
    CaseConsentGiven,
    CaseHouseholdChanged,
    CaseOpened,
    CaseReopened,
    CaseTransferred,
    DiagnosisCompleted,
    Event,
    InstitutionRegistered,
    Need,
    PartnershipChanged,
    PlanAgreed,
    PlanGoal,
    PlanGoalReviewed,
    PlanRevised,
    Recommendation,
    ReferralAccepted,
    ReferralDeclined,
    SupportAssigned,
    SupportCompleted,
    SupportOverdue,
    SupportUnassignable,
)
from shared.teryt import terc
from tests.integration.reporting_stack import PORT, ReportingStack, place, start_reporting_stack

pytestmark = pytest.mark.integration

PARTNER_REGIONS = ("06", "14", "18", "20", "26")


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[ReportingStack]:
    async for s in start_reporting_stack():
        yield s


@pytest.fixture(scope="module")
def published() -> list[Envelope]:
    """Everything the tests of this module published, for the rebuild to compare against."""
    return []


def rural(region: str, skip: int = 0, count: int = 1) -> list[str]:
    codes = sorted(g.code for g in terc().in_region(region) if g.variant == "rural")
    return codes[skip : skip + count]


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def opened(gmina: str, on: date, *, case_id: UUID | None = None, size: int = 3) -> CaseOpened:
    return CaseOpened(
        case_id=case_id or uuid4(),
        place=place(gmina),
        opened_on=on,
        household_size=size,
        age_bands={"30-44": 2, "6-17": size - 2} if size > 2 else {"30-44": size},
        reasons=["1", "9"],
        notified_by="school",
        consent_to_share=True,
    )


def closed(case: CaseOpened, on: date, outcome: str = "completed_successfully") -> CaseClosed:
    return CaseClosed(case_id=case.case_id, place=case.place, closed_on=on, outcome=outcome)


def diagnosed(case: CaseOpened, on: date) -> DiagnosisCompleted:
    return DiagnosisCompleted(
        diagnosis_id=uuid4(),
        case_id=case.case_id,
        place=case.place,
        completed_on=on,
        needs=[Need(area="parenting", severity=2)],
        recommendations=[
            Recommendation(
                recommendation_id=uuid4(),
                support_type="family_assistant",
                need_area="parenting",
                priority=1,
            )
        ],
        institutions=[uuid4()],
    )


def assigned(case: CaseOpened, referral: UUID, institution: UUID) -> SupportAssigned:
    return SupportAssigned(
        referral_id=referral,
        recommendation_id=uuid4(),
        case_id=case.case_id,
        place=case.place,
        support_type="family_assistant",
        institution_id=institution,
        sector="social_assistance",
        attempt=1,
        accept_by=datetime(2030, 1, 1, tzinfo=UTC),
    )


def accepted(case: CaseOpened, referral: UUID, institution: UUID) -> ReferralAccepted:
    return ReferralAccepted(
        referral_id=referral,
        case_id=case.case_id,
        place=case.place,
        support_type="family_assistant",
        institution_id=institution,
        sector="social_assistance",
        complete_by=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def send(
    stack: ReportingStack, published: list[Envelope], *events, on: date | None = None
) -> list[Envelope]:
    sent = await stack.publish(*events, time=at(on) if on else None)
    published.extend(sent)
    return sent


async def report(stack: ReportingStack, name: str, who: dict[str, str], **params) -> dict:
    response = await stack.get(f"/reports/{name}", who, **params)
    assert response.status_code == 200, response.text
    return response.json()


def row(table: dict, key: str) -> dict:
    [found] = [r for r in table["rows"] if r["key"] == key]
    return found


def a_goal(area: str) -> PlanGoal:
    return PlanGoal(
        goal_id=uuid4(), area=area, member_id=None, responsible_institution_id=None,
        due_on=date(2025, 12, 1), review_on=date(2025, 9, 1),
    )  # fmt: skip


def agreed_plan(gmina: str, on: date, *goals: PlanGoal, contract: date | None = None) -> PlanAgreed:
    return PlanAgreed(
        plan_id=uuid4(), diagnosis_id=uuid4(), case_id=uuid4(), place=place(gmina),
        agreed_on=on, social_contract_on=contract, goals=list(goals), supports=[],
    )  # fmt: skip


def reviewed(plan: PlanAgreed, goal: PlanGoal, on: date, result: str) -> PlanGoalReviewed:
    return PlanGoalReviewed(
        plan_id=plan.plan_id, case_id=plan.case_id, place=plan.place, goal_id=goal.goal_id,
        area=goal.area, reviewed_on=on, result=result,
    )  # fmt: skip


async def test_events_out_of_order_and_twice_are_counted_once(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("02", 0)
    case = opened(gmina, date(2025, 2, 3))
    assert "02" not in PARTNER_REGIONS
    referral, institution = uuid4(), uuid4()
    # the referral's story arrives first, the case closes before it is opened
    sent = await send(
        stack,
        published,
        accepted(case, referral, institution),
        SupportCompleted(
            referral_id=referral, case_id=case.case_id, place=case.place,
            support_type="family_assistant", institution_id=institution,
            sector="social_assistance", outcome="achieved",
        ),
        assigned(case, referral, institution),
        closed(case, date(2025, 11, 30)),
        case,
        diagnosed(case, date(2025, 2, 20)),
        on=date(2025, 3, 1),
    )  # fmt: skip
    again = await send(stack, published, sent[0], sent[3], sent[4])  # delivered twice
    await stack.settle(sent + again)

    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    cases = await report(stack, "cases", coordinator)
    assert row(cases, gmina)["cells"]["completed_successfully"] == 1
    assert row(cases, gmina)["cells"]["open"] == 0
    assert cases["total"]["total"] == 1
    referrals = await report(stack, "referrals", coordinator)
    assert row(referrals, gmina)["cells"]["completed"] == 1
    assert row(referrals, gmina)["total"] == 1
    figures = await report(stack, "indicators", coordinator)
    [mine] = figures["rows"]
    assert mine["cases_opened"] == 1
    assert mine["completed_successfully"] == 1
    assert mine["referrals"] == mine["referrals_accepted"] == 1
    assert mine["days_to_diagnosis_median"] == 17
    cooperation = await report(stack, "cooperation", coordinator)
    # the diagnosis' member (its sector not in the directory) and the accepting institution
    assert row(cooperation, gmina)["total"] == 2
    assert row(cooperation, gmina)["sectors_engaged"] == 2


async def test_closed_reopened_and_closed_again_on_one_day_ends_closed_in_any_order(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """Intake numbers a case's events (the `sequence` extension): the last transition decides,
    whatever the dates, however the events arrive, and after a rebuild."""
    gminas = rural("32", 0, 3)
    day = date(2025, 6, 2)
    expected: dict[str, tuple[int, int, int]] = {}  # gmina: open, successful, partly
    stories = []
    for n, gmina in enumerate(gminas):
        case = opened(gmina, date(2025, 3, 1))
        first = closed(case, day, "completed_partly")
        reopen = CaseReopened(case_id=case.case_id, place=case.place, reopened_on=day)
        # the same day; or closed again with a date before its reopening; or left reopened
        again = [
            [closed(case, day, "completed_successfully")],
            [closed(case, date(2025, 5, 30), "completed_successfully")],
            [],
        ][n]
        expected[gmina] = [(0, 1, 0), (0, 1, 0), (1, 0, 0)][n]
        story = [case, first, reopen, *again]
        stories.append([
            wrap(e, region="32", service="intake", time=at(day), sequence=i)
            for i, e in enumerate(story, start=1)
        ])  # fmt: skip
    # last first, each event twice
    arriving = [e for story in stories for e in reversed(story)]
    sent = await send(stack, published, *arriving, *arriving[::2])
    await stack.settle(sent)

    async def check() -> None:
        for gmina in gminas:
            who = stack.who(Role.COORDINATOR, gmina=gmina)
            cells = row(await report(stack, "cases", who), gmina)["cells"]
            shown = (cells["open"], cells["completed_successfully"], cells["completed_partly"])
            assert shown == expected[gmina], gmina
            [figures] = (await report(stack, "indicators", who))["rows"]
            assert figures["cases_closed"] == 1 - expected[gmina][0]
            assert figures["completed_successfully"] == expected[gmina][1]
            # as of the day before the closings, it was open
            early = await report(stack, "cases", who, as_of="2025-05-29")
            assert early["total"]["cells"]["open"] == 1

    await check()
    await rebuild(stack.pool, stack.settings.amqp_url, batch_size=3)
    await check()


async def test_consent_given_later_is_handled_and_changes_no_figure(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("02", 1)
    case = opened(gmina, date(2025, 4, 1)).model_copy(update={"consent_to_share": False})
    consent = CaseConsentGiven(case_id=case.case_id, place=case.place, given_on=date(2025, 4, 9))
    # The consent first as well: out of order it is still handled (in the inbox, so not
    # dead-lettered) and the case is counted once, as opened and open.
    sent = await send(stack, published, consent, case, on=date(2025, 4, 9))
    await stack.settle(sent)

    cases = await report(stack, "cases", stack.who(Role.COORDINATOR, gmina=gmina))
    assert row(cases, gmina)["cells"]["open"] == 1
    assert cases["total"]["total"] == 1


async def test_the_testing_phase_figure_172_families_in_30_gminas_140_successful(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    gminas = [g for region in PARTNER_REGIONS for g in rural(region, 0, 6)]
    assert len(gminas) == 30
    events = []
    expected = {r: {"opened": 0, "closed": 0, "success": 0} for r in PARTNER_REGIONS}
    # the model's figure counts families whose support ended: all 172 closed by the end of the
    # phase, 140 of them successfully; 5 more families came late and are still supported
    for i in range(172 + 5):
        gmina = gminas[i % 30]
        case = opened(gmina, date(2019, 10, 1) + timedelta(days=i % 60), size=1 + i % 7)
        events.append(case)
        expected[gmina[:2]]["opened"] += 1
        if i < 172:
            expected[gmina[:2]]["closed"] += 1
        if i < 140:
            events.append(closed(case, date(2020, 10, 1) + timedelta(days=i % 90)))
            expected[gmina[:2]]["success"] += 1
        elif i < 160:
            events.append(closed(case, date(2020, 11, 5), "completed_partly"))
        elif i < 172:
            events.append(closed(case, date(2020, 11, 5), "refused_cooperation"))
    await stack.settle(await send(stack, published, *events))

    # exact: each gmina's coordinator reads their own figures in full, and they add up
    exact = {"cases_opened": 0, "completed_successfully": 0, "cases_closed": 0}
    by_region = {r: {"opened": 0, "success": 0} for r in PARTNER_REGIONS}
    for gmina in gminas:
        coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
        [mine] = (await report(stack, "indicators", coordinator))["rows"]
        assert mine["key"] == gmina
        assert mine["success_share"] == round(
            100 * mine["completed_successfully"] / mine["cases_closed"], 1
        )
        for name in exact:
            exact[name] += mine[name]
        by_region[gmina[:2]]["opened"] += mine["cases_opened"]
        by_region[gmina[:2]]["success"] += mine["completed_successfully"]
    assert exact == {"cases_opened": 177, "completed_successfully": 140, "cases_closed": 172}
    # the model's figure: of the 172 families whose support ended, 140 successfully
    assert round(100 * exact["completed_successfully"] / exact["cases_closed"], 1) == 81.4
    # and so reporting figures it over the five regions, before any protection
    where = store.Filter(region=list(PARTNER_REGIONS), as_of=date(9999, 12, 31),
                         key_pads=disclosure.hmac_pads(b"any"))  # fmt: skip
    async with stack.pool.acquire() as conn:
        cells = await store.cells(conn, "indicators", where, "region")
        durations = await store.durations(conn, where, "region")
    _, whole = indicator_rows(cells, durations, str, threshold=None)
    assert (whole["cases_closed"], whole["completed_successfully"]) == (172, 140)
    assert whole["success_share"] == 81.4
    assert by_region == {r: {"opened": c["opened"], "success": c["success"]}
                         for r, c in expected.items()}  # fmt: skip

    # protected: the macro-region's analyst sees every count within the published ±2 of the
    # truth, the total as a figure of its own, and the same records as the same figure
    macro_analyst = stack.who(Role.ANALYST, region="06,14,18,20,26")
    partners = {"region": list(PARTNER_REGIONS)}
    figures = await report(stack, "indicators", macro_analyst, by="region", **partners)
    total = figures["total"]
    assert figures["suppression"]["method"] == "cell-key"
    assert abs(total["cases_opened"] - 177) <= 2
    assert abs(total["cases_closed"] - 172) <= 2
    assert abs(total["completed_successfully"] - 140) <= 2
    part, whole = DERIVED["success_share"]
    assert total["success_share"] == round(100 * total[part] / total[whole], 1)
    by_region_shown = {r["key"]: r for r in figures["rows"]}
    assert set(by_region_shown) == set(PARTNER_REGIONS)
    for region, counts in expected.items():
        assert abs(by_region_shown[region]["cases_opened"] - counts["opened"]) <= 2
        assert abs(by_region_shown[region]["cases_closed"] - counts["closed"]) <= 2
        assert abs(by_region_shown[region]["completed_successfully"] - counts["success"]) <= 2
    assert by_region_shown["06"]["label"] == "LUBELSKIE"
    gmina_rows = await report(stack, "indicators", macro_analyst, by="gmina", **partners)
    assert len(gmina_rows["rows"]) == 30
    by_variant = await report(stack, "indicators", macro_analyst, by="variant", **partners)
    [variant] = by_variant["rows"]
    assert (variant["key"], variant["label"]) == ("rural", "gminy wiejskie")
    # all the cases are rural: the row holds the records of the total, so it is the same figure
    for name in ("cases_opened", "completed_successfully", "success_share"):
        assert variant[name] == total[name], name
    # one region's analyst sees their region only: the same records as the region's row above
    lubelskie = await report(stack, "indicators", stack.who(Role.ANALYST, region="06"), by="region")
    assert [r["key"] for r in lubelskie["rows"]] == ["06"]
    assert lubelskie["total"]["cases_opened"] == by_region_shown["06"]["cases_opened"]


async def test_as_of_gives_the_figures_as_they_stood_at_the_end_of_that_day(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("10", 0)
    first = opened(gmina, date(2024, 3, 1))
    second = opened(gmina, date(2024, 4, 15))
    referral, institution = uuid4(), uuid4()
    sent = await send(stack, published, first, second, diagnosed(first, date(2024, 3, 10)))
    sent += await send(
        stack, published, assigned(first, referral, institution), on=date(2024, 3, 12)
    )
    sent += await send(
        stack, published, accepted(first, referral, institution), on=date(2024, 3, 20)
    )
    sent += await send(stack, published, closed(first, date(2024, 5, 31)))
    await stack.settle(sent)
    who = stack.who(Role.COORDINATOR, gmina=gmina)

    async def cells(report_name: str, as_of: str) -> dict:
        table = await report(stack, report_name, who, as_of=as_of)
        return table["rows"][0]["cells"] if table["rows"] else {}

    assert await cells("cases", "2024-02-29") == {}
    assert (await cells("cases", "2024-03-31"))["open"] == 1
    assert (await cells("cases", "2024-05-30"))["open"] == 2
    at_close = await cells("cases", "2024-05-31")  # the end of the day includes that day
    assert (at_close["open"], at_close["completed_successfully"]) == (1, 1)
    assert (await cells("referrals", "2024-03-15"))["assigned"] == 1
    assert (await cells("referrals", "2024-03-20"))["accepted"] == 1
    # the first case is reopened, then closed again with another outcome
    sent = await send(
        stack, published,
        CaseReopened(case_id=first.case_id, place=first.place, reopened_on=date(2024, 6, 15)),
        closed(first, date(2024, 9, 30), "completed_partly"),
    )  # fmt: skip
    await stack.settle(sent)
    assert (await cells("cases", "2024-06-14"))["completed_successfully"] == 1
    assert (await cells("cases", "2024-06-15"))["open"] == 2
    assert (await cells("cases", "2024-09-30"))["completed_partly"] == 1
    assert (await cells("cases", "2024-09-30"))["completed_successfully"] == 0
    figures = await report(stack, "indicators", who, as_of="2024-06-30")
    assert figures["rows"][0]["days_to_diagnosis_median"] == 9
    assert figures["rows"][0]["days_to_first_support_median"] == 10
    early = await report(stack, "indicators", who, as_of="2024-03-15")
    assert early["rows"][0]["days_to_first_support_median"] is None


async def test_analyst_sees_small_cells_withheld_and_the_rest_perturbed_consistently(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    small, large, middle = rural("04", 0, 3)
    events = [opened(small, date(2025, 1, 5)) for _ in range(2)]
    events += [opened(large, date(2025, 1, 5)) for _ in range(12)]
    events += [opened(middle, date(2025, 1, 5)) for _ in range(9)]
    closings = [closed(e, date(2025, 6, 1)) for e in events[2:9]]
    await stack.settle(await send(stack, published, *events, *closings))
    truth = {small: {"open": 2, "completed_successfully": 0, "total": 2},
             large: {"open": 5, "completed_successfully": 7, "total": 12},
             middle: {"open": 9, "completed_successfully": 0, "total": 9},
             "total": {"open": 16, "completed_successfully": 7, "total": 23}}  # fmt: skip

    analyst = stack.who(Role.ANALYST, region="04")
    table = await report(stack, "cases", analyst)
    assert table["suppression"] == {"threshold": 5, "sign": "#", "method": "cell-key",
                                    "max_noise": 2, "withheld_up_to": 10}  # fmt: skip
    for line in [*table["rows"], table["total"]]:
        true = truth[line["key"]]
        for name, shown in [*line["cells"].items(), ("total", line["total"])]:
            n = true.get(name, 0)
            if n == 0:
                assert shown == 0, (line["key"], name)
            elif n < 5:
                assert shown is None and name in line["hidden"], (line["key"], name)
            elif shown is None:  # just above the threshold, withheld by its cell key
                assert n <= table["suppression"]["withheld_up_to"], (line["key"], name)
            else:
                assert shown >= 5 and abs(shown - n) <= 2, (line["key"], name, shown)
    # the total is a figure of its own, not the sum of the rows shown
    assert table["total"]["total"] is not None

    # the same records reached another way give the same figure: the row totals of cases by
    # state and of households by size, the indicators' and the summary's cases opened; a
    # gmina's row through the region and through the gmina filter
    households = await report(stack, "households", analyst)
    figures = await report(stack, "indicators", analyst)
    summary = (await stack.get("/reports/summary", analyst)).json()
    by_summary = {r["key"]: r for r in summary["rows"]}
    for line in table["rows"]:
        key = line["key"]
        assert row(households, key)["total"] == line["total"], key
        assert row(figures, key)["cases_opened"] == line["total"], key
        assert by_summary[key]["cases_opened"] == line["total"], key
        alone = await report(stack, "cases", analyst, gmina=key)
        assert (
            alone["rows"][0]["cells"] == line["cells"]
            and alone["total"]["total"] == (line["total"])
        ), key
    assert households["total"]["total"] == table["total"]["total"]
    assert figures["total"]["cases_opened"] == table["total"]["total"]
    assert summary["total"]["cases_opened"] == table["total"]["total"]
    # the same figure on every call, and for a coordinator whose scope is the region
    assert await report(stack, "cases", analyst) == table
    regional = await report(stack, "cases", stack.who(Role.COORDINATOR, region="04"))
    assert regional == table
    # the small gmina's withheld count is withheld in every table that counts its cases
    assert row(figures, small)["cases_opened"] is None
    assert row(figures, small)["success_share"] is None
    assert by_summary[small]["cases_opened"] is None

    coordinator = await report(stack, "cases", stack.who(Role.COORDINATOR, gmina=small))
    assert row(coordinator, small)["cells"]["open"] == 2
    assert coordinator["suppression"] is None
    powiat = await report(stack, "cases", stack.who(Role.COORDINATOR, powiat=small[:4]))
    for line in powiat["rows"]:
        assert line["cells"]["open"] == truth[line["key"]]["open"]
        assert line["total"] == truth[line["key"]]["total"]


async def test_csv_and_xlsx_exports_hold_the_same_protected_table(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    a, b, c = rural("08", 0, 3)
    assert a[:4] == b[:4] == c[:4], "three gminas of one powiat"
    events = [opened(a, date(2025, 4, 1), size=2) for _ in range(3)]
    events += [opened(b, date(2025, 4, 1), size=4) for _ in range(8)]
    events += [opened(b, date(2025, 4, 1), size=2) for _ in range(6)]
    events += [opened(c, date(2025, 4, 1), size=4) for _ in range(9)]
    events += [opened(c, date(2025, 4, 1), size=2) for _ in range(7)]
    await stack.settle(await send(stack, published, *events))
    who = stack.who(Role.COORDINATOR, powiat=a[:4])
    full = await report(stack, "households", who)
    assert full["suppression"] is None  # a coordinator reads it in full ...
    assert row(full, a)["cells"]["2"] == 3

    csv_answer = await stack.get("/reports/households", who, format="csv")
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_answer.content.decode("utf-8-sig")), delimiter=";"))
    xlsx_answer = await stack.get("/reports/households", who, format="xlsx")
    assert xlsx_answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_answer.content)).active
    cells = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert cells == rows

    # ... but files travel: there the figures are protected, the same as an analyst's
    header = rows[0]
    assert header[:2] == ["kod", "nazwa"] and header[-1] == "ogółem"
    analyst = await report(stack, "households", stack.who(Role.ANALYST, region="08"))
    for line in rows[1:]:
        source = analyst["total"] if line[0] == "total" else row(analyst, line[0])
        truth = full["total"] if line[0] == "total" else row(full, line[0])
        for column, value in zip(header[2:-1], line[2:-1], strict=True):
            key = next(k for k in full["columns"] if k["label"] == column)["key"]
            shown = source["cells"][key]
            assert value == ("#" if shown is None else str(shown))
            true = truth["cells"][key]
            assert value == "#" if 0 < true < 5 else value != "#" or true <= 7
            assert value == "#" or abs(int(value) - true) <= 2
        assert line[-1] == ("#" if source["total"] is None else str(source["total"]))
        assert line[-1] == "#" if 0 < truth["total"] < 5 else line[-1] != "#" or truth["total"] <= 7
        assert line[-1] == "#" or abs(int(line[-1]) - truth["total"]) <= 2
    by_key = {line[0]: line for line in rows[1:]}
    assert by_key[a][header.index("2")] == "#"
    # a gmina coordinator's export is protected too
    mine = await stack.get("/reports/households", stack.who(Role.COORDINATOR, gmina=a),
                           format="csv")  # fmt: skip
    lines = list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[1][header.index("2")] == "#"

    # every export ends with its total line the same way: code "total", label "ogółem"
    for name in ("summary", "indicators", "households", "acceptance_by_sector"):
        for fmt in ("csv", "xlsx"):
            answer = await stack.get(f"/reports/{name}", who, format=fmt)
            assert answer.status_code == 200, answer.text
            if fmt == "csv":
                text = answer.content.decode("utf-8-sig")
                last = list(csv.reader(io.StringIO(text), delimiter=";"))[-1]
            else:
                sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
                last = [str(v) for v in list(sheet.iter_rows(values_only=True))[-1]]
            assert last[:2] == ["total", "ogółem"], (name, fmt, last)


async def test_bad_requests_get_a_problem_naming_the_field(stack: ReportingStack) -> None:
    analyst = stack.who(Role.ANALYST, region="06")
    for params, field in (
        ({"gmina": "9999999"}, "gmina"),
        ({"gmina": "06"}, "gmina"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"by": "street"}, "by"),
        ({"format": "pdf"}, "format"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "from"),
        ({"region": "14"}, "region"),
    ):
        response = await stack.get("/reports/cases", analyst, **params)
        assert response.status_code in (403, 422), (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field, response.json()
    catalogue = await stack.get("/reports", analyst)
    names = {r["name"] for r in catalogue.json()["reports"]}
    assert {"summary", "indicators", "cases", "referrals", "unmet_needs", "cooperation"} <= names
    unknown = await stack.get("/reports/horoscope", analyst)
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "name"
    operator = await stack.get("/reports/cases", stack.who(Role.OPERATOR))
    assert operator.status_code == 403
    anonymous = await stack.get("/reports/cases", {})
    assert anonymous.status_code == 401
    refused = await stack.post("/admin/rebuild", analyst)
    assert refused.status_code == 403


async def test_rebuild_from_the_event_log_equals_live_and_live_goes_on_after_it(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("12", 0)
    case = opened(gmina, date(2025, 5, 5))
    referral, declined_one, institution, busy = uuid4(), uuid4(), uuid4(), uuid4()
    rich = [
        InstitutionRegistered(
            institution_id=institution, name="GOPS", sector="social_assistance",
            support_types=["family_assistant"], gminas=[gmina],
        ),
        case,
        diagnosed(case, date(2025, 5, 20)),
        assigned(case, declined_one, busy),
        ReferralDeclined(
            referral_id=declined_one, case_id=case.case_id, place=case.place,
            support_type="family_assistant", institution_id=busy, sector="social_assistance",
            reason="no_capacity", attempt=1,
        ),
        assigned(case, referral, institution),
        accepted(case, referral, institution),
        SupportOverdue(
            referral_id=referral, case_id=case.case_id, place=case.place,
            support_type="family_assistant", institution_id=institution, stage="completion",
        ),
        SupportUnassignable(
            recommendation_id=uuid4(), case_id=case.case_id, place=case.place,
            support_type="speech_therapist", attempts=0,
        ),
    ]  # fmt: skip
    kept, dropped = a_goal("parenting"), a_goal("finances")
    plan = agreed_plan(gmina, date(2025, 5, 25), kept, dropped).model_copy(
        update={"case_id": case.case_id}
    )
    rich += [
        reviewed(plan, kept, date(2025, 6, 20), "in_progress"),  # before its plan
        plan,
        PlanRevised(
            plan_id=plan.plan_id, diagnosis_id=plan.diagnosis_id, case_id=case.case_id,
            place=case.place, revised_on=date(2025, 6, 10), social_contract_on=date(2025, 6, 10),
            version=2, goals=[kept, a_goal("housing")], supports=[],
            removed_goals=[dropped.goal_id],
        ),
    ]  # fmt: skip
    await send(stack, published, *rich)
    await stack.settle(published)  # everything any test of this module sent
    # in the log, not for reporting: the rebuild says what it left out and why
    await stack.publish(PartnershipChanged(gmina=gmina, institutions=[institution]))
    live = await stack.snapshot()

    env = {**os.environ, "KOOP_REPORTING_PORT": str(PORT)}
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kooperacja", "reporting", "rebuild",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(cli.communicate(), timeout=120)
    assert cli.returncode == 0, err.decode()
    assert f"rebuilt from {len(published)} events" in out.decode()  # duplicates included
    assert (
        "  skipped 1 partnership.changed.v1 events: not reported (who sits on a PZK is no "
        "figure of the reports)\n" in out.decode()
    )
    assert await stack.snapshot() == live

    # live again: a new case counts once, and an old event delivered again changes nothing
    later = opened(gmina, date(2025, 6, 1))
    sent = await send(stack, published, later, published[0])
    await stack.settle(sent)
    after = await stack.snapshot()
    assert after["case_facts"] == sorted(
        [*live["case_facts"], *[r for r in after["case_facts"] if r["case_id"] == later.case_id]],
        key=lambda r: r["case_id"],
    )
    assert {k: v for k, v in after.items() if k != "case_facts"} == {
        k: v for k, v in live.items() if k != "case_facts"
    }
    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    by_sector = await report(stack, "acceptance_by_sector", coordinator)
    assert row(by_sector, "social_assistance")["acceptance_rate"] == 50.0  # one of two
    assert row(by_sector, "social_assistance")["cells"]["declined"] == 1
    unmet = await report(stack, "unmet_needs", coordinator)
    assert row(unmet, gmina)["cells"]["speech_therapist"] == 1
    figures = await report(stack, "indicators", coordinator)
    assert figures["rows"][0]["cases_opened"] == 2
    assert figures["rows"][0]["referrals"] == 2
    assert figures["rows"][0]["referrals_declined"] == 1
    assert figures["rows"][0]["referrals_overdue"] == 1
    plans = row(await report(stack, "plans", coordinator), gmina)
    assert plans["cells"] == {"with_contract": 1, "without_contract": 0}
    goals = row(await report(stack, "goals", coordinator), gmina)
    assert (goals["cells"]["parenting"], goals["cells"]["housing"]) == (1, 1)
    assert goals["cells"]["finances"] == 0
    reviews = row(await report(stack, "goal_reviews", coordinator), gmina)
    assert (reviews["cells"]["in_progress"], reviews["cells"]["not_reviewed"]) == (1, 1)


async def test_events_arriving_during_a_rebuild_are_neither_lost_nor_counted_twice(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("16", 0)
    cases = [opened(gmina, date(2025, 9, 1)) for _ in range(150)]
    operator = stack.who(Role.OPERATOR)

    async def trickle() -> list[Envelope]:
        sent = []
        for case in cases:
            sent += await send(stack, published, case)
            await asyncio.sleep(0)  # let the rebuild interleave with the publishing
        return sent

    await send(stack, published, opened(gmina, date(2025, 8, 1)))  # so the log is not empty
    publishing = asyncio.create_task(trickle())
    first = await stack.post("/admin/rebuild", operator)
    second = await stack.post("/admin/rebuild", operator)  # maybe still during the trickle
    sent = await publishing
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    await stack.settle(sent)

    figures = await report(stack, "indicators", stack.who(Role.COORDINATOR, gmina=gmina))
    assert figures["rows"][0]["cases_opened"] == 151
    live = await stack.snapshot()
    again = await stack.post("/admin/rebuild", operator)
    assert again.status_code == 200
    assert await stack.snapshot() == live


async def test_the_stream_protocol_and_amqp_read_the_same_log(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    [gmina] = rural("22", 0)
    await send(stack, published, *(opened(gmina, date(2025, 10, d)) for d in range(1, 9)))
    amqp_url = stack.settings.amqp_url
    by_stream = {
        readers: [
            body
            async for batch in StreamReader(
                stream_url_of(amqp_url), amqp_url, readers=readers
            ).batches(5)
            for body in batch
        ]
        for readers in (1, 3)
    }
    by_amqp = [
        body async for batch in AmqpReader(amqp_url, prefetch=10).batches(5) for body in batch
    ]
    # in order with one reader; each message once in any order with several; every later read
    # sees the earlier ones' markers too
    one, three = by_stream[1], by_stream[3]
    assert by_amqp[: len(one)] == one
    assert sorted(three) == sorted(by_amqp[: len(three)])
    assert len(three) == len(one) + 1
    # not the markers, nor the partnership event the rebuild test put in the log to be skipped
    events = [
        b for b in one
        if not b.startswith(MARKER_PREFIX) and b"partnership.changed.v1" not in b
    ]  # fmt: skip
    assert sorted(Envelope.model_validate_json(b).id for b in events) == sorted(
        e.id for e in published
    )


async def test_a_rebuild_reads_over_amqp_when_the_stream_port_is_closed(
    stack: ReportingStack, published: list[Envelope], caplog: pytest.LogCaptureFixture
) -> None:
    [gmina] = rural("24", 0)
    case = opened(gmina, date(2025, 11, 3))
    await send(stack, published, case, diagnosed(case, date(2025, 11, 20)), published[0])
    await stack.settle(published)
    live = await stack.snapshot()
    amqp_url = stack.settings.amqp_url
    # small batches: rows of one thing and one event id in several batches
    over_stream = await rebuild(
        stack.pool, amqp_url, stream_url=stream_url_of(amqp_url), batch_size=7
    )
    assert "over AMQP" not in caplog.text
    assert await stack.snapshot() == live
    with caplog.at_level(logging.WARNING, logger="services.reporting.event_log"):
        over_amqp = await rebuild(
            stack.pool, amqp_url, stream_url=stream_url_of(amqp_url, port=1), batch_size=7
        )
    assert "reading the event log over AMQP" in caplog.text
    assert await stack.snapshot() == live
    assert over_stream.events == over_amqp.events == len(published)  # duplicates included
    in_inbox = await stack.pool.fetchval("SELECT count(*) FROM inbox")
    assert in_inbox == len({e.id for e in published})


async def test_a_token_without_scope_sees_no_report(stack: ReportingStack) -> None:
    for role in (Role.ANALYST, Role.COORDINATOR):
        response = await stack.get("/reports/summary", stack.who(role))
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "scope_missing"


async def test_a_rebuild_over_a_log_with_events_from_before_the_fix_finds_statute_codes(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """Events published before the art. 7 fix carry no reasons_version and numbered 10
    foreigners … 15 ecological disaster: live and rebuilt, they count under the statute's
    codes (11 … 15), and no column 10 exists."""
    [gmina] = rural("28", 0)

    def before_the_fix(reasons: list[str]) -> Envelope:
        envelope = wrap(opened(gmina, date(2025, 3, 3)), region="28", service="intake")
        data = {k: v for k, v in envelope.data.items() if k != "reasons_version"}
        return envelope.model_copy(update={"data": {**data, "reasons": reasons}})

    old = [before_the_fix(["10", "12"]), before_the_fix(["14", "15"]), before_the_fix(["12"])]
    assert all("reasons_version" not in e.data for e in old)
    fixed = opened(gmina, date(2025, 3, 4)).model_copy(update={"reasons": [Reason.ADDICTION]})
    await send(stack, published, *old, fixed)
    await stack.settle(published)
    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    expected = {"11": 1, "12": 0, "13": 3, "14": 0, "15": 1}

    async def reasons_counted() -> dict[str, int]:
        table = await report(stack, "reasons", coordinator)
        assert "10" not in {c["key"] for c in table["columns"]}
        return {k: row(table, gmina)["cells"][k] for k in expected}

    assert await reasons_counted() == expected
    live = await stack.snapshot()
    await rebuild(stack.pool, stack.settings.amqp_url)
    assert await stack.snapshot() == live
    assert await reasons_counted() == expected
    stored = await stack.pool.fetch(
        "SELECT reasons FROM case_facts WHERE gmina = $1 ORDER BY reasons", gmina
    )
    assert sorted(r["reasons"] for r in stored) == [["11", "13"], ["13"], ["13"], ["15"]]


async def test_household_figures_follow_intakes_latest_change_in_any_order_and_twice(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """case.household_changed.v1 replaces the household's figures of the opening: the change
    with the highest per-case sequence stands, whatever order the events arrive in."""
    [gmina] = rural("30", 0)
    case = opened(gmina, date(2025, 4, 1), size=3)

    def changed(size: int, bands: dict[str, int], reasons: list[str]) -> CaseHouseholdChanged:
        return CaseHouseholdChanged(
            case_id=case.case_id, place=case.place, changed_on=date(2025, 4, 20),
            household_size=size, age_bands=bands, reasons=reasons,
        )  # fmt: skip

    def numbered(event: Event, sequence: int) -> Envelope:
        return wrap(event, region="30", service="intake", sequence=sequence)

    first = numbered(case, 1)
    grown = numbered(changed(4, {"30-44": 2, "6-17": 2}, ["1", "9"]), 2)
    shrunk = numbered(changed(2, {"30-44": 1, "6-17": 1}, ["13"]), 3)
    await send(stack, published, shrunk, first, grown, shrunk, first)
    await stack.settle(published)
    [fact] = [r for r in (await stack.snapshot())["case_facts"] if r["case_id"] == case.case_id]
    assert (fact["household_size"], fact["reasons"], fact["household_seq"]) == (2, ["13"], 3)
    assert json.loads(fact["age_bands"]) == {"30-44": 1, "6-17": 1}
    assert fact["opened_on"] == date(2025, 4, 1)

    coordinator = stack.who(Role.COORDINATOR, gmina=gmina)
    households = row(await report(stack, "households", coordinator), gmina)
    assert households["cells"]["2"] == 1 and households["cells"]["3"] == 0
    reasons = row(await report(stack, "reasons", coordinator), gmina)
    assert (reasons["cells"]["13"], reasons["cells"]["1"], reasons["cells"]["9"]) == (1, 0, 0)
    ages = row(await report(stack, "age_bands", coordinator), gmina)
    assert (ages["cells"]["30-44"], ages["cells"]["6-17"]) == (1, 1)


async def test_a_transfer_counts_out_where_the_case_left_and_in_where_it_arrived(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    sending, receiving = rural("30", 1, 2)
    case = opened(sending, date(2025, 5, 2))
    moved = CaseTransferred(
        case_id=case.case_id, place=place(receiving), from_place=case.place,
        transferred_on=date(2025, 6, 3),
    )  # fmt: skip
    sent = await send(stack, published, moved, case, moved)  # before its opening, and twice
    await stack.settle(sent)
    out = await report(stack, "transfers", stack.who(Role.COORDINATOR, gmina=sending))
    into = await report(stack, "transfers", stack.who(Role.COORDINATOR, gmina=receiving))
    assert row(out, sending)["cells"] == {"out": 1, "in": 0}
    assert row(into, receiving)["cells"] == {"out": 0, "in": 1}
    before = await report(stack, "transfers", stack.who(Role.COORDINATOR, gmina=sending),
                          as_of="2025-06-02")  # fmt: skip
    assert before["rows"] == []


async def test_a_transferred_case_counts_where_it_was_on_the_day_in_any_order_and_twice(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """case.transferred.v1 moves the case's place (intake's latest word by its sequence): every
    case figure counts it where it was at the end of the report's day; diagnosis's events,
    which carry no sequence of intake's, never move it back; a rebuild gives the same."""
    sending, receiving = rural("30", 3, 2)  # receiving > sending: "the least place" is wrong
    case = opened(sending, date(2025, 5, 2))
    moved = CaseTransferred(
        case_id=case.case_id, place=place(receiving), from_place=case.place,
        transferred_on=date(2025, 6, 3),
    )  # fmt: skip
    done = CaseClosed(case_id=case.case_id, place=place(receiving), closed_on=date(2025, 9, 1),
                      outcome="completed_successfully")  # fmt: skip
    intake = [wrap(e, region="30", service="intake", time=at(date(2025, 6, 3)), sequence=n)
              for n, e in enumerate([case, moved, done], start=1)]  # fmt: skip
    diagnosis = diagnosed(case, date(2025, 5, 20))  # in the sending gmina, before the move
    sent = await send(stack, published, *reversed(intake), diagnosis, intake[1], intake[0])
    await stack.settle(sent)

    [fact] = [r for r in (await stack.snapshot())["case_facts"] if r["case_id"] == case.case_id]
    assert (fact["gmina"], fact["place_seq"], fact["transferred_on"]) == (
        receiving,
        3,
        date(2025, 6, 3),
    )

    async def check() -> None:
        there = stack.who(Role.COORDINATOR, gmina=receiving)
        here = stack.who(Role.COORDINATOR, gmina=sending)
        now = await report(stack, "cases", there)
        assert row(now, receiving)["cells"]["completed_successfully"] == 1
        assert (await report(stack, "cases", here))["rows"] == []
        [figures] = (await report(stack, "indicators", there))["rows"]
        assert (figures["cases_opened"], figures["completed_successfully"]) == (1, 1)
        assert figures["days_to_diagnosis_median"] == 18
        assert row(await report(stack, "needs", there), receiving)["cells"]["parenting"] == 1
        # as of a day before its transfer it was open in the sending gmina, and only there
        then = await report(stack, "cases", here, as_of="2025-06-02")
        assert row(then, sending)["cells"]["open"] == 1
        assert (await report(stack, "cases", there, as_of="2025-06-02"))["rows"] == []
        households = await report(stack, "households", here, as_of="2025-06-02")
        assert row(households, sending)["cells"]["3"] == 1
        on_the_day = await report(stack, "cases", there, as_of="2025-06-03")
        assert row(on_the_day, receiving)["cells"]["open"] == 1
        out = await report(stack, "transfers", here)
        assert row(out, sending)["cells"] == {"out": 1, "in": 0}
        into = await report(stack, "transfers", there)
        assert row(into, receiving)["cells"] == {"out": 0, "in": 1}

    await check()
    before = await stack.snapshot()
    await rebuild(stack.pool, stack.settings.amqp_url, batch_size=2)
    after = await stack.snapshot()
    assert [r for r in after["case_facts"] if r["case_id"] == case.case_id] == [
        r for r in before["case_facts"] if r["case_id"] == case.case_id
    ]
    assert [r for r in after["case_transfer_facts"] if r["case_id"] == case.case_id] == [
        r for r in before["case_transfer_facts"] if r["case_id"] == case.case_id
    ]
    await check()


async def test_the_database_gives_each_record_the_key_disclosure_computes(
    stack: ReportingStack,
) -> None:
    secret = b"a secret of the test, thirty-two bytes or more"
    inner, outer = disclosure.hmac_pads(secret)
    ids = [uuid4() for _ in range(20)]
    found = await stack.pool.fetch(
        f"SELECT id, {store._key_of('id')} AS k FROM unnest($10::uuid[]) AS id"
        " WHERE $1::text[] IS NULL AND $2::text IS NULL AND $3::text IS NULL"
        " AND $4::text IS NULL AND $5::date IS NOT NULL AND $6::date IS NULL"
        " AND $7::date IS NULL",
        None, None, None, None, date(2025, 1, 1), None, None, inner, outer, ids,
    )  # fmt: skip
    assert {r["id"]: r["k"] for r in found} == {i: disclosure.record_key(secret, i) for i in ids}


async def test_plans_goals_and_their_reviews_are_counted_once_in_any_order(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """plan.agreed.v1, plan.revised.v1 and plan.goal_reviewed.v1 arriving in any order and more
    than once: plans agreed (with a social contract or not), goals by area (a dropped goal no
    longer counted), goals by their latest review; exact for the gmina's coordinator, protected
    for an analyst, the goals counted the same in both goal tables."""
    small, large = rural("26", 6, 2)  # the 172-families test has the first six of region 26
    parenting, finances, housing = a_goal("parenting"), a_goal("finances"), a_goal("housing")
    agreed = agreed_plan(small, date(2025, 6, 2), parenting, finances)
    revised = PlanRevised(
        plan_id=agreed.plan_id, diagnosis_id=agreed.diagnosis_id, case_id=agreed.case_id,
        place=agreed.place, revised_on=date(2025, 7, 1), social_contract_on=date(2025, 7, 1),
        version=2, goals=[parenting, housing], supports=[], removed_goals=[finances.goal_id],
    )  # fmt: skip
    later = reviewed(agreed, parenting, date(2025, 9, 1), "met")
    earlier = reviewed(agreed, parenting, date(2025, 8, 1), "in_progress")
    other = agreed_plan(small, date(2025, 6, 2), a_goal("housing"))
    # the large gmina: 12 plans (7 with a contract), each with a parenting and a housing goal;
    # 9 of the parenting goals met, 6 of the housing goals not met
    many = [
        agreed_plan(large, date(2025, 5, 1), a_goal("parenting"), a_goal("housing"),
                    contract=date(2025, 5, 1) if i < 7 else None)
        for i in range(12)
    ]  # fmt: skip
    reviews_of_many = [reviewed(p, p.goals[0], date(2025, 8, 1), "met") for p in many[:9]]
    reviews_of_many += [reviewed(p, p.goals[1], date(2025, 8, 1), "not_met") for p in many[:6]]
    sent = await send(
        stack, published, later, revised, other, earlier, agreed, later, revised,
        *reviews_of_many, *many, *many[:3],
    )  # fmt: skip
    await stack.settle(sent)

    coordinator = stack.who(Role.COORDINATOR, gmina=small)
    plans = await report(stack, "plans", coordinator, by="gmina")
    assert plans["suppression"] is None
    mine = row(plans, small)
    assert mine["cells"] == {"with_contract": 1, "without_contract": 1} and mine["total"] == 2
    goals = row(await report(stack, "goals", coordinator, by="gmina"), small)
    assert (goals["cells"]["parenting"], goals["cells"]["housing"]) == (1, 2)
    assert goals["cells"]["finances"] == 0 and goals["total"] == 3
    reviews = row(await report(stack, "goal_reviews", coordinator, by="gmina"), small)
    assert reviews["cells"] == {"met": 1, "not_met": 0, "in_progress": 0, "not_reviewed": 2}
    assert reviews["total"] == 3
    # As it stood on 15 August: the goal reviewed on 1 September is not reviewed yet (each goal
    # keeps its latest review only, so the review of 1 August does not show either); on 15 June
    # the plan had no contract yet and still held the goal the revision dropped.
    then = {"by": "gmina", "as_of": "2025-08-15"}
    reviews = row(await report(stack, "goal_reviews", coordinator, **then), small)
    assert reviews["cells"]["in_progress"] == 0 and reviews["cells"]["not_reviewed"] == 3
    june = {"by": "gmina", "as_of": "2025-06-15"}
    assert row(await report(stack, "plans", coordinator, **june), small)["cells"] == {
        "with_contract": 0, "without_contract": 2,
    }  # fmt: skip
    goals = row(await report(stack, "goals", coordinator, **june), small)
    assert (goals["cells"]["finances"], goals["cells"]["housing"], goals["total"]) == (1, 1, 3)

    # An analyst of the region: the same figures, protected (cell-key), a row total of goals
    # the same in both goal tables, since they count the same goals with the same keys.
    truth = {
        "plans": {small: {"with_contract": 1, "without_contract": 1, "total": 2},
                  large: {"with_contract": 7, "without_contract": 5, "total": 12}},
        "goals": {small: {"parenting": 1, "housing": 2, "total": 3},
                  large: {"parenting": 12, "housing": 12, "total": 24}},
        "goal_reviews": {small: {"met": 1, "not_reviewed": 2, "total": 3},
                         large: {"met": 9, "not_met": 6, "not_reviewed": 9, "total": 24}},
    }  # fmt: skip
    analyst = stack.who(Role.ANALYST, region="26")
    exact = stack.who(Role.COORDINATOR, powiat=large[:4])
    shown = {}
    for name, rows in truth.items():
        table = await report(stack, name, analyst, by="gmina")
        assert table["suppression"]["method"] == "cell-key", name
        shown[name] = table
        for key, true in rows.items():
            line = row(table, key)
            for cell, value in [*line["cells"].items(), ("total", line["total"])]:
                n = true.get(cell, 0)
                if n == 0:
                    assert value == 0, (name, key, cell)
                elif n < 5:
                    assert value is None and cell in line["hidden"], (name, key, cell)
                elif value is None:
                    assert n <= table["suppression"]["withheld_up_to"], (name, key, cell)
                else:
                    assert value >= 5 and abs(value - n) <= 2, (name, key, cell, value)
        if small[:4] == large[:4]:  # the powiat's coordinator reads the large gmina exactly
            full = row(await report(stack, name, exact, by="gmina"), large)
            assert {k: v for k, v in full["cells"].items() if v} == {
                k: v for k, v in rows[large].items() if k != "total"
            }, name
    for key in (small, large):
        assert row(shown["goals"], key)["total"] == row(shown["goal_reviews"], key)["total"]
    assert row(shown["plans"], small)["cells"]["with_contract"] is None


async def test_the_monthly_series_is_each_months_indicators_as_asked_alone(
    stack: ReportingStack, published: list[Envelope]
) -> None:
    """One call for a chart over time discloses nothing more than a call per month: for an
    analyst (withheld and perturbed figures) and a coordinator (exact ones) alike, each
    month's total is the one /reports/indicators answers for that month alone."""
    small, large = rural("14", 0, 2)
    events = [opened(large, date(2025, 2, day)) for day in range(1, 13)]
    events += [opened(small, date(2025, 3, 3)) for _ in range(2)]
    events += [opened(large, date(2025, 4, 9)) for _ in range(7)]
    closings = [closed(e, date(2025, 4, 30)) for e in events[:6]]
    await stack.settle(await send(stack, published, *events, *closings))
    readers = {
        "analyst": (stack.who(Role.ANALYST, region="14"), {"region": "14"}),
        "coordinator": (stack.who(Role.COORDINATOR, powiat=large[:4]), {"powiat": large[:4]}),
    }
    for who, scope in readers.values():
        period = {**scope, "from": "2025-01-20", "to": "2025-05-10", "by": "region"}
        response = await stack.get("/reports/indicators/monthly", who, **period)
        assert response.status_code == 200, response.text
        series = response.json()
        assert [m["month"] for m in series["months"]] == [f"2025-0{m}" for m in range(1, 6)]
        assert (series["months"][0]["first_day"], series["months"][-1]["last_day"]) == (
            "2025-01-20", "2025-05-10",
        )  # fmt: skip
        for month in series["months"]:
            alone = await stack.get(
                "/reports/indicators", who,
                **{**scope, "from": month["first_day"], "to": month["last_day"], "by": "gmina"},
            )  # fmt: skip
            assert alone.status_code == 200, alone.text
            assert month["total"] == alone.json()["total"], month["month"]
            assert series["suppression"] == alone.json()["suppression"]
    analyst = readers["analyst"][0]
    february = (await stack.get("/reports/indicators/monthly", analyst, region="14",
                                **{"from": "2025-02-01", "to": "2025-02-28"})).json()  # fmt: skip
    assert series["suppression"] is None and february["suppression"] is not None
    for wrong, field in (
        ({"from": "2025-01-01"}, "to"),
        ({"to": "2025-01-01"}, "from"),
        ({"from": "2023-01-01", "to": "2025-01-31"}, "from"),
    ):
        response = await stack.get("/reports/indicators/monthly", analyst, region="14", **wrong)
        assert (response.status_code, response.json()["field"]) == (422, field), response.text
    outside = await stack.get(
        "/reports/indicators/monthly", analyst, region="02",
        **{"from": "2025-01-01", "to": "2025-02-28"},
    )  # fmt: skip
    assert (outside.status_code, outside.json()["code"]) == (403, "out_of_scope")
