"""Wiring of the web front: session cookie, pages of each role, static files, and the pages
for what goes wrong (no access, not found, a service down, a session ended)."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web.client import ApiProblem, ServiceDown
from services.web.forms import describe
from services.web.middleware import SecurityHeaders, ServerSessions, ServerTiming
from services.web.pages import (
    casefile,
    caseworker,
    coordinator,
    evaluation_reports,
    group_activities,
    home,
    institution,
    notifications,
    operator,
    partnership,
    plans,
    referral_link,
    reports,
    signin,
    team,
    transfers,
)
from services.web.session import (
    CsrfRejected,
    SignInRequired,
    check_csrf,
    current_session,
    end_session,
    sign_in_url,
)
from services.web.settings import WebSettings, get_web_settings
from services.web.store import MIGRATIONS, SessionStore
from services.web.templating import render
from shared.db import create_pool, prepare_database
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)
COOKIE = "koop_session"


def build_app(settings: Settings | None = None, web: WebSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    web = web or get_web_settings()

    store = SessionStore(web.session_idle_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url("web")
        await prepare_database(url, "web", MIGRATIONS)
        store.pool = await create_pool(url, min_size=2, max_size=web.database_pool)
        sweeper = asyncio.create_task(_sweep(store))
        # One client for every page: its connections to the services are kept and reused.
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=40, keepalive_expiry=60
        )
        try:
            async with httpx.AsyncClient(timeout=web.api_timeout, limits=limits) as http:
                app.state.http = http
                yield
        finally:
            sweeper.cancel()
            await store.pool.close()

    app = FastAPI(
        title="Kooperacja — aplikacja",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(check_csrf)],
    )
    app.state.settings = settings
    app.state.web = web
    app.state.store = store
    # The last added runs first: timing around everything, the session innermost.
    # SameSite=Lax: "strict" would drop the cookie on the provider's redirect back.
    app.add_middleware(
        ServerSessions, store=store, cookie=COOKIE, secure=web.cookie_secure, waits="session_waits"
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ServerTiming)

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(signin.router)
    if settings.development:  # KOOP_ENV=development; unset is production
        app.include_router(signin.dev_router)
    app.include_router(home.router)
    # An institution without an account answers its referral through the e-mailed link.
    app.include_router(referral_link.router)
    # The unread count in the navigation, on the pages of the roles that have an inbox.
    signed_in = [Depends(current_session), Depends(notifications.unread_count)]
    app.include_router(caseworker.router, dependencies=signed_in)
    app.include_router(operator.router, dependencies=[Depends(current_session)])
    for pages in (
        casefile, transfers, plans, team, coordinator, institution, reports,
        evaluation_reports, group_activities, partnership, notifications,
    ):  # fmt: skip
        app.include_router(pages.router, dependencies=signed_in)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "web"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    _install_error_pages(app)
    return app


async def _sweep(store: SessionStore, every_seconds: float = 300) -> None:
    """Delete ended sessions now and then (a lookup refuses them anyway)."""
    while True:
        try:
            await store.delete_expired()
        except Exception as exc:  # a failed sweep is retried next time, never fatal
            log.warning("sweeping ended sessions failed: %s", type(exc).__name__)
        await asyncio.sleep(every_seconds)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> Response:
        target = sign_in_url(exc.next_path, exc.expired)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, _: CsrfRejected) -> Response:
        return render(
            request,
            "error.html",
            {
                "heading": "Formularz wygasł",
                "message": "Ze względów bezpieczeństwa formularz trzeba wysłać ponownie. "
                "Wróć, odśwież stronę i spróbuj jeszcze raz.",
            },
            status=403,
        )

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> Response:
        if exc.status == 401:
            # The services no longer take the token (expired, revoked): sign in again.
            end_session(request)
            return await sign_in(request, SignInRequired(request.url.path, True))
        if exc.status >= 500:
            return await service_down(request, ServiceDown(exc.problem.get("code", "service")))
        headings = {403: "Brak dostępu", 404: "Nie znaleziono"}
        return render(
            request,
            "error.html",
            {
                "heading": headings.get(exc.status, "Nie udało się"),
                "message": describe(exc.problem),
            },
            status=exc.status if exc.status in headings else 400,
        )

    @app.exception_handler(ServiceDown)
    async def service_down(request: Request, exc: ServiceDown) -> Response:
        log.warning("service %s did not answer", exc.service)
        return render(
            request,
            "error.html",
            {
                "heading": "Usługa chwilowo niedostępna",
                "message": "Jedna z usług systemu nie odpowiada. Spróbuj za kilka minut; "
                "jeśli to się powtarza, powiadom operatora.",
            },
            status=503,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headings = {404: "Nie znaleziono strony", 405: "Niedozwolona czynność"}
        return render(
            request,
            "error.html",
            {
                "heading": headings.get(exc.status_code, "Nie udało się"),
                "message": "Sprawdź adres albo wróć na stronę główną.",
            },
            status=exc.status_code,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The type and the frames only: an exception's message may quote what a person typed.
        log.error(
            "page %s failed: %s\n%s",
            request.url.path,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return render(
            request,
            "error.html",
            {
                "heading": "Wystąpił błąd",
                "message": "Coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.",
            },
            status=500,
        )
