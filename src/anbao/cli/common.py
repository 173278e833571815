"""Helpers every command group shares: consoles, one-line failures, settings, the database session."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from anbao.config import Settings, get_settings
from anbao.core.errors import AnBaoError

M = TypeVar("M", bound=BaseModel)
out = Console()
err = Console(stderr=True)

DEMO_USER = "demo"
DEMO_PASSWORD = "anbao-demo-2026"  # nosec B105: the documented demo login, made by `anbao demo` only


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit (2 = bad input)."""
    err.print(f"anbao: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    where = ".".join(str(p) for p in e["loc"])
    msg = str(e["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def parse(schema: type[M], data: dict[str, Any]) -> M:
    """Validate command-line input; the first problem ends the command with exit 2 and one line."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        fail(first_error(exc))


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        fail(f"bad configuration: ANBAO_{first_error(exc).upper().split(':')[0]}:{first_error(exc).split(':', 1)[1]}")
    except ValueError as exc:
        fail(f"bad configuration: {exc}")


@contextmanager
def database() -> Iterator[Engine]:
    """The configured database with its schema upgraded; bad URLs, unreachable servers and domain
    errors end the command with exit 2 and one line."""
    from anbao import wiring
    from anbao.core.db import make_engine
    from anbao.core.migrate import upgrade

    wiring.connect()  # every command changes the record as the app does (a warning starts its plans...)
    from anbao.core import audit

    audit.use_keys(load_settings().audit_keys())  # the audit chain's key, kept outside the database

    try:
        engine = make_engine(load_settings().database_url)
    except ArgumentError as exc:
        fail(f"bad ANBAO_DATABASE_URL: {exc}")
    try:
        upgrade(engine)
        with engine.connect() as conn:
            foreign = audit.foreign_signing_key(conn)
        if foreign is not None:
            fail(f"the audit log is signed with key {foreign!r}, which this process does not have: give every "
                 "process of the installation the same ANBAO_AUDIT_KEY (docs/audit.md, docs/deploy.md)")
        yield engine
    except AnBaoError as exc:
        where = ".".join(str(p) for p in exc.loc if p != "body")
        fail(f"{exc.message}" + (f" (at {where})" if where and where not in exc.message else ""))
    except OperationalError as exc:
        fail(f"database unavailable ({engine.url.render_as_string(hide_password=True)}): "
             f"{str(exc.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()


@contextmanager
def session() -> Iterator[Session]:
    """A committed-on-success session on the configured database, schema upgraded first."""
    from anbao.core.db import make_sessionmaker, transaction

    with database() as engine, transaction(make_sessionmaker(engine), actor=f"cli:{getpass.getuser()}") as db:
        yield db


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path}: not valid JSON: {exc}")


def event_or_fail(db: Session, event_id: int) -> Any:
    from anbao.event import service as events

    event = events.get(db=db, event_id=event_id)
    if event is None:
        fail(f"event {event_id} not found")
    return event
