"""The plan (IPW) form of the diagnosis workspace: its goals pre-filled from the diagnosis (one
for the household per need area, holding that area's recommendations) and the API's body from
what was sent. Pure: no I/O."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.datastructures import FormData

DUE_DAYS = 180
REVIEW_DAYS = 90


def goal_rows(diagnosis: dict[str, Any]) -> list[dict[str, Any]]:
    """One goal per need area found in the diagnosis, with that area's current recommendations."""
    return [
        {
            "area": need["area"],
            "supports": [r for r in diagnosis["recommendations"] if r["need_area"] == need["area"]],
        }
        for need in diagnosis["needs"]
    ]


def defaults(goals: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """What the form shows before anything is sent: agreed today, every support checked."""
    form: dict[str, Any] = {"agreed_on": today.isoformat(), "social_contract_on": ""}
    for i, goal in enumerate(goals):
        form[f"goals-{i}-due_on"] = (today + timedelta(days=DUE_DAYS)).isoformat()
        form[f"goals-{i}-review_on"] = (today + timedelta(days=REVIEW_DAYS)).isoformat()
        form[f"goals-{i}-supports"] = [str(r["recommendation_id"]) for r in goal["supports"]]
    return form


def sent(form: FormData, goals: list[dict[str, Any]]) -> dict[str, Any]:
    """The form as sent, for showing it again (checkbox lists kept as lists)."""
    shown: dict[str, Any] = dict(form)
    for i in range(len(goals)):
        shown[f"goals-{i}-supports"] = [str(v) for v in form.getlist(f"goals-{i}-supports")]
    return shown


def plan_body(form: FormData, goals: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The body of POST /diagnoses/{id}/plan, and the form's control of each support the API
    numbers among those sent (`goals[0].supports[0]` → the checkbox `goals[0].supports[2]`)."""
    body: dict[str, Any] = {"goals": []}
    for name in ("agreed_on", "social_contract_on"):
        if day := str(form.get(name, "")):
            body[name] = day  # an empty date is left out: the API names a missing one
    rows: dict[str, str] = {}
    for i, goal in enumerate(goals):
        checked = {str(v) for v in form.getlist(f"goals-{i}-supports")}
        supports = []
        for k, rec in enumerate(goal["supports"]):
            rid = str(rec["recommendation_id"])
            if rid in checked:
                rows[f"goals[{i}].supports[{len(supports)}]"] = f"goals[{i}].supports[{k}]"
                supports.append(rid)
        responsible = str(form.get(f"goals-{i}-responsible_institution_id", ""))
        drafted: dict[str, Any] = {
            "area": goal["area"],
            "description": str(form.get(f"goals-{i}-description", "")),
            "supports": supports,
            "responsible_institution_id": responsible or None,
        }
        for name in ("due_on", "review_on"):
            if day := str(form.get(f"goals-{i}-{name}", "")):
                drafted[name] = day
        body["goals"].append(drafted)
    return body, rows


def known_fields(goals: list[dict[str, Any]]) -> set[str]:
    """The control ids an API error may be shown beside."""
    known = {"agreed_on", "social_contract_on"}
    for i, goal in enumerate(goals):
        known |= {
            f"goals-{i}-{name}"
            for name in ("description", "responsible_institution_id", "due_on", "review_on")
        }
        known |= {f"goals-{i}-supports-{k}" for k in range(len(goal["supports"]))}
    return known
