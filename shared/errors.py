"""Domain errors, free of any framework; the HTTP layer turns them into problem+json answers.

`title` is Polish (people read it), `code` is stable for programs, `field` names the input at fault.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Nieprawidłowe żądanie"

    def __init__(self, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    status = 422
    title = "Nieprawidłowe dane"


class NotFound(DomainError):
    status = 404
    title = "Nie znaleziono"


class Conflict(DomainError):
    """The request contradicts the current state (a transition out of order, a duplicate)."""

    status = 409
    title = "Konflikt ze stanem sprawy"


class Forbidden(DomainError):
    status = 403
    title = "Brak uprawnień"
