"""Storage: SQLAlchemy 2 engine, sessions and the declarative base.

SQLite (embedded default) runs in WAL mode with foreign keys on. A transaction that may write
starts with ``BEGIN IMMEDIATE``, so that concurrent writers queue on the busy timeout instead of
failing with a stale snapshot; read-only work (GET requests, the warning watcher's reading phase,
documents) runs in sessions from :func:`reading`, whose transactions start with a plain (deferred)
``BEGIN``: in WAL mode a reader takes no lock that a writer waits for, so reads never block writers
and writers never block reads. Such a session must not write: a deferred transaction that tries to
upgrade after another writer committed fails at once (``SQLITE_BUSY_SNAPSHOT``); the few writes a
read makes (the audit entry of a personal-data read) go in a short transaction of their own after
it (:mod:`anbao.core.audit`). A lock still timed out is :class:`Busy` (HTTP 503 with Retry-After),
never a server error. ``synchronous=NORMAL`` keeps every commit through a crash of the process (the
WAL is in the operating system's hands once written). Checkpoints (copying the WAL back into the
database file) run in a background thread of each file engine, on the other core, instead of in
the writer that happens to fill the WAL; writers checkpoint themselves only past a backstop of
:data:`WAL_AUTOCHECKPOINT` pages. PostgreSQL is used through its URL unchanged.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from anbao.core.errors import AnBaoError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType, list[str]: JSONType}


log = logging.getLogger("anbao.db")
#: WAL pages (4 KiB) after which a committing writer checkpoints by itself (backstop of the thread)
WAL_AUTOCHECKPOINT = 10_000
#: seconds between background checkpoints
CHECKPOINT_EVERY_S = 0.5


def _start_checkpointer(engine: Engine, path: str) -> None:
    """PASSIVE checkpoints of ``path`` every :data:`CHECKPOINT_EVERY_S` from a daemon thread with a
    connection of its own, until the engine is disposed or gone. A passive checkpoint never blocks
    readers or writers; it copies what it can."""
    stop = threading.Event()
    alive = weakref.ref(engine)

    def run() -> None:
        conn: sqlite3.Connection | None = None
        while not stop.wait(CHECKPOINT_EVERY_S) and alive() is not None:
            try:
                if conn is None:
                    if not Path(path).exists():
                        break
                    conn = sqlite3.connect(path, timeout=1, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # busy or gone: try again later with a new connection
                log.debug("background checkpoint of %s: %s", path, exc)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    event.listen(engine, "engine_disposed", lambda _engine: stop.set())
    threading.Thread(target=run, name="anbao-sqlite-checkpoint", daemon=True).start()


def _sqlite_setup(engine: Engine, path: str | None = None) -> None:
    started = threading.Lock()
    state = {"checkpointer": path is None}

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        cur.close()
        if not state["checkpointer"] and path is not None:
            with started:
                if not state["checkpointer"]:
                    state["checkpointer"] = True
                    _start_checkpointer(engine, path)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(DEFERRED) else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; creates the SQLite file's directory when needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # connections are cheap on SQLite: enough for every request thread (40) and the workers, so that a
        # burst of slow requests (password checks) never leaves others waiting for a pooled connection
        on_disk = bool(parsed.database) and parsed.database != ":memory:" and not parsed.query.get("mode")
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               **({"pool_size": 5, "max_overflow": 60} if on_disk else {}))
        _sqlite_setup(engine, parsed.database if on_disk else None)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions of ``engine``; ``info`` (e.g. the message bus for the outbox) is copied into each session."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)


#: execution option of the engine behind :func:`reading` sessions: SQLite begins their transactions DEFERRED
DEFERRED = "anbao_deferred"
#: ``Session.info`` keys set on :func:`reading` sessions: the flag, and the factory of write sessions
READ_ONLY = "read_only"
WRITER = "writer"
_deferred_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_deferred_lock = threading.Lock()


def _deferred(engine: Engine) -> Engine:
    with _deferred_lock:
        got = _deferred_engines.get(engine)
        if got is None:  # one option engine per engine: it shares the pool and the listeners
            got = _deferred_engines[engine] = engine.execution_options(**{DEFERRED: True})
        return got


def reading(factory: sessionmaker[Session], **kw: Any) -> Session:
    """A session for read-only work: on SQLite its transactions begin DEFERRED and so take no write lock
    (a WAL reader never blocks a writer). ``info[READ_ONLY]`` is set: :func:`anbao.core.audit.record`
    keeps its entries for a short write transaction after the read (:func:`anbao.core.audit.write_pending`)."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("reading() needs a sessionmaker bound to an engine")
    db = factory(bind=_deferred(bind), **kw)
    db.info[READ_ONLY] = True
    db.info[WRITER] = factory
    return db


def writer(db: Session) -> Session:
    """A new session for writes beside ``db``: of the factory ``db`` was made by (a :func:`reading` session's
    writer), so it carries the same bus and info."""
    factory = db.info.get(WRITER)
    if factory is None:
        raise TypeError("writer() needs a session made by reading()")
    return factory()


def is_read_only(db: Session) -> bool:
    return bool(db.info.get(READ_ONLY))


class Busy(AnBaoError):
    """The database stayed locked past its busy timeout: try again shortly (HTTP 503, Retry-After)."""

    status = 503
    retry_after_s = 2


def lock_timeout(exc: BaseException) -> Busy | None:
    """A :class:`Busy` naming the cause when ``exc`` is SQLite's "database is locked"/"busy", else None."""
    if not isinstance(exc, OperationalError) or not isinstance(exc.orig, sqlite3.OperationalError):
        return None
    text = str(exc.orig)
    if "locked" not in text and "busy" not in text:
        return None
    return Busy(f"database busy: another transaction held the SQLite write lock past the busy timeout "
                f"({text}); retry in {Busy.retry_after_s} s")


def unavailable(exc: BaseException) -> Busy | None:
    """A :class:`Busy` when ``exc`` says the database server cannot be reached or dropped the connection
    (PostgreSQL restarting, failing over, the network away), else None. The request changed nothing."""
    if not isinstance(exc, OperationalError) or isinstance(exc.orig, sqlite3.OperationalError):
        return None
    first = str(exc.orig).strip().splitlines()[0][:200] if str(exc.orig).strip() else type(exc.orig).__name__
    return Busy(f"database unavailable ({first}); nothing was changed, retry in {Busy.retry_after_s} s")


@contextmanager
def transaction(factory: sessionmaker[Session], *, actor: str) -> Iterator[Session]:
    """A session that commits on success, rolls back on error; ``actor`` is written to the audit log."""
    with factory() as db:
        db.info["actor"] = actor
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise
