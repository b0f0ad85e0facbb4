"""Who is signed in. The browser holds only a signed cookie with a random session id (and, during
an OpenID sign-in, the provider's state); the token lives here, server-side, so signing out
ends the session for good and nothing personal is ever in the browser.

One process holds the sessions in memory: a restart signs everyone out, which is safe."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

import jwt
from fastapi import Depends, Request

from services.web.settings import WebSettings


@dataclass
class Session:
    session_id: str
    token: str
    subject: str
    role: str
    name: str
    gmina: str | None = None
    powiat: str | None = None
    region: str | None = None
    institution: str | None = None
    # The token's own end; the session never outlives it.
    expires_at: float = 0.0
    last_seen: float = field(default_factory=time.monotonic)


class SignInRequired(Exception):
    """No live session: the page sends the person to sign in, then back to `next`."""

    def __init__(self, next_path: str, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class Sessions:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._by_id: dict[str, Session] = {}

    def start(self, token: str, name: str) -> Session:
        """A session for a token the services will verify; its claims only label the pages."""
        claims = jwt.decode(token, options={"verify_signature": False})
        session = Session(
            session_id=secrets.token_urlsafe(32),
            token=token,
            subject=str(claims.get("sub", "")),
            role=str(claims.get("role", "")),
            name=name,
            gmina=claims.get("gmina"),
            powiat=claims.get("powiat"),
            region=claims.get("region"),
            institution=claims.get("institution"),
            expires_at=float(claims.get("exp", 0)),
        )
        self._drop_stale()
        self._by_id[session.session_id] = session
        return session

    def find(self, session_id: str | None) -> tuple[Session | None, bool]:
        """(the live session, whether one existed but has expired)."""
        if not session_id:
            return None, False
        session = self._by_id.get(session_id)
        if session is None:
            return None, False
        now = time.monotonic()
        if (
            time.time() >= session.expires_at
            or now - session.last_seen > self.settings.session_idle_seconds
        ):
            self._by_id.pop(session_id, None)
            return None, True
        session.last_seen = now
        return session, False

    def end(self, session_id: str | None) -> None:
        if session_id:
            self._by_id.pop(session_id, None)

    def _drop_stale(self) -> None:
        now, wall = time.monotonic(), time.time()
        for sid, s in list(self._by_id.items()):
            if wall >= s.expires_at or now - s.last_seen > self.settings.session_idle_seconds:
                del self._by_id[sid]


def safe_next(path: str | None) -> str:
    """Only a path of this site (never //host or a scheme) is followed after sign-in."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _here(request: Request) -> str:
    path = request.url.path
    return path + (f"?{request.url.query}" if request.url.query else "")


def current_session(request: Request) -> Session:
    sessions: Sessions = request.app.state.sessions
    session, expired = sessions.find(request.session.get("sid"))
    if session is None:
        if expired:
            request.session.pop("sid", None)
        raise SignInRequired(_here(request), expired)
    request.state.session = session
    return session


SignedIn = Annotated[Session, Depends(current_session)]


def sign_in_url(next_path: str, expired: bool = False) -> str:
    query = f"?next={quote(safe_next(next_path), safe='/')}"
    return "/logowanie" + query + ("&wygasla=1" if expired else "")


# --- CSRF: a secret per browser in the signed cookie; every form posts it back ----------------


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


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
