"""A case's timeline across the services: intake's history (opened, consent, sent to
diagnosis, closed, reopened), the PZK's diagnosis with its needs and recommendations, each
referral's states and outcome, and what the partnership's meetings decided about the case
("decided at the meeting of …") — merged by time. Pure: it composes what the APIs answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from services.web import labels
from services.web.formatting import as_date
from services.web.labels import label


@dataclass(frozen=True)
class Entry:
    at: datetime
    title: str
    details: list[str] = field(default_factory=list)
    kind: str = "case"  # case | diagnosis | referral | meeting


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value)
        moment = (
            datetime.fromisoformat(text)
            if "T" in text or " " in text
            else datetime(*date.fromisoformat(text).timetuple()[:3])
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _case_entries(overview: dict[str, Any]) -> list[Entry]:
    entries = []
    for step in overview.get("history", []):
        details = []
        if step.get("to_status"):
            details.append(f"Stan sprawy: {label(labels.CASE_STATUS, step['to_status'])}")
        if step.get("outcome"):
            details.append(f"Wynik: {label(labels.CASE_OUTCOMES, step['outcome'])}")
        if step["step"] == "open":
            reasons = "; ".join(label(labels.REASONS, r) for r in overview.get("reasons", []))
            details.append(f"Powody (art. 7): {reasons}")
            details.append(f"Zgłaszający: {label(labels.NOTIFIED_BY, overview.get('notified_by'))}")
        if step["step"] == "give_consent" and overview.get("consent"):
            details.append(_consent_scope(overview["consent"]))
        entries.append(Entry(_moment(step["at"]), label(labels.CASE_STEP, step["step"]), details))
    return entries


def _consent_scope(consent: dict[str, Any]) -> str:
    scope = consent.get("scope") or []
    sectors = ", ".join(label(labels.SECTORS, s) for s in scope) if scope else "wszystkie sektory"
    return f"Zakres zgody: {sectors}"


def _need(n: dict[str, Any]) -> str:
    area = n.get("area") or n.get("need_area")
    return (
        f"Potrzeba: {label(labels.NEED_AREAS, area)} "
        f"(waga: {label(labels.SEVERITY, n.get('severity'))})"
    )


def _diagnosis_entries(diagnosis: dict[str, Any]) -> list[Entry]:
    """Each institution's assessment when it was made; the team's needs and recommendations
    with the last of them; the agreed plan (IPW) on its day."""
    entries = []
    assessments = sorted(diagnosis.get("assessments", []), key=lambda a: str(a["created_at"]))
    for a in assessments:
        who = a.get("institution_name") or "członek PZK"
        entries.append(
            Entry(
                _moment(a["created_at"]),
                f"Ocena w diagnozie PZK: {who}",
                [_need(a)],
                "diagnosis",
            )
        )
    status = diagnosis.get("status")
    if status == "completed" and assessments:
        details = [_need(n) for n in diagnosis.get("needs", [])] + [
            f"Rekomendacja: {label(labels.SUPPORT_TYPES, r.get('support_type'))}"
            + (f" (priorytet {r['priority']})" if r.get("priority") is not None else "")
            for r in diagnosis.get("recommendations", [])
        ]
        title = "Diagnoza PZK zakończona"
        if (diagnosis.get("revision") or 0) > 1:
            title += f" (wersja {diagnosis['revision']})"
        entries.append(Entry(_moment(assessments[-1]["created_at"]), title, details, "diagnosis"))
    plan = diagnosis.get("plan")
    if plan and plan.get("agreed_on"):
        details = [f"Cele: {len(plan.get('goals', []))}"]
        if plan.get("social_contract_on"):
            details.append(f"Kontrakt socjalny z dnia {as_date(plan['social_contract_on'])}")
        # The plan has a day, not a moment: on the day the diagnosis was completed it follows it.
        done = entries[-1].at if assessments else None
        agreed = _after(_moment(plan["agreed_on"]), done)
        title = "Indywidualny Plan Wsparcia (IPW) uzgodniony"
        entries.append(Entry(agreed, title, details, "diagnosis"))
        entries += _plan_changes(plan, agreed)
    return entries


def _after(day: datetime, earlier: datetime | None) -> datetime:
    """A dated (not timed) step on its day, but after `earlier` when that is the same day or
    later, so a plan agreed the day its diagnosis was completed comes after it."""
    if earlier is not None and earlier >= day:
        return earlier + timedelta(milliseconds=1)
    return day


def _plan_changes(plan: dict[str, Any], agreed: datetime) -> list[Entry]:
    """The plan's revisions (each later version) and its goals' reviews, each after the
    agreement (and a revision after the one before it)."""
    entries = []
    last = agreed
    history = plan.get("history") or []
    for before, after in pairwise(history):
        kept = {g["goal_id"] for g in before["goals"]}
        now = {g["goal_id"] for g in after["goals"]}
        supports = {
            s["recommendation_id"]: s["support_type"] for g in after["goals"] for s in g["supports"]
        }
        earlier = {
            s["recommendation_id"]: s["support_type"]
            for g in before["goals"]
            for s in g["supports"]
        }
        details = [f"Cele: {len(after['goals'])}"]
        if added := len(now - kept):
            details.append(f"Nowe cele: {added}")
        if dropped := len(kept - now):
            details.append(f"Usunięte cele: {dropped}")
        for rid in supports.keys() - earlier.keys():
            details.append(f"Dodane wsparcie: {label(labels.SUPPORT_TYPES, supports[rid])}")
        for rid in earlier.keys() - supports.keys():
            details.append(f"Usunięte wsparcie: {label(labels.SUPPORT_TYPES, earlier[rid])}")
        title = f"Plan (IPW) zmieniony — wersja {after['version']}"
        last = _after(_moment(after["on_day"]), last)
        entries.append(Entry(last, title, details, "diagnosis"))
    areas = {g["goal_id"]: g["area"] for v in history for g in v["goals"]}
    for review in plan.get("reviews") or []:
        area = label(labels.NEED_AREAS, areas.get(review["goal_id"]))
        result = label(labels.GOAL_RESULTS, review["result"])
        title = f"Przegląd celu planu ({area}): {result}"
        at = _after(_moment(review["reviewed_on"]), agreed)
        entries.append(Entry(at, title, [], "diagnosis"))
    return entries


def _referral_entries(referral: dict[str, Any]) -> list[Entry]:
    """A referral's states: assigned (or waiting for an institution), accepted, overdue, and
    how it ended (completed with its outcome, declined with the reason, cancelled)."""
    support = label(labels.SUPPORT_TYPES, referral.get("support_type"))
    where = referral.get("institution_name")
    entries = []

    def add(at: Any, state: str, *details: str) -> None:
        if at:
            title = f"Skierowanie „{support}”: {label(labels.REFERRAL_STATES, state)}"
            entries.append(Entry(_moment(at), title, [d for d in details if d], "referral"))

    first = "assigned" if referral.get("institution_id") else "unassignable"
    add(referral.get("created_at"), first, f"Instytucja: {where}" if where else "")
    add(referral.get("accepted_at"), "accepted", f"Instytucja: {where}" if where else "")
    add(referral.get("acceptance_overdue_at"), "overdue", "Termin przyjęcia minął")
    add(referral.get("completion_overdue_at"), "overdue", "Termin realizacji minął")
    state = referral.get("state")
    if state in ("completed", "declined", "cancelled"):
        add(
            referral.get("closed_at") or referral.get("updated_at"),
            state,
            f"Wynik: {label(labels.SUPPORT_OUTCOMES, referral['outcome'])}"
            if referral.get("outcome")
            else "",
            f"Powód: {label(labels.DECLINE_REASONS, referral['decline_reason'])}"
            if referral.get("decline_reason")
            else "",
        )
    return entries


def _decision_entry(decision: dict[str, Any]) -> Entry:
    """A decision of the partnership's meeting about the case, on the meeting's day."""
    held_on = as_date(decision["held_on"])
    details = [f"Ustalono na spotkaniu zespołu PZK z dnia {held_on}"]
    if decision.get("support_type"):
        details.append(f"Wsparcie: {label(labels.SUPPORT_TYPES, decision['support_type'])}")
    if decision.get("institution_name") or decision.get("institution_id"):
        details.append(
            f"Instytucja: {decision.get('institution_name') or 'instytucja spoza katalogu'}"
        )
    title = label(labels.DECISION_KINDS, decision.get("kind"))
    return Entry(_moment(decision["held_on"]), title[:1].upper() + title[1:], details, "meeting")


def compose(
    overview: dict[str, Any],
    diagnosis: dict[str, Any] | None = None,
    referrals: list[dict[str, Any]] | None = None,
    decisions: list[dict[str, Any]] | None = None,
) -> list[Entry]:
    """Everything that happened to the case, oldest first."""
    entries = _case_entries(overview)
    if diagnosis:
        entries += _diagnosis_entries(diagnosis)
    for referral in referrals or []:
        entries += _referral_entries(referral)
    entries += [_decision_entry(d) for d in decisions or []]
    return sorted(entries, key=lambda e: e.at)
