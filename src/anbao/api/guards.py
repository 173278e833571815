"""What every request passes before a route sees it, and what every response carries (docs/limits.md).

- :class:`BodyLimit` (ASGI middleware): a request body larger than its route's limit is refused with
  413 naming the limit, from the declared ``Content-Length`` or as soon as the streamed body passes it;
  nothing larger is read into memory or parsed.
- :func:`check_parameters` (dependency of every API route): path and query values within the bounds
  the storage can hold: whole numbers within a PostgreSQL ``integer`` unless the parameter declares its
  own upper bound, times within :data:`anbao.core.time.EARLIEST` .. ``LATEST``, no control characters.
- :class:`SecurityHeaders` (ASGI middleware): CSP, frame-ancestors / X-Frame-Options, nosniff and
  Referrer-Policy on every response.
- :class:`WebFiles`: the static web UI without its build material (``node_modules/``, npm and Biome files).
"""

from __future__ import annotations

import json
import re
import types
from datetime import datetime
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import annotated_types
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from pydantic import AwareDatetime, BaseModel, FutureDatetime, NaiveDatetime, PastDatetime, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anbao.core.errors import Invalid
from anbao.core.schemas import INT_MAX, INT_MIN, text_problem
from anbao.core.time import TimeRangeError, in_range

MiB = 1024 * 1024
#: request body limit of any route not listed in :data:`BODY_LIMITS`
DEFAULT_BODY = 1 * MiB
#: (method, path pattern, limit, what): the routes that take larger bodies
BODY_LIMITS: tuple[tuple[str, re.Pattern[str], int, str], ...] = (
    ("POST", re.compile(r"^/api/v1/events/[^/]+/road-networks$"), 200 * MiB + 64 * 1024, "road network upload"),
    ("POST", re.compile(r"^/api/v1/events/[^/]+/readings$"), 20 * MiB, "readings batch"),
    ("POST", re.compile(r"^/api/v1/events/[^/]+/venue-import$"), 20 * MiB, "venue GeoJSON import"),
    ("POST", re.compile(r"^/api/v1/events/[^/]+/incidents$"), 8 * MiB, "incident report with a photo"),
)


def body_limit(method: str, path: str) -> tuple[int, str]:
    """The body limit of a request and its name."""
    for m, pattern, limit, what in BODY_LIMITS:
        if m == method and pattern.match(path):
            return limit, what
    return DEFAULT_BODY, "request body"


def _too_large(size: int | None, limit: int, what: str) -> str:
    shown = f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit // 1024} KiB"
    got = f" of {size} bytes" if size is not None else ""
    return f"{what}{got} exceeds the limit of {limit} bytes ({shown}); see docs/limits.md"


class BodyLimit:
    """Refuse request bodies over their route's limit with 413 (declared length or streamed bytes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = body_limit(scope["method"], scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(send, 413, {"detail": _too_large(int(declared), limit, what)})
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # the route's parser hears a 413, as FastAPI re-raises HTTPException as is
                    raise HTTPException(413, _too_large(None, limit, what))
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


# -- path and query parameters ------------------------------------------------------------------

_INT, _TIME, _TEXT = "int", "time", "text"
#: pydantic's datetime annotations that are no subclass of datetime
_TIME_TYPES = (AwareDatetime, NaiveDatetime, PastDatetime, FutureDatetime)


def _kind(annotation: Any) -> str:
    """int, time or text: what a parameter's values are checked as."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        kinds = {_kind(a) for a in get_args(annotation) if a is not type(None)}
        return _INT if _INT in kinds else _TIME if _TIME in kinds else _TEXT
    if origin is not None and get_args(annotation):  # Annotated and the like
        return _kind(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, bool):
        return _TEXT
    if isinstance(annotation, type) and issubclass(annotation, int):
        return _INT
    if annotation in _TIME_TYPES or isinstance(annotation, type) and issubclass(annotation, datetime):
        return _TIME
    return _TEXT


def _own_upper(metadata: list[Any]) -> bool:
    return any(isinstance(m, annotated_types.Le | annotated_types.Lt) for m in metadata)


Check = tuple[str, str, str, bool]  # where (path, query), name, kind, has its own upper bound


