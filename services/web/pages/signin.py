"""Signing in and out. Production: OpenID Connect authorization code with PKCE against the
region's identity provider (Authlib; the ID token checked against the provider's JWKS). In
development only (KOOP_ENV=development) a page lists the demo region's people and signs a local
token for the one chosen; in production that page answers 404."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from kooperacja.demo_data import DEMO_PEOPLE
from services.web.client import Api, ApiProblem, ServiceDown
from services.web.session import end_session, safe_next, start_session
from services.web.settings import WebSettings
from services.web.templating import render
from shared.auth import Role, issue_token
from shared.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter()


def _settings(request: Request) -> tuple[Settings, WebSettings]:
    return request.app.state.settings, request.app.state.web


def _begin(request: Request, token: str, name: str, next_path: str) -> Response:
    start_session(request, token, name)  # a new session id and CSRF secret
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.get("/logowanie")
async def sign_in_page(
    request: Request,
    next_path: Annotated[str, Query(alias="next")] = "/",
    wygasla: str = "",
    wylogowano: str = "",
) -> Response:
    settings, web = _settings(request)
    return render(
        request,
        "signin.html",
        {
            "next": safe_next(next_path),
            "expired": bool(wygasla),
            "signed_out": bool(wylogowano),
            "people": DEMO_PEOPLE if settings.development else [],
            "oidc": web.oidc_configured,
        },
    )


# --- development: the demo region's people --------------------------------------------------


# Registered in development only (app.py): in production the address does not exist (404).
dev_router = APIRouter()


@dev_router.post("/logowanie/demo")
async def sign_in_as_demo_person(
    request: Request,
    subject: Annotated[str, Form()],
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    settings, web = _settings(request)
    if not settings.development:  # never reached: the router is not mounted outside development
        raise HTTPException(404)
    person = next((p for p in DEMO_PEOPLE if p["subject"] == subject), None)
    if person is None:
        raise HTTPException(404)
    scope: dict[str, Any] = {k: person[k] for k in ("gmina", "powiat", "region") if k in person}
    if "institution" in person:
        institution = await _institution_id(request, settings, person["institution"])
        if institution is None:
            return render(
                request,
                "signin.html",
                {
                    "next": safe_next(next_path),
                    "people": DEMO_PEOPLE,
                    "oidc": web.oidc_configured,
                    "problem": "Instytucji tej osoby nie ma jeszcze w katalogu. "
                    "Wczytaj region demonstracyjny: kooperacja demo.",
                },
                status=409,
            )
        scope["institution"] = institution
    token = issue_token(
        settings,
        subject=person["subject"],
        role=Role(person["role"]),
        ttl_seconds=web.dev_token_seconds,
        **scope,
    )
    return _begin(request, token, person["name"], next_path)


async def _institution_id(request: Request, settings: Settings, name: str) -> str | None:
    """The demo institution's id in referrals' directory (development only)."""
    token = issue_token(settings, subject="web-dev-sign-in", role=Role.OPERATOR, ttl_seconds=60)
    api = Api(request.app.state.http, settings, token)
    try:
        institutions = await api.call("GET", "referrals", "/institutions")
    except (ApiProblem, ServiceDown):
        return None
    return next((str(i["institution_id"]) for i in institutions if i["name"] == name), None)


# --- production: OpenID Connect ---------------------------------------------------------------


def _oidc(request: Request) -> Any:
    client = getattr(request.app.state, "oidc", None)
    if client is None:
        _, web = _settings(request)
        if not web.oidc_configured:
            raise HTTPException(404)
        oauth = OAuth()
        oauth.register(
            "region",
            client_id=web.oidc_client_id,
            client_secret=web.oidc_client_secret or None,
            server_metadata_url=web.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": web.oidc_scope, "code_challenge_method": "S256"},
        )
        client = request.app.state.oidc = oauth.create_client("region")
    return client


def _callback_url(request: Request) -> str:
    _, web = _settings(request)
    if web.public_url:
        return web.public_url.rstrip("/") + "/logowanie/powrot"
    return str(request.url_for("oidc_callback"))


@router.post("/logowanie/oidc")
async def oidc_start(
    request: Request, next_path: Annotated[str, Form(alias="next")] = "/"
) -> Response:
    client = _oidc(request)
    request.session["next"] = safe_next(next_path)
    return await client.authorize_redirect(request, _callback_url(request))


@router.get("/logowanie/powrot", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    client = _oidc(request)
    _, web = _settings(request)
    try:
        answer = await client.authorize_access_token(request)
    except OAuthError as exc:
        log.warning("OpenID sign-in refused: %s", exc.error)
        return render(
            request,
            "signin.html",
            {
                "next": "/",
                "people": [],
                "oidc": True,
                "problem": "Logowanie nie powiodło się. Spróbuj ponownie.",
            },
            status=400,
        )
    userinfo = answer.get("userinfo") or {}
    # The services verify the bearer against the provider's JWKS: the access token when the
    # provider issues JWTs, else (a provider with opaque access tokens) the ID token.
    token = answer.get(web.oidc_bearer) or answer["id_token"]
    name = str(userinfo.get("name") or userinfo.get("preferred_username") or "")
    return _begin(request, token, name, request.session.get("next", "/"))


@router.post("/wyloguj")
async def sign_out(request: Request) -> Response:
    end_session(request)
    return RedirectResponse("/logowanie?wylogowano=1", status_code=303)
