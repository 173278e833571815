"""Ingest: one path for every door (HTTP batch, NDJSON, MQTT, GB/T 28181 alarms).

:func:`ingest` checks each item on its own: good items of a batch are stored even when others are
bad, and every bad item comes back with its index and reason. Items whose idempotency key is
already stored count as duplicates and are not stored again. Rows go in with one multi-row insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from anbao.core.errors import Invalid
from anbao.core.time import utcnow
from anbao.sensing import store
from anbao.sensing.models import Reading
from anbao.sensing.schemas import ReadingIn
from anbao.venue.models import Device

#: readings stamped further ahead than this are refused (clock error)
MAX_FUTURE = timedelta(minutes=5)
MAX_BATCH = 50_000


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, index: int, loc: list[str | int], msg: str) -> None:
        self.rejected.append({"index": index, "loc": loc, "msg": msg})


def parse_body(body: bytes, content_type: str) -> list[Any]:
    """A JSON array, ``{"readings": [...]}``, or NDJSON (one JSON object per line).

    NDJSON lines that are not JSON become ``None`` items so that they are rejected one by one.
    """
    if "ndjson" in content_type.lower() or "jsonl" in content_type.lower():
        items: list[Any] = []
        for line in body.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                items.append(_BadLine(line[:80]))
        return items
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(f"body is not JSON: {exc}", loc=["body"]) from exc
    if isinstance(data, dict) and isinstance(data.get("readings"), list):
        data = data["readings"]
    if not isinstance(data, list):
        raise Invalid('body must be a JSON array of readings or {"readings": [...]}', loc=["body"])
    return data


@dataclass(frozen=True)
class _BadLine:
    text: str


def _devices(db: Session, event_id: int) -> dict[str, tuple[int, int | None]]:
    rows = db.execute(select(Device.code, Device.id, Device.zone_id).where(Device.event_id == event_id))
    return {code: (dev_id, zone_id) for code, dev_id, zone_id in rows}


def ingest(*, db: Session, event_id: int, items: Sequence[Any], source: str = "",
           now: datetime | None = None) -> Outcome:
    """Check and store a batch of readings for one event."""
    if len(items) > MAX_BATCH:
        raise Invalid(f"a batch holds at most {MAX_BATCH} readings, got {len(items)}", loc=["body"])
    now = now or utcnow()
    devices = _devices(db, event_id)
    out = Outcome()
    good: list[tuple[int, ReadingIn, int, int | None]] = []
    for i, raw in enumerate(items):
        if isinstance(raw, _BadLine):
            out.reject(i, ["body", i], f"line is not JSON: {raw.text!r}")
            continue
        try:
            item = ReadingIn.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            out.reject(i, ["body", i, *err["loc"]], str(err["msg"]).removeprefix("Value error, "))
            continue
        device = devices.get(item.sensor)
        if device is None:
            out.reject(i, ["body", i, "sensor"], f"unknown sensor {item.sensor!r} in event {event_id}")
            continue
        if item.at > now + MAX_FUTURE:
            out.reject(i, ["body", i, "at"], f"time {item.at.isoformat()} is in the future (clock error?)")
            continue
        good.append((i, item, *device))
    keys = [g[1].idempotency_key for g in good if g[1].idempotency_key]
    stored: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        found = db.execute(select(Reading.idem_key).where(Reading.event_id == event_id,
                                                          Reading.idem_key.in_(chunk))).scalars()
        stored.update(k for k in found if k is not None)
    rows: list[dict[str, Any]] = []
    for _i, item, device_id, zone_id in good:
        key = item.idempotency_key
        if key is not None and key in stored:
            out.duplicates += 1
            continue
        if key is not None:
            stored.add(key)
        rows.append({"event_id": event_id, "device_id": device_id, "zone_id": zone_id, "at": item.at,
                     "value": item.value, "values": item.values, "received_at": now, "source": source[:80],
                     "idem_key": key})
    if rows:
        db.execute(insert(Reading), rows)
        store.upsert_latest(db=db, event_id=event_id, rows=(
            store.Latest(r["device_id"], r["zone_id"], r["at"], r["value"], r["values"], now) for r in rows))
    out.accepted = len(rows)
    return out


def recent(*, db: Session, event_id: int, device_id: int | None = None, zone_id: int | None = None,
           since: datetime | None = None, limit: int = 1000) -> Sequence[Reading]:
    """Newest readings first, optionally for one device or zone and after ``since``."""
    stmt = select(Reading).where(Reading.event_id == event_id)
    if device_id is not None:
        stmt = stmt.where(Reading.device_id == device_id)
    if zone_id is not None:
        stmt = stmt.where(Reading.zone_id == zone_id)
    if since is not None:
        stmt = stmt.where(Reading.at > since)
    return db.execute(stmt.order_by(Reading.at.desc(), Reading.id.desc()).limit(limit)).scalars().all()
