"""The plan (IPW) revision form: each goal of the plan as it stands (kept or dropped, its supports
checked or not, who is responsible, due and review dates) and one new goal; and the API's body
from what was sent. Pure: no I/O."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.datastructures import FormData

from services.web.plan_form import DUE_DAYS, REVIEW_DAYS

GOAL_FIELDS = ("description", "responsible_institution_id", "due_on", "review_on")


def revision_rows(plan: dict[str, Any], diagnosis: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per goal of the plan, then one for a new goal. A goal's support options are its
    own supports and the current recommendations of its need area that no other goal holds;
    the new goal's are every current recommendation no goal holds."""
    current = {str(r["recommendation_id"]): r for r in diagnosis["recommendations"]}
    held = {str(s["recommendation_id"]) for g in plan["goals"] for s in g["supports"]}
    rows = []
    for goal in plan["goals"]:
        own = [str(s["recommendation_id"]) for s in goal["supports"]]
        options = [current[rid] for rid in own if rid in current]
        options += [
            r for rid, r in current.items() if rid not in held and r["need_area"] == goal["area"]
        ]
        rows.append({"goal": goal, "area": goal["area"], "supports": options})
    free = [r for rid, r in current.items() if rid not in held]
    rows.append({"goal": None, "area": None, "supports": free})
    return rows


def revision_defaults(
    plan: dict[str, Any], rows: list[dict[str, Any]], today: date
) -> dict[str, Any]:
    """The form before anything is sent: the plan as it stands, revised today."""
    form: dict[str, Any] = {
        "revised_on": today.isoformat(),
        "social_contract_on": plan.get("social_contract_on") or "",
    }
    for i, row in enumerate(rows):
        goal = row["goal"]
        p = f"goals-{i}-"
        if goal is None:
            form[p + "due_on"] = (today + timedelta(days=DUE_DAYS)).isoformat()
            form[p + "review_on"] = (today + timedelta(days=REVIEW_DAYS)).isoformat()
            form[p + "supports"] = []
            continue
        form[p + "keep"] = "tak"
        form[p + "description"] = goal["description"]
        form[p + "responsible_institution_id"] = goal["responsible_institution_id"] or ""
        form[p + "due_on"] = str(goal["due_on"])
        form[p + "review_on"] = str(goal["review_on"])
        form[p + "supports"] = [str(s["recommendation_id"]) for s in goal["supports"]]
    return form


def revision_sent(form: FormData, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The form as sent, for showing it again (checkbox lists kept as lists)."""
    shown: dict[str, Any] = dict(form)
    for i in range(len(rows)):
        shown[f"goals-{i}-supports"] = [str(v) for v in form.getlist(f"goals-{i}-supports")]
    return shown


def revision_body(
    form: FormData, rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body of POST /diagnoses/{id}/plan/revisions — the kept goals (by goal_id) and the
    new one when its need area is chosen — and the form's control of each goal and support the
    API numbers among those sent."""
    body: dict[str, Any] = {"goals": []}
    for name in ("revised_on", "social_contract_on"):
        if day := str(form.get(name, "")):
            body[name] = day  # an empty date is left out: the API names a missing one
    rename: dict[str, str] = {}
    for i, row in enumerate(rows):
        p = f"goals-{i}-"
        goal = row["goal"]
        area = goal["area"] if goal else str(form.get(p + "area", ""))
        if (goal and form.get(p + "keep") != "tak") or not area:
            continue  # a dropped goal, or no new one
        n = len(body["goals"])
        checked = {str(v) for v in form.getlist(p + "supports")}
        supports = []
        for k, rec in enumerate(row["supports"]):
            rid = str(rec["recommendation_id"])
            if rid in checked:
                rename[f"goals[{n}].supports[{len(supports)}]"] = f"goals[{i}].supports[{k}]"
                supports.append(rid)
        rename[f"goals[{n}]"] = f"goals[{i}]"
        drafted: dict[str, Any] = {
            "area": area,
            "description": str(form.get(p + "description", "")),
            "supports": supports,
            "responsible_institution_id": str(form.get(p + "responsible_institution_id", ""))
            or None,
        }
        if goal:
            drafted["goal_id"] = goal["goal_id"]
            drafted["member_id"] = goal.get("member_id")
        for name in ("due_on", "review_on"):
            if day := str(form.get(p + name, "")):
                drafted[name] = day
        body["goals"].append(drafted)
    return body, rename


def revision_fields(rows: list[dict[str, Any]]) -> set[str]:
    """The control ids an API error may be shown beside."""
    known = {"revised_on", "social_contract_on"}
    for i, row in enumerate(rows):
        known |= {f"goals-{i}-{name}" for name in GOAL_FIELDS}
        known |= {f"goals-{i}-supports-{k}" for k in range(len(row["supports"]))}
        known.add(f"goals-{i}-area" if row["goal"] is None else f"goals-{i}-goal_id")
    return known
