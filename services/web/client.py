"""The web front's only way to data: the four services' /api/v1, called with the signed-in
person's own token, so a page never shows more than that person's API calls may."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from pydantic import BaseModel

from shared.access_reason import header_value
from shared.settings import Settings


class ApiProblem(Exception):
    """A service refused: its problem details (status, code, field, errors)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}")
        self.status = status
        self.problem = problem

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))


class ServiceDown(Exception):
    """A service did not answer; the page says so instead of failing."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class CaseSummary(BaseModel):
    """A case as the list shows it: codes and dates, no personal data."""

    case_id: uuid.UUID
    gmina: str
    status: str
    reasons: list[str]
    notified_by: str
    consent_to_share: bool | None
    opened_on: date
    closed_on: date | None = None
    outcome: str | None = None
    household_size: int


SERVICES = ("intake", "diagnosis", "referrals", "reporting", "partnership", "notifications")


@dataclass
class CaseWork:
    """What diagnosis, referrals and the partnership (its meetings' decisions) hold of one
    case."""

    diagnosis: dict[str, Any] | None = None
    referrals: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


class Api:
    """One person's calls; built per request from the session's token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: Settings,
        token: str,
        waits: list[tuple[float, float]] | None = None,
    ) -> None:
        self.http = http
        self.settings = settings
        self.token = token
        # (start, end) of each call, for the page's Server-Timing (see services/web/timing.py)
        self.waits = waits if waits is not None else []

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        response = await self._send(method, service, path, params, json, headers)
        return response.json() if response.content else None

    async def download(
        self, service: str, path: str, params: dict[str, Any]
    ) -> tuple[bytes, str, str]:
        """A file the service makes (an export): its bytes, media type and disposition."""
        response = await self._send("GET", service, path, params, None, None)
        return (
            response.content,
            response.headers.get("content-type", "application/octet-stream"),
            response.headers.get("content-disposition", "attachment"),
        )

    async def _send(
        self,
        method: str,
        service: str,
        path: str,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        url = f"{self.settings.base_url(service)}/api/v1{path}"
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if method == "POST":
            # A retried form (double click, back and resubmit) has the same key only when the
            # page put one in the form; a fresh one per call is at least never wrong.
            sent.setdefault("Idempotency-Key", str(uuid.uuid4()))
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, params=clean, json=json, headers=sent)
        except httpx.HTTPError as exc:
            raise ServiceDown(service) from exc
        finally:
            self.waits.append((started, time.perf_counter()))
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": f"http_{response.status_code}", "title": response.text[:200]}
            raise ApiProblem(response.status_code, problem if isinstance(problem, dict) else {})
        return response

    # --- intake ---------------------------------------------------------------------------

    async def cases(
        self,
        *,
        gmina: str | None = None,
        status: str | None = None,
        reason: str | None = None,
        opened_from: date | None = None,
        opened_to: date | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[CaseSummary]:
        rows = await self.call(
            "GET",
            "intake",
            "/cases",
            params={
                "gmina": gmina,
                "status": status,
                "reason": reason,
                "opened_from": opened_from.isoformat() if opened_from else None,
                "opened_to": opened_to.isoformat() if opened_to else None,
                "limit": limit,
                "offset": offset,
            },
        )
        return [CaseSummary.model_validate(r) for r in rows]

    async def search(self, terms: dict[str, str], reason: str) -> dict[str, Any]:
        """Intake's search by surname or PESEL: the terms in the body, never in a URL; audited
        with the reason."""
        body = {k: v for k, v in terms.items() if v} | {"reason": reason}
        return await self.call("POST", "intake", "/cases/search", json=body)

    async def open_case(self, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else None
        return await self.call("POST", "intake", "/cases", json=body, headers=headers)

    async def case_record(self, case_id: uuid.UUID, reason: str) -> dict[str, Any]:
        """The whole case with personal data; intake audits the read with the reason."""
        return await self.call(
            "GET", "intake", f"/cases/{case_id}", headers={"X-Access-Reason": header_value(reason)}
        )

    async def case_overview(self, case_id: uuid.UUID) -> dict[str, Any]:
        """Codes, consent and history: no personal data, no audit."""
        return await self.call("GET", "intake", f"/cases/{case_id}/overview")

    async def case_work(self, case_id: uuid.UUID) -> CaseWork:
        """The case's diagnosis (needs, recommendations, assessments, plan) and its referrals,
        from the services that own them; what a service refuses or does not have is left out,
        and one that does not answer is named, so the case page still shows the rest."""
        work = CaseWork()
        work.diagnosis, referrals, decisions = await asyncio.gather(
            self._part(work, "diagnosis", f"/cases/{case_id}/diagnosis"),
            self._part(work, "referrals", f"/cases/{case_id}/referrals"),
            self._part(work, "partnership", f"/cases/{case_id}/decisions"),
        )
        work.referrals = referrals or []
        work.decisions = decisions or []
        return work

    async def _part(self, work: CaseWork, service: str, path: str) -> Any:
        try:
            return await self.call("GET", service, path)
        except ApiProblem as problem:
            if problem.status not in (403, 404):
                raise
        except ServiceDown:
            work.unavailable.append(service)
        return None

    async def case_step(
        self, case_id: uuid.UUID, step: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """close | reopen | send-to-diagnosis | consent."""
        return await self.call("POST", "intake", f"/cases/{case_id}/{step}", json=body)

    # --- operations (every service's operator API) --------------------------------------------

    async def service_status(self, service: str) -> dict[str, Any]:
        return await self.call("GET", service, "/admin/status")

    async def dead_letters(self, service: str) -> list[dict[str, Any]]:
        return await self.call("GET", service, "/admin/dead-letters")

    async def dead_letter_action(
        self, service: str, action: str, message_id: str | None
    ) -> dict[str, Any]:
        """replay | purge; one message by id, or all."""
        body = {"message_id": message_id} if message_id else {}
        return await self.call("POST", service, f"/admin/dead-letters/{action}", json=body)
