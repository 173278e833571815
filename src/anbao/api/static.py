"""Caching and compression of the static web UI (docs/frontend.md, 缓存).

- gzip (Starlette's ``GZipMiddleware``) for text files of 1 KiB or more when the browser accepts it; already
  compressed types (PNG, JPEG, WebP, fonts, zip) are sent as they are; WebSockets never pass here.
- ``Cache-Control``: a vendor file (``/vendor/leaflet``, ``/vendor/echarts``) asked with ``?v=<the installed
  package's version>`` (as the pages ask for them) is ``public, max-age=31536000, immutable``: a new version
  is a new URL. Everything else (HTML, the app's own scripts, styles, translations, icons, a vendor file
  without its version) is ``no-cache``: the browser keeps it but asks each time with ``If-None-Match``, and
  the unchanged file is a 304 without body (Starlette's ``ETag`` from the file's time and size).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.datastructures import MutableHeaders, QueryParams
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def package_version(dist: Path) -> str | None:
    """The version of the npm package whose ``dist`` folder this is (its package.json), or None."""
    try:
        return str(json.loads((dist.parent / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


class CacheHeaders:
    """Set ``Cache-Control`` on the responses of a static mount: immutable for ``?v=version`` when the
    mount has a version, ``no-cache`` (revalidate by ETag) otherwise. Headers a response set are kept."""

    def __init__(self, app: ASGIApp, *, version: str | None = None) -> None:
        self.app = app
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        versioned = self.version is not None and \
            QueryParams(scope.get("query_string", b"").decode("latin-1")).get("v") == self.version
        policy = IMMUTABLE if versioned else REVALIDATE

        async def with_cache(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = policy
            await send(message)

        await self.app(scope, receive, with_cache)


def static_app(files: ASGIApp, *, version: str | None = None) -> ASGIApp:
    """A static mount with its cache policy, gzip-compressed for browsers that accept it."""
    return GZipMiddleware(CacheHeaders(files, version=version), minimum_size=1024, compresslevel=6)
