"""A real server for the browser tests: the demo event in a temporary SQLite file, served by uvicorn in a
thread on a free port, with the warning watcher running and the simulator NOT running (the tests post
the readings), plus Debian's chromium driven by Playwright (never a downloaded browser).

Browser tests skip with the reason when chromium or Playwright is missing, unless
ANBAO_REQUIRE_SERVICES=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable

CHROMIUM = os.environ.get("ANBAO_TEST_CHROMIUM", "/usr/bin/chromium")
DEMO_USER, DEMO_PASSWORD = "demo", "anbao-demo-2026"
GATEWAY_USER, PASSWORD = "gw-test", "password-123"


@dataclass
class Served:
    url: str
    event_id: int
    app: object
    settings: object

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = httpx.post(f"{self.url}/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(app: object) -> tuple[str, object, threading.Thread]:
    """Serve ``app`` with uvicorn in a thread on a free port: (url, server, thread)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",  # type: ignore[arg-type]
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name=f"web-test-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def stop_server(server: object, thread: threading.Thread) -> None:
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from anbao.account import service as accounts
    from anbao.account.schemas import UserCreate
    from anbao.app import create_app
    from anbao.config import Settings
    from anbao.core.db import make_engine, make_sessionmaker, transaction
    from anbao.core.migrate import upgrade
    from anbao.demo.build import load_demo

    var: Path = tmp_path_factory.mktemp("web")
    settings = Settings(database_url=f"sqlite:///{var / 'anbao.db'}", var_dir=var,
                        secret_key="web-test-secret-key-0123456789abcdef", evaluate_interval_s=0.5)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine), actor="test") as db:
        summary = load_demo(db=db)
        for name, password, role in ((DEMO_USER, DEMO_PASSWORD, "commander"), (GATEWAY_USER, PASSWORD, "gateway"),
                                     ("admin-test", PASSWORD, "admin"), ("cmd-test", PASSWORD, "commander")):
            accounts.create(db=db, data=UserCreate(username=name, password=password, role=role))
    engine.dispose()
    app = create_app(settings)  # no simulate=: the tests decide what the sensors say
    url, server, thread = start_server(app)
    yield Served(url=url, event_id=summary.event_id, app=app, settings=settings)
    stop_server(server, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        unavailable(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class PageWatch:
    """A page with its uncaught errors and console errors collected (the tests fail on them)."""

    def __init__(self, browser: object, served: Served, size: tuple[int, int] = (1600, 1000), *,
                 csp: bool = False) -> None:
        # the tests' own string predicates (wait_for_function) are evaluated in the page, which the app's
        # Content-Security-Policy forbids: enforced only where asked (tests/web/test_csp.py loads every page so)
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN",  # type: ignore[attr-defined]
                                           bypass_csp=not csp)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.allowed: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.served = served

    def login(self, username: str = DEMO_USER, password: str = DEMO_PASSWORD, path: str = "/") -> None:
        page = self.page
        page.goto(self.served.url + path)
        page.wait_for_selector("#login:not([hidden])")
        page.fill("#login input[name=username]", username)
        page.fill("#login input[name=password]", password)
        page.click("#login button[type=submit]")
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)

    def check(self) -> None:
        bad = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert bad == [], bad

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser: object, served: Served) -> Iterator[PageWatch]:
    w = PageWatch(browser, served)
    yield w
    try:
        w.check()
    finally:
        w.close()
