"""FastAPI dependencies at the edge: database session, caller, permission checks, the event.

Deny by default: every route other than health and login declares ``require(Perm...)``; a test
walks the app's routes to prove it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from anbao.account import service as accounts
from anbao.core import audit
from anbao.core.auth import Perm, Principal
from anbao.core.db import lock_timeout, reading, unavailable
from anbao.core.errors import Forbidden, Invalid, NotFound, Unauthorized
from anbao.core.events import new_id
from anbao.event import service as events
from anbao.event.models import Event

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/login")


F = TypeVar("F", bound=Callable[..., Any])
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def reads_only(endpoint: F) -> F:
    """Mark a route that is not a GET but only reads (login): its session takes no write lock either."""
    endpoint.__anbao_reads_only__ = True  # type: ignore[attr-defined]
    return endpoint


def _reads_only(request: Request) -> bool:
    if request.method in READ_METHODS:
        return True
    route = request.scope.get("route")
    return bool(getattr(getattr(route, "endpoint", None), "__anbao_reads_only__", False))


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; commits when the route returns, rolls back on error.

    GET requests (and routes marked :func:`reads_only`) read in a deferred transaction that takes no
    write lock on SQLite; the audit entries they make (reads of personal data) are written in a short
    transaction of their own after the read, before the answer leaves. A database still locked past
    its busy timeout is a 503 with Retry-After, never a 500.
    """
    factory = request.app.state.sessions
    read = _reads_only(request)
    with reading(factory) if read else factory() as db:
        db.info["actor"] = "anonymous"
        # one cause id for everything the request changes: the caller's X-Request-ID, else a new one
        cause = request.headers.get("x-request-id")
        db.info["cause"] = cause[:80] if cause else new_id("req")
        try:
            yield db
            db.commit()
            if read:
                audit.write_pending(db)
        except BaseException as exc:
            busy = lock_timeout(exc) or unavailable(exc)
            try:
                db.rollback()
            except OperationalError:  # the connection is gone (the server restarts): nothing to roll back
                if busy is None:
                    raise
            if busy is not None:
                raise busy from exc
            raise


# scope="function": commit before the response goes out, so a failed commit is an error response, never a
# silent loss after a 2xx.
DB = Annotated[Session, Depends(get_db, scope="function")]


def current_principal(
    request: Request,
    db: DB,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("login required: send Authorization: Bearer <token>")
    # the signature, expiry, an active user and the token's version (a password change or deactivation revokes)
    principal = accounts.principal_for_token(db, creds.credentials, request.app.state.signing_key)
    db.info["actor"] = principal.actor
    return principal


def require(*perms: Perm) -> Callable[..., Principal]:
    """Dependency factory: the caller must hold every permission in ``perms``."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        missing = [p.value for p in perms if not principal.can(p)]
        if missing:
            raise Forbidden(f"role {principal.role.value} lacks permission {', '.join(missing)}")
        return principal

    check.required_permissions = perms  # type: ignore[attr-defined]
    return check


def visible_event(event_id: int, db: DB, principal: Annotated[Principal, Depends(current_principal)]) -> Event:
    """The path's event, 404 when it does not exist or is not shared with a partner's agency."""
    event = events.get(db=db, event_id=event_id)
    if event is None or not events.visible(event, agency=principal.scoped_agency):
        raise NotFound(f"event {event_id} not found")
    return event


EventDep = Annotated[Event, Depends(visible_event)]


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for param in dependant.query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        else:
            names.add(param.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _allowed_query(route: APIRoute | APIWebSocketRoute) -> frozenset[str]:
    allowed: frozenset[str] | None = getattr(route, "_anbao_query_names", None)
    if allowed is None:  # computed once per route and kept on it
        allowed = frozenset(_query_names(route.dependant))
        setattr(route, "_anbao_query_names", allowed)  # noqa: B010
    return allowed


def reject_unknown_query(request: HTTPConnection) -> None:
    """A query parameter the route does not know is a 422 naming it, never silently ignored."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute | APIWebSocketRoute):
        return
    allowed = _allowed_query(route)
    for name in request.query_params:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise Invalid(f"unknown query parameter {name!r} (this route takes: {known})", loc=["query", name])
