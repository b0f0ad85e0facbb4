"""The HTTP face every service shares: problem+json errors, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, code: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:kooperacja:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "members", 0, "pesel") -> "members[0].pesel"; the location kind stays out.
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        extra = {"field": exc.field} if exc.field else {}
        return problem(exc.status, exc.title, exc.detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(e["loc"])), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        return problem(
            422,
            "Nieprawidłowe dane",
            f"{first['field']}: {first['message']}",
            "validation_failed",
            field=first["field"],
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Nie znaleziono", 405: "Metoda niedozwolona"}
        return problem(
            exc.status_code,
            titles.get(exc.status_code, "Błąd"),
            str(exc.detail),
            f"http_{exc.status_code}",
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(
            500, "Błąd wewnętrzny", "unexpected error; see the service log", "internal_error"
        )


def create_api(
    service: str,
    *,
    description: str,
) -> FastAPI:
    app = FastAPI(
        title=f"Kooperacja {service}",
        description=description,
        version="1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/ready", tags=["ops"])
    async def ready(request: Request) -> Response:
        check = getattr(request.app.state, "ready_check", None)
        checks = await check() if check else {}
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