def _checks(dependant: Dependant) -> list[Check]:
    out: list[Check] = []
    for where, params in (("path", dependant.path_params), ("query", dependant.query_params)):
        for param in params:
            info = param.field_info
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                for name, f in annotation.model_fields.items():
                    out.append((where, f.alias or name, _kind(f.annotation), _own_upper(f.metadata)))
            else:
                out.append((where, param.alias, _kind(annotation), _own_upper(info.metadata)))
    for sub in dependant.dependencies:
        out.extend(_checks(sub))
    return out


_TIME_ADAPTER: TypeAdapter[datetime] = TypeAdapter(datetime)


def _problem(raw: str, kind: str, own_upper: bool) -> str | None:
    if (problem := text_problem(raw)) is not None:
        return problem
    if kind == _INT and not own_upper:
        try:
            value = int(raw)
        except ValueError:
            return None  # not a number: FastAPI says so
        if not INT_MIN <= value <= INT_MAX:
            return f"{raw[:40]} is outside the range of whole numbers {INT_MIN} .. {INT_MAX}"
    elif kind == _TIME:
        try:
            when = _TIME_ADAPTER.validate_python(raw)
        except (ValidationError, OverflowError, ValueError):
            return None if len(raw) < 100 else "a time of at most 100 characters"
        try:
            in_range(when)
        except TimeRangeError as exc:
            return str(exc)
    return None


def check_parameters(request: HTTPConnection) -> None:
    """Every path and query value of the route within its bounds, else 422 naming it (see module doc)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute | APIWebSocketRoute):
        return
    checks: list[Check] | None = getattr(route, "_anbao_param_checks", None)
    if checks is None:  # computed once per route and kept on it
        checks = _checks(route.dependant)
        setattr(route, "_anbao_param_checks", checks)  # noqa: B010
    for where, name, kind, own_upper in checks:
        raws = [request.path_params.get(name)] if where == "path" else request.query_params.getlist(name)
        for raw in raws:
            if isinstance(raw, str) and (problem := _problem(raw, kind, own_upper)) is not None:
                raise Invalid(f"{where} parameter {name!r}: {problem}", loc=[where, name])


# -- response headers ---------------------------------------------------------------------------

def content_security_policy(tile_url: str = "", *, inline_scripts: bool = False) -> str:
    """The web UI's policy: its own scripts and styles (style attributes set by Leaflet and ECharts
    allowed), images from itself, data/blob URLs and the configured tile server, no framing."""
    images = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a").replace("{", "").replace("}", ""))
        if parts.scheme in ("http", "https") and parts.hostname:
            host = parts.hostname if not tile_url.count("{s}") else "*." + parts.hostname.split(".", 1)[-1]
            images += f" {parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    scripts = "'self' 'unsafe-inline'" if inline_scripts else "'self'"
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'")


class SecurityHeaders:
    """Add the security headers to every HTTP response (those the route set itself are kept)."""

    #: the Swagger UI page starts itself with an inline script
    INLINE_SCRIPT_PATHS = frozenset({"/api/docs"})

    def __init__(self, app: ASGIApp, tile_url: str = "") -> None:
        self.app = app
        common = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                  (b"referrer-policy", b"no-referrer")]
        self.headers = [*common, (b"content-security-policy", content_security_policy(tile_url).encode())]
        self.inline = [*common, (b"content-security-policy",
                                 content_security_policy(tile_url, inline_scripts=True).encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.inline if scope["path"] in self.INLINE_SCRIPT_PATHS else self.headers

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((k, v) for k, v in extra if k not in have)]
            await send(message)

        await self.app(scope, receive, with_headers)


class WebFiles(StaticFiles):
    """The static web UI; its build material (npm packages, lock file, linter config) is not served."""

    HIDDEN_DIRS = frozenset({"node_modules"})
    HIDDEN_FILES = frozenset({"package.json", "package-lock.json", "biome.json"})

    def get_path(self, scope: Scope) -> str:
        path: str = super().get_path(scope)
        parts = [p for p in re.split(r"[/\\]", path) if p not in ("", ".")]
        if parts and (parts[0] in self.HIDDEN_DIRS or (len(parts) == 1 and parts[0] in self.HIDDEN_FILES)):
            raise HTTPException(404)
        return path
