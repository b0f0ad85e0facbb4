"""The family's follow-up 3 and 6 months after its case closed, on the case page (the
caseworker records it: is the situation sustained, which roles does the family fulfil again).
Intake checks it; its errors are shown beside the field."""

from __future__ import annotations

from typing import Any

from services.web.client import Api
from shared.codes import FAMILY_ROLE_LABELS, FOLLOW_UP_MONTHS

ROLE_OPTIONS = [(str(code), name) for code, name in FAMILY_ROLE_LABELS.items()]
MONTH_OPTIONS = [(str(m), f"po {m} miesiącach od zamknięcia") for m in FOLLOW_UP_MONTHS]
ROLE_NAMES = dict(ROLE_OPTIONS)


async def follow_up_context(api: Api, case: dict[str, Any]) -> dict[str, Any]:
    """What the case page shows of the follow-ups: those recorded (every round), and the form
    while the case is closed."""
    if case.get("status") != "closed":
        return {"follow_ups": [], "follow_up_open": False}
    recorded = await api.call("GET", "intake", f"/cases/{case['case_id']}/follow-ups")
    return {
        "follow_ups": [
            {**f, "role_names": [ROLE_NAMES.get(r, r) for r in f["roles"]]} for f in recorded
        ],
        "follow_up_open": True,
        "follow_up_months": MONTH_OPTIONS,
        "follow_up_roles": ROLE_OPTIONS,
    }


def follow_up_body(form: Any) -> dict[str, Any]:
    """The form as intake takes it; a missing choice stays missing, so intake names the field."""
    body: dict[str, Any] = {"roles": form.getlist("roles")}
    months = str(form.get("months", ""))
    body["months"] = int(months) if months.isdigit() else months
    sustained = str(form.get("sustained", ""))
    if sustained in ("tak", "nie"):
        body["sustained"] = sustained == "tak"
    if form.get("recorded_on"):
        body["recorded_on"] = str(form.get("recorded_on"))
    return body
