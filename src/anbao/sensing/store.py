"""Low-level writes of the ingest path: the newest reading per device (``device_latest``).

The upsert moves a device's row forward only (``WHERE excluded.at > device_latest.at``), so that
batches stored out of order, or by several workers at once, leave the newest reading in place.
Rows are written in device order so that concurrent PostgreSQL writers lock them in the same
order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from anbao.sensing.models import DeviceLatest


class Latest(NamedTuple):
    device_id: int
    zone_id: int | None
    at: datetime
    value: float | None
    values: Any
    received_at: datetime


def newest_per_device(rows: Iterable[Latest]) -> list[Latest]:
    """The newest row of each device (the later one in the input wins a tie), sorted by device id."""
    best: dict[int, Latest] = {}
    for row in rows:
        current = best.get(row.device_id)
        if current is None or row.at >= current.at:
            best[row.device_id] = row
    return [best[k] for k in sorted(best)]


def upsert_latest(*, db: Session, event_id: int, rows: Iterable[Latest]) -> None:
    """Store the newest of ``rows`` per device unless a newer reading is already stored."""
    newest = newest_per_device(rows)
    if not newest:
        return
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DeviceLatest)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DeviceLatest.device_id],
        set_={"event_id": stmt.excluded.event_id, "zone_id": stmt.excluded.zone_id, "at": stmt.excluded.at,
              "value": stmt.excluded.value, "values": stmt.excluded["values"],
              "received_at": stmt.excluded.received_at},
        where=stmt.excluded.at > DeviceLatest.at,
    )
    db.execute(stmt, [{"device_id": r.device_id, "event_id": event_id, "zone_id": r.zone_id, "at": r.at,
                       "value": r.value, "values": r.values, "received_at": r.received_at} for r in newest])
