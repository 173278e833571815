"""Exceptions of the domain layer. They become HTTP errors only at the edge (app.py)."""

from __future__ import annotations

from typing import Any


class AnBaoError(Exception):
    """Base of all domain errors; ``status`` is the HTTP status the edge maps it to."""

    status = 400

    def __init__(self, message: str, *, loc: list[str | int] | None = None, extra: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc or []
        self.extra = extra


class NotFound(AnBaoError):
    status = 404


class Conflict(AnBaoError):
    status = 409


class Invalid(AnBaoError):
    """Input that is well-formed but wrong (bad geometry, unknown reference...)."""

    status = 422


class Forbidden(AnBaoError):
    status = 403


class Unauthorized(AnBaoError):
    status = 401


class TooManyRequests(AnBaoError):
    status = 429
