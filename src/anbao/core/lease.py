"""Exactly one holder at a time across processes: a PostgreSQL session advisory lock (领导权租约).

:class:`AdvisoryLease` holds ``pg_try_advisory_lock(key)`` on a connection of its own, outside the
pool. The key is derived from the lease's name, the database and the schema, so two deployments
(or two test schemas) on one server never share it. The lock lives as long as the session: a
process that dies closes its socket and PostgreSQL drops the lock at once; a host that vanishes
without closing is found by TCP keep-alives set on the session (about ``keepalive_s`` + 2 x 2 s), and
a terminated backend (``pg_terminate_backend``, a cut connection) drops it too.

A holder that lost its lease may not know it yet (a pass already running). :meth:`fence` closes that
window: inside the worker's own transaction it takes a transaction advisory lock on a second key
(so the work of two holders never overlaps) and then checks in ``pg_locks`` that the session lock
is still held by this lease's backend; the work goes ahead only then. Whoever holds the lease next
waits on the same transaction lock and so sees everything the previous holder committed.

SQLite has one process: no lease is used there (the caller passes None).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine, NullPool, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger("anbao.lease")


def _key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key from ``parts``."""
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:8], "big", signed=True)


class LeaseLost(RuntimeError):
    """This process no longer holds the lease: it must stop and stand by."""


class AdvisoryLease:
    """A named lease over one PostgreSQL database and schema."""

    def __init__(self, engine: Engine, name: str, *, keepalive_s: int = 5) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("an advisory lease needs PostgreSQL; SQLite runs one process and needs none")
        self.name = name
        # a connection of its own, never returned to a pool: its session is the lease
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args={
            "keepalives": 1, "keepalives_idle": keepalive_s, "keepalives_interval": 2, "keepalives_count": 2,
            "tcp_user_timeout": (keepalive_s + 5) * 1000, "connect_timeout": 5})
        self.keepalive_s = keepalive_s
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self.key: int | None = None
        self.fence_key: int | None = None
        self.pid: int | None = None  # backend holding the lock while held

    @property
    def held(self) -> bool:
        return self.pid is not None

    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; False when another process does or the database is away."""
        with self._lock:
            if self.pid is not None:
                return True
            try:
                conn = self._connection()
                if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar():
                    self.pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                    log.info("lease %s taken (backend %s)", self.name, self.pid)
                    return True
                return False
            except DBAPIError as exc:
                log.warning("lease %s: database unavailable (%s)", self.name, exc.__class__.__name__)
                self._drop()
                return False

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # the server finds a vanished client by keep-alives and ends its session, dropping the lock
            for setting, value in (("tcp_keepalives_idle", self.keepalive_s), ("tcp_keepalives_interval", 2),
                                   ("tcp_keepalives_count", 2)):
                conn.execute(text(f"SET {setting} = {int(value)}"))
            db, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
            self.key = _key("anbao", self.name, str(db), str(schema))
            self.fence_key = _key("anbao", self.name, "fence", str(db), str(schema))
            self._conn = conn
        return self._conn

    def _drop(self) -> None:
        conn, self._conn, self.pid = self._conn, None, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # nosec B110: already broken
                pass

    def alive(self) -> bool:
        """True while the lease's session answers (it then still holds the lock)."""
        with self._lock:
            if self._conn is None or self.pid is None:
                self.pid = None
                return False
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                log.warning("lease %s: its connection is gone; standing by", self.name)
                self._drop()
                return False

    def fence(self, db: Session) -> None:
        """In ``db``'s transaction: wait for any other holder's work to commit, then make sure this lease is
        still held; raises :class:`LeaseLost` otherwise (roll back, stand by)."""
        pid = self.pid
        if pid is None or self.key is None:
            raise LeaseLost(f"lease {self.name} is not held")
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.fence_key})
        k = self.key & 0xFFFFFFFFFFFFFFFF
        held = db.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = :pid "
            "AND classid = CAST(:hi AS oid) AND objid = CAST(:lo AS oid) AND objsubid = 1"),
            {"pid": pid, "hi": k >> 32, "lo": k & 0xFFFFFFFF}).scalar_one()
        if not held:
            with self._lock:
                if self.pid == pid:
                    self._drop()
            raise LeaseLost(f"lease {self.name} was lost (backend {pid} no longer holds it)")

    def release(self) -> None:
        with self._lock:
            if self._conn is not None and self.pid is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                except DBAPIError:
                    pass
            self._drop()

    def close(self) -> None:
        self.release()
        self._engine.dispose()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "held": self.held, "backend": self.pid}
