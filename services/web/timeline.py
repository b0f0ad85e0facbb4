"""A case's timeline across the services: intake's history (opened, consent, sent to
diagnosis, closed, reopened), the PZK's diagnosis with its needs and recommendations, and each
referral's states and outcome — merged by time. Pure: it composes what the APIs answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.web import labels
from services.web.labels import label


@dataclass(frozen=True)
class Entry:
    at: datetime
    title: str
    details: list[str] = field(default_factory=list)
    kind: str = "case"  # case | diagnosis | referral


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


def _diagnosis_entries(diagnosis: dict[str, Any]) -> list[Entry]:
    entries = []
    if diagnosis.get("opened_at"):
        entries.append(
            Entry(_moment(diagnosis["opened_at"]), "Diagnoza PZK rozpoczęta", [], "diagnosis")
        )
    if diagnosis.get("completed_at"):
        details = [
            f"Potrzeba: {label(labels.NEED_AREAS, n.get('need_area'))} "
            f"(waga: {label(labels.SEVERITY, n.get('severity'))})"
            for n in diagnosis.get("needs", [])
        ] + [
            f"Rekomendacja: {label(labels.SUPPORT_TYPES, r.get('support_type'))}"
            + (f" (priorytet {r['priority']})" if r.get("priority") is not None else "")
            for r in diagnosis.get("recommendations", [])
        ]
        title = "Diagnoza PZK zakończona"
        if (diagnosis.get("revision") or 0) > 1:
            title += f" (wersja {diagnosis['revision']})"
        entries.append(Entry(_moment(diagnosis["completed_at"]), title, details, "diagnosis"))
    return entries


def _referral_entries(referral: dict[str, Any]) -> list[Entry]:
    support = label(labels.SUPPORT_TYPES, referral.get("support_type"))
    details = [f"Stan: {label(labels.REFERRAL_STATES, referral.get('state'))}"]
    if referral.get("institution_name"):
        details.append(f"Instytucja: {referral['institution_name']}")
    if referral.get("outcome"):
        details.append(f"Wynik: {label(labels.SUPPORT_OUTCOMES, referral['outcome'])}")
    if referral.get("decline_reason"):
        details.append(f"Powód odmowy: {label(labels.DECLINE_REASONS, referral['decline_reason'])}")
    at = referral.get("updated_at") or referral.get("created_at")
    return [Entry(_moment(at), f"Skierowanie: {support}", details, "referral")] if at else []


def compose(
    overview: dict[str, Any],
    diagnoses: list[dict[str, Any]] | None = None,
    referrals: list[dict[str, Any]] | None = None,
) -> list[Entry]:
    """Everything that happened to the case, oldest first."""
    entries = _case_entries(overview)
    for diagnosis in diagnoses or []:
        entries += _diagnosis_entries(diagnosis)
    for referral in referrals or []:
        entries += _referral_entries(referral)
    return sorted(entries, key=lambda e: e.at)
