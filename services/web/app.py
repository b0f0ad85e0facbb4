"""Wiring of the web front: session cookie, pages of each role, static files, and the pages
for what goes wrong (no access, not found, a service down, a session ended)."""

from __future__ import annotations

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
from starlette.middleware.sessions import SessionMiddleware

from services.web.client import ApiProblem, ServiceDown
from services.web.forms import describe
from services.web.pages import (
    casefile,
    caseworker,
    coordinator,
    evaluation_reports,
    home,
    institution,
    operator,
    reports,
    signin,
    team,
    transfers,
)
from services.web.session import (
    CsrfRejected,
    Sessions,
    SignInRequired,
    check_csrf,
    current_session,
    sign_in_url,
)
from services.web.settings import WebSettings, get_web_settings
from services.web.templating import render
from services.web.timing import server_timing
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)
COOKIE = "koop_session"


def build_app(settings: Settings | None = None, web: WebSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    web = web or get_web_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=web.api_timeout) as http:
            app.state.http = http
            yield

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
    app.state.sessions = Sessions(web)
    app.add_middleware(
        SessionMiddleware,
        secret_key=web.session_secret,
        session_cookie=COOKIE,
        max_age=None,  # a browser-session cookie; the server decides when the session ends
        same_site="lax",  # "strict" would drop it on the provider's redirect back
        https_only=web.cookie_secure,
    )

    # Nothing from elsewhere: scripts, styles and images are this site's own files. A form
    # may post only here (the sign-in's redirect to the provider is a redirect, not a post).
    policy = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )

    app.middleware("http")(server_timing)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(signin.router)
    if settings.development:  # KOOP_ENV=development; unset is production
        app.include_router(signin.dev_router)
    app.include_router(home.router)
    app.include_router(caseworker.router, dependencies=[Depends(current_session)])
    app.include_router(operator.router, dependencies=[Depends(current_session)])
    for pages in (casefile, transfers, team, coordinator, institution, reports, evaluation_reports):
        app.include_router(pages.router, dependencies=[Depends(current_session)])

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "web"}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    _install_error_pages(app)
    return app


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
            request.app.state.sessions.end(request.session.pop("sid", None))
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
