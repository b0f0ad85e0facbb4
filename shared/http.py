"""The HTTP face every service shares: problem+json errors, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared import metrics as service_metrics
from shared import operations_api
from shared.asyncapi import document as asyncapi_document
from shared.errors import DomainError
from shared.settings import get_settings

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


def field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "members", 0, "pesel") -> "members[0].pesel"; the location kind stays out.
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(loc[0] if loc else "")


def _allowed_methods(request: Request) -> list[str]:
    """RFC 9110 wants the methods a path does take listed in Allow on a 405."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        extra = {"field": exc.field} if exc.field else {}
        return problem(exc.status, exc.title, exc.detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": field_path(tuple(e["loc"])), "message": e["msg"], "type": e["type"]}
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
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {400: "Nieczytelne żądanie", 404: "Nie znaleziono", 405: "Metoda niedozwolona"}
        status = exc.status_code
        response = problem(status, titles.get(status, "Błąd"), str(exc.detail), f"http_{status}")
        response.headers.update(exc.headers or {})
        if status == 405 and "allow" not in response.headers:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(
            500, "Błąd wewnętrzny", "unexpected error; see the service log", "internal_error"
        )


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `title` in Polish, `code` stable for programs",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": {"type": "string", "description": "the input at fault, e.g. members[0].pesel"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
# What any authenticated API route may answer besides its success.
COMMON_PROBLEMS = {
    "400": "Nieczytelne żądanie",
    "401": "Brak lub nieważny token",
    "403": "Brak uprawnień",
    "404": "Nie znaleziono",
    "409": "Konflikt ze stanem",
    "422": "Nieprawidłowe dane",
}


def _document_problems(app: FastAPI) -> None:
    """Every error answer is application/problem+json; say so in the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        schemas = schema["components"]["schemas"]
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if path.startswith("/api/"):
                    for status, description in COMMON_PROBLEMS.items():
                        responses.setdefault(status, {"description": description})
                for status, response in responses.items():
                    if status.startswith(("4", "5")):
                        response["content"] = ref
        metrics = schema.get("paths", {}).get("/metrics", {}).get("get")
        if metrics:
            metrics["responses"]["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        ready = schema.get("paths", {}).get("/ready", {}).get("get")
        if ready:
            ready["responses"]["503"] = {
                "description": "Not ready",
                "content": {"application/json": {"schema": {}}},
            }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _readiness(app: FastAPI) -> dict[str, bool]:
    check = getattr(app.state, "ready_check", None)
    return await check() if check else {}


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
    _document_problems(app)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/ready", tags=["ops"])
    async def ready(request: Request) -> Response:
        checks = await _readiness(request.app)
        ok = all(checks.values())
        backlog = getattr(request.app.state, "outbox_backlog", None)
        body = {"ready": ok, "checks": checks}
        if backlog is not None:
            body["outbox_backlog"] = await backlog()
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/api/v1/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> JSONResponse:
        """The AsyncAPI 3 document of the events this service publishes (public: schemas only)."""
        return JSONResponse(asyncapi_document(get_settings(), service))

    app.include_router(operations_api.router)
    service_metrics.expose(service)

    # Request counts, sizes and latency per route template (never a concrete path, which could
    # carry an id), method and status class, as `http_request_duration_seconds` & co.
    # A registry of the app's own, so each app counts its own requests (tests build several apps
    # in one process; the instrumentator registers its series once per registry).
    http_registry = CollectorRegistry()
    Instrumentator(
        excluded_handlers=["/metrics", "/health", "/ready"],
        should_group_untemplated=True,
        registry=http_registry,
    ).instrument(app)

    @app.get("/metrics", tags=["ops"])
    async def metrics(request: Request) -> Response:
        # Readiness as Prometheus sees it: a service that answers but cannot work shows 0.
        checks = await _readiness(request.app)
        service_metrics.READY.labels(service).set(1 if all(checks.values()) else 0)
        body = generate_latest() + generate_latest(http_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
