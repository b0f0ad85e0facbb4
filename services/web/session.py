"""Who is signed in. The browser holds only a cookie with a random id; the session (the token,
its claims for labelling the pages, the CSRF secret) lives server-side in the web front's own
database (services/web/store.py, services/web/middleware.py), so signing out ends it for good,
several web processes share it, a restart keeps it, and nothing personal is in the browser."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import jwt
from fastapi import Depends, Request

from services.web.middleware import session_state


@dataclass(frozen=True)
class Session:
    token: str
    subject: str
    role: str
    name: str
    gmina: str | None = None
    powiat: str | None = None
    region: str | None = None
    institution: str | None = None
    # The token's own end (epoch seconds); the session never outlives it.
    expires_at: float = 0.0


class SignInRequired(Exception):
    """No live session: the page sends the person to sign in, then back to `next`."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


def start_session(request: Request, token: str, name: str) -> None:
    """Sign in with a token the services will verify; its claims only label the pages. The
    session gets a new id and a new CSRF secret; what the anonymous one held is dropped."""
    claims = jwt.decode(token, options={"verify_signature": False})
    auth: dict[str, Any] = {
        "token": token,
        "subject": str(claims.get("sub", "")),
        "role": str(claims.get("role", "")),
        "name": name,
        "expires_at": float(claims.get("exp", 0)),
    }
    for scope in ("gmina", "powiat", "region", "institution"):
        if claims.get(scope) is not None:
            auth[scope] = str(claims[scope])
    state = session_state(request.scope)
    state.data.clear()
    state.data.update(auth=auth, csrf=secrets.token_urlsafe(32))
    state.renew = True


def end_session(request: Request) -> None:
    """Sign out: the stored session is deleted and the cookie cleared."""
    state = session_state(request.scope)
    state.data.clear()
    state.ended = True


def safe_next(path: str | None) -> str:
    """Only a path of this site (never //host or a scheme) is followed after sign-in."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


async def current_session(request: Request) -> Session:
    found = getattr(request.state, "session", None)
    if found is not None:
        return found  # type: ignore[no-any-return]
    auth = request.session.get("auth")
    if not auth:
        raise SignInRequired(_here(request), session_state(request.scope).expired)
    session = Session(**auth)
    request.state.session = session
    return session


SignedIn = Annotated[Session, Depends(current_session)]


def sign_in_url(next_path: str, expired: bool = False) -> str:
    query = f"?next={quote(safe_next(next_path), safe='/')}"
    return "/logowanie" + query + ("&wygasla=1" if expired else "")


# --- CSRF: a secret per session, kept server-side; every form posts it back ------------------


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


class CsrfRejected(Exception):
    pass


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the form's token (or the HX-/X-CSRF-Token header)."""
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = str(form.get("csrf_token", ""))
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRejected()
