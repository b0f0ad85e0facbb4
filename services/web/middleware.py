"""The web front's middlewares, as plain ASGI (Starlette's BaseHTTPMiddleware costs a task and
a stream per request): the Server-Timing header, the security headers, and the server-side
session behind an opaque cookie."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web.store import SessionStore
from services.web.timing import header

# Nothing from elsewhere: scripts, styles and images are this site's own files. A form may
# post only here (the sign-in's redirect to the provider is a redirect, not a post).
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# Paths that never read the session (and so never wait on its store).
SESSIONLESS = ("/static/", "/health", "/ready")


class ServerTiming:
    """`Server-Timing` on every answer: the services' waits (`api`), the session store's
    (`session`), the rest (`page`), and `total` — up to the moment the answer starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["api_waits"] = api = []
        state["session_waits"] = store = []
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                total = time.perf_counter() - started
                headers = MutableHeaders(scope=message)
                headers["Server-Timing"] = header(total, api, store)
            await send(message)

        await self.app(scope, receive, timed)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (
                    ("Content-Security-Policy", POLICY),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "no-referrer"),
                ):
                    headers.setdefault(name, value)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class SessionState:
    """One request's session: `data` is `request.session`; `renew` (after signing in) gives
    it a new id, `ended` (signing out) deletes it."""

    cookie: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    expired: bool = False  # the cookie named a session that had ended by time
    renew: bool = False
    ended: bool = False


def session_state(scope: Scope) -> SessionState:
    state: SessionState = scope["koop.session"]
    return state


def _hash(cookie: str) -> bytes:
    return hashlib.sha256(cookie.encode()).digest()


class ServerSessions:
    """`request.session` loaded from the session store by the cookie's random id and saved
    back before the answer starts, when it changed (or, now and then, to mark it used)."""

    def __init__(
        self, app: ASGIApp, store: SessionStore, *, cookie: str, secure: bool, waits: str
    ) -> None:
        self.app = app
        self.store = store
        self.cookie = cookie
        self.flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        self.waits = waits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SESSIONLESS):
            await self.app(scope, receive, send)
            return
        waits: list[tuple[float, float]] = scope.setdefault("state", {}).setdefault(self.waits, [])
        session = SessionState()
        stale = False
        cookie = self._cookie(scope)
        if cookie:
            started = time.perf_counter()
            found = await self.store.load(_hash(cookie))
            if found is not None and found.expired:
                await self.store.delete(_hash(cookie))
                session.expired = "auth" in found.data
            elif found is not None:
                session.cookie, session.data, stale = cookie, found.data, found.stale
            waits.append((started, time.perf_counter()))
        before = json.dumps(session.data, sort_keys=True)
        scope["session"] = session.data
        scope["koop.session"] = session

        async def saving(message: Message) -> None:
            if message["type"] == "http.response.start":
                started = time.perf_counter()
                set_cookie = await self._save(session, before, stale)
                if set_cookie:
                    MutableHeaders(scope=message).append("Set-Cookie", set_cookie)
                waits.append((started, time.perf_counter()))
            await send(message)

        await self.app(scope, receive, saving)

    def _cookie(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"cookie":
                return cookie_parser(value.decode("latin-1")).get(self.cookie) or None
        return None

    async def _save(self, session: SessionState, before: str, stale: bool) -> str | None:
        """Store what changed; the Set-Cookie value when the browser's id changes."""
        if session.ended:
            if session.cookie:
                await self.store.delete(_hash(session.cookie))
            return f"{self.cookie}=; Max-Age=0{self.flags}"
        if session.renew and session.cookie:
            await self.store.delete(_hash(session.cookie))
            session.cookie = None
        auth = session.data.get("auth")
        expires_at = float(auth["expires_at"]) if auth else None
        if session.cookie is None:
            if not session.data:
                return None
            cookie = secrets.token_urlsafe(32)
            await self.store.save(_hash(cookie), session.data, expires_at)
            # No Max-Age: a browser-session cookie; the server decides when the session ends.
            return f"{self.cookie}={cookie}{self.flags}"
        if json.dumps(session.data, sort_keys=True) != before:
            await self.store.save(_hash(session.cookie), session.data, expires_at)
        elif stale:
            await self.store.touch(_hash(session.cookie))
        return None
