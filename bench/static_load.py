"""Bytes transferred for a cold and a warm load of / and /wall/ (the static web UI). Prints one JSON line.

    python bench/static_load.py [--chromium /usr/bin/chromium]

Serves an empty migrated SQLite database (uvicorn in a thread; no login, so the pages stop at their login
form after loading every script, style sheet and font they need) and opens each page in headless Debian
chromium (Playwright; never a downloaded browser) with an empty cache (cold), then again in the same
browser context (warm: a normal navigation, as a user opening the page again). Figures per page and load:

- ``*_bytes``: bytes the server sent for the page's static files (status line, headers and body as sent:
  compressed when gzip applies), counted by an ASGI wrapper around the app; ``/api/`` requests left out
- ``*_requests``: requests that reached the server (a file the browser took from its cache without asking
  is not one); ``*_not_modified``: of those, answered 304 Not Modified (headers only)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _serve(var: Path) -> tuple[str, Any, threading.Thread, Counter]:
    import socket

    import uvicorn

    from anbao.app import create_app
    from anbao.config import Settings
    from anbao.core.db import make_engine
    from anbao.core.migrate import upgrade

    settings = Settings(database_url=f"sqlite:///{var / 'anbao.db'}", var_dir=var,
                        secret_key="bench-secret-key-0123456789abcdef-static")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    counter = Counter(create_app(settings))
    server = uvicorn.Server(uvicorn.Config(counter, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            sys.exit("server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread, counter


class Counter:
    """ASGI wrapper: what the server sent for each HTTP request (status line and headers approximated by
    their bytes, body as sent: compressed when gzip applies)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        row = {"path": scope["path"], "status": 0, "bytes": 0}
        self.sent.append(row)

        async def counting(message: Any) -> None:
            if message["type"] == "http.response.start":
                row["status"] = message["status"]
                row["bytes"] += 17 + sum(len(k) + len(v) + 4 for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                row["bytes"] += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)


def _load(page: Any, counter: Counter, url: str) -> dict[str, int]:
    counter.sent.clear()
    page.goto(url, wait_until="networkidle")
    static = [r for r in counter.sent if not r["path"].startswith("/api/")]
    return {"bytes": sum(r["bytes"] for r in static), "requests": len(static),
            "not_modified": sum(1 for r in static if r["status"] == 304)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"bench": "static_load"}
    with tempfile.TemporaryDirectory() as tmp:
        url, server, thread, counter = _serve(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                for name, path in (("command", "/"), ("wall", "/wall/")):
                    context = browser.new_context()
                    page = context.new_page()
                    for phase in ("cold", "warm"):
                        for key, value in _load(page, counter, url + path).items():
                            out[f"{name}_{phase}_{key}"] = value
                        if phase == "cold":
                            page.goto("about:blank")
                    context.close()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
