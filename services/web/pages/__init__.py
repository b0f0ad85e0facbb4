"""The pages, one router per role (and sign-in); each reads and writes through `client.Api`."""

from __future__ import annotations

from fastapi import Request

from services.web.client import Api
from services.web.session import Session


def api_for(request: Request, session: Session) -> Api:
    """The signed-in person's own API client."""
    # The timing middleware's list, when it runs: the page's Server-Timing counts these calls.
    waits = getattr(request.state, "api_waits", None)
    return Api(request.app.state.http, request.app.state.settings, session.token, waits)
