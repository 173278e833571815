"""Low-level writes of the ingest path: readings, the newest reading per device, dead letters.

Readings go in through the DBAPI with values already in the column's storage form (no per-row work
in SQLAlchemy): multi-row ``INSERT ... VALUES`` statements on SQLite, ``COPY`` (psycopg 3) on
PostgreSQL. ``ON CONFLICT DO NOTHING`` against the unique index on (event, idempotency key) drops
retries, also within one batch, and the row count tells how many were new, so duplicates are
counted without a query before the insert. On PostgreSQL a batch without idempotency keys cannot
conflict and is copied straight into ``reading``; a batch with keys is copied into a temporary
table of the session (``reading_stage``, emptied at commit) and moved by one ``INSERT ... SELECT
... ORDER BY n ON CONFLICT DO NOTHING``, so that a repeated key is skipped, not an error that would
fail the whole COPY, and the rows keep the order of the batch.

The ``device_latest`` upsert moves a device's row forward only (``WHERE excluded.at >
device_latest.at``), so that batches stored out of order, or by several workers at once, leave the
newest reading in place. Rows are written in device order so that concurrent PostgreSQL writers
lock them in the same order and cannot deadlock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from itertools import chain, count
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from anbao.core.time import utcnow
from anbao.sensing.models import DeadLetter

#: one reading in storage form: (device_id, zone_id, at, value, values as JSON text, idem_key); the time is
#: UTC as ``YYYY-MM-DD HH:MM:SS.ffffff``, the form SQLAlchemy keeps on SQLite. The event, the time received
#: and the source are the batch's, given once.
Row = tuple[int, int | None, str, float | None, str | None, str | None]

_COLUMNS = 'event_id, device_id, zone_id, at, value, "values", received_at, source, idem_key'
# SQLite: the batch's constants are parameters 1-3, named once and used by every row
_SQLITE_INSERT = ('INSERT INTO reading (event_id, received_at, source, device_id, zone_id, at, value, "values", '
                  "idem_key) VALUES ", "(?1, ?2, ?3, ?, ?, ?, ?, ?, ?)", " ON CONFLICT DO NOTHING")
_PG_COPY = f"COPY reading ({_COLUMNS}) FROM STDIN"
_PG_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS reading_stage (n integer, event_id integer, device_id integer, "
             'zone_id integer, at timestamptz, value float8, "values" jsonb, received_at timestamptz, '
             "source varchar(80), idem_key varchar(120))")
_PG_STAGE_COPY = f"COPY reading_stage (n, {_COLUMNS}) FROM STDIN"
_PG_FROM_STAGE = (f"INSERT INTO reading ({_COLUMNS}) SELECT {_COLUMNS} FROM reading_stage ORDER BY n "  # nosec B608
                  "ON CONFLICT DO NOTHING")
DEAD_PAYLOAD_MAX = 64 * 1024


def stored_time(dt: datetime) -> str:
    """``dt`` (aware) as naive UTC text with microseconds, the storage form of SQLite."""
    text = dt.isoformat(" ", "microseconds")
    if text.endswith("+00:00"):
        return text[:26]
    return dt.astimezone(UTC).isoformat(" ", "microseconds")[:26]


class Sink:
    """Where the rows of a batch go while the batch is checked (:func:`readings`); ``stored`` counts the new
    ones once the block has ended."""

    add: Callable[[Row], object]
    stored: int = 0


@contextmanager
def readings(*, db: Session, event_id: int, received: str, source: str, keyed: bool) -> Iterator[Sink]:
    """Store the rows given to the sink's ``add`` as one batch of one event, received at ``received`` (storage
    form) from ``source``. ``keyed``: some rows may carry an idempotency key.

    On PostgreSQL the COPY is open while the block runs: the server stores the first rows while the rest
    of the batch is still being checked. On SQLite the rows are gathered and inserted when the block ends.
    Either way ``stored`` then counts the rows that were new (the others repeat a stored key).
    """
    sink = Sink()
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        rows: list[Row] = []
        sink.add = rows.append
        yield sink
        if rows:
            sink.stored = _sqlite_rows(conn, _SQLITE_INSERT, (event_id, received, source), rows)
        return
    received += "+00"
    with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
        if not keyed:  # nothing can conflict: straight into reading
            with cur.copy(_PG_COPY) as copy:
                write = copy.write_row

                def add(row: Row) -> None:
                    write((event_id, row[0], row[1], row[2] + "+00", row[3], row[4], received, source, None))

                sink.add = add
                yield sink
            sink.stored = max(cur.rowcount, 0)
            return
        cur.execute(_PG_STAGE)
        with cur.copy(_PG_STAGE_COPY) as copy:
            write, seq = copy.write_row, count().__next__

            def add_keyed(row: Row) -> None:
                write((seq(), event_id, row[0], row[1], row[2] + "+00", row[3], row[4], received, source, row[5]))

            sink.add = add_keyed
            yield sink
        cur.execute(_PG_FROM_STAGE)
        sink.stored = max(cur.rowcount, 0)
        cur.execute("TRUNCATE reading_stage")  # empty for the session's next batch, in this transaction too


def insert_readings(*, db: Session, event_id: int, received: str, source: str, rows: Sequence[Row]) -> int:
    """Insert ``rows`` of one event (see :func:`readings`); returns how many were new."""
    if not rows:
        return 0
    with readings(db=db, event_id=event_id, received=received, source=source,
                  keyed=any(r[5] is not None for r in rows)) as sink:
        for row in rows:
            sink.add(row)
    return sink.stored


_LATEST_SET = ('ON CONFLICT (device_id) DO UPDATE SET event_id = excluded.event_id, zone_id = excluded.zone_id, '
               'at = excluded.at, value = excluded.value, "values" = excluded."values", '
               "received_at = excluded.received_at WHERE excluded.at > device_latest.at")
_SQLITE_LATEST = ('INSERT INTO device_latest (event_id, received_at, device_id, zone_id, at, value, "values") VALUES ',
                  "(?1, ?2, ?, ?, ?, ?, ?)", " " + _LATEST_SET)
_PG_LATEST = ('INSERT INTO device_latest (device_id, event_id, zone_id, at, value, "values", received_at) '  # nosec B608
              "SELECT d, %s, z, a, v, j, %s FROM unnest(%s::integer[], %s::integer[], %s::timestamptz[], "
              "%s::float8[], %s::jsonb[]) AS t(d, z, a, v, j) " + _LATEST_SET)


def upsert_latest(*, db: Session, event_id: int, received: str, rows: Sequence[Row]) -> None:
    """Store each device's newest reading unless a newer one is already stored.

    ``rows`` holds at most one reading per device; they are written in device order.
    """
    if not rows:
        return
    ordered = sorted((r[:5] for r in rows), key=itemgetter(0))
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        d, z, a, v, j = (list(c) for c in zip(*ordered, strict=True))
        conn.exec_driver_sql(_PG_LATEST, (event_id, received + "+00", d, z, [t + "+00" for t in a], v, j))
    else:
        _sqlite_rows(conn, _SQLITE_LATEST, (event_id, received), ordered)


@lru_cache(maxsize=64)
def _values_sql(sql: tuple[str, str, str], n: int) -> str:
    return sql[0] + ", ".join([sql[1]] * n) + sql[2]


def _sqlite_rows(conn: Connection, sql: tuple[str, str, str], constants: tuple[Any, ...],
                 rows: Sequence[tuple[Any, ...]]) -> int:
    """Run ``head (row), (row) ... tail`` over ``rows``, with ``constants`` as parameters 1, 2...; returns
    the rows changed.

    Multi-row statements rather than ``executemany``: the sqlite3 module releases the GIL around each
    step, so ``executemany`` gives it up once per row, and while another thread of the process runs
    Python (the warning watcher, the event loop) each row then waits for a GIL switch: a batch of
    5,000 rows went from 30 ms to seconds. One statement steps once. The batch's constants (event,
    time received, source) are bound once per statement, not once per row. Statement sizes are the
    largest the variable limit allows and powers of two below it, so that their prepared forms are
    reused.
    """
    width = len(rows[0])
    most = max(1, (_variable_limit(conn) - len(constants)) // width)
    flat = list(chain.from_iterable(rows))
    changed, k, total = 0, 0, len(rows)
    while k < total:
        n = min(most, total - k)
        if n < most:
            n = 1 << (n.bit_length() - 1)  # a power of two: few distinct statements
        params = (*constants, *flat[k * width:(k + n) * width])
        changed += int(conn.exec_driver_sql(_values_sql(sql, n), params).rowcount)
        k += n
    return changed


def _variable_limit(conn: Connection) -> int:
    """Bound parameters allowed per statement (32,766 by default since SQLite 3.32)."""
    raw = conn.connection.dbapi_connection
    getlimit = getattr(raw, "getlimit", None)
    return min(32766, getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) if getlimit else 999


def dead_letter(*, db: Session, source: str, payload: bytes | str, reason: str, topic: str | None = None,
                event_id: int | None = None, received_at: datetime | None = None) -> None:
    """Keep a message that could not be (fully) used, with the reason (payload cut at 64 KiB)."""
    text = payload if isinstance(payload, str) else payload[:DEAD_PAYLOAD_MAX].decode("utf-8", errors="replace")
    db.add(DeadLetter(received_at=received_at or utcnow(), source=source[:40],
                      topic=None if topic is None else topic[:300], event_id=event_id,
                      payload=text[:DEAD_PAYLOAD_MAX], reason=reason))

