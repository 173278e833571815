"""Ingest: one path for every door (HTTP batch, NDJSON, MQTT, GB/T 28181 alarms).

:func:`ingest` (Python items) and :func:`ingest_body` (JSON or NDJSON bytes, validated straight
from the bytes) check each item on its own: good items of a batch are stored even when others are
bad, and every bad item comes back with its index and reason. Items whose idempotency key is
already stored count as duplicates and are not stored again. Checks, in order: the item's shape
(:class:`~anbao.sensing.schemas.ReadingItem`), a value or values, a known sensor of the event, a
time neither more than :data:`MAX_FUTURE` ahead nor more than :data:`MAX_PAST` old, and values that
are physically possible for the device (no negative counts or gas levels, no crowd denser than
:data:`MAX_DENSITY` persons/m²).
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, Select, bindparam, func, select
from sqlalchemy.orm import Session

from anbao.core import events
from anbao.core.errors import Invalid
from anbao.core.time import FIELD_MAX_FUTURE, FIELD_MAX_PAST, utcnow
from anbao.sensing import decode, store
from anbao.sensing.decode import BadLine, Decoded
from anbao.sensing.models import DeadLetter, Reading
from anbao.venue.models import Device, Zone

#: readings stamped further ahead than this are refused (clock error); older than MAX_PAST too (a wrong clock
#: or a replayed archive): the one rule for every time from the field (anbao.core.time)
MAX_FUTURE, MAX_PAST = FIELD_MAX_FUTURE, FIELD_MAX_PAST
MAX_BATCH = 50_000
#: persons/m²: no crowd is denser (the GB/T 28181 alarm door uses the same bound)
MAX_DENSITY = 12.0
#: device kinds whose readings cannot be negative (counts, concentrations)
NON_NEGATIVE = frozenset({"camera", "video_count", "wifi_probe", "bluetooth", "gate_counter", "gas", "smoke"})
#: device kinds that count the people in their zone (the density bound applies to their value)
HEAD_COUNTS = frozenset({"camera", "video_count"})

__all__ = ["MAX_BATCH", "MAX_FUTURE", "MAX_PAST", "BadLine", "Outcome", "dead_letters", "ingest", "ingest_body",
           "parse_body", "recent"]

parse_body = decode.parse_body


@dataclass
class Outcome:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, index: int, loc: list[str | int], msg: str) -> None:
        self.rejected.append({"index": index, "loc": loc, "msg": msg})


class _Dev(NamedTuple):
    id: int
    zone_id: int | None
    min_value: float  # 0 for counts and levels, else -inf
    max_value: float  # head count above which the zone would be denser than MAX_DENSITY, else inf
    zone_code: str
    area_m2: float


#: per database engine, per event: (version of the event's devices and zones, the devices by code)
_DEVICE_CACHE: weakref.WeakKeyDictionary[Engine, dict[int, tuple[tuple[Any, ...], dict[str, _Dev]]]] = (
    weakref.WeakKeyDictionary())
_CACHED_EVENTS = 256
_CACHE_LOCK = threading.Lock()


def _version_part(table: Any) -> Select[Any]:
    return select(func.count(), func.sum(table.id), func.max(table.updated_at)).where(
        table.event_id == bindparam("event_id"))


#: what changes whenever a device or zone of the event is added, edited or deleted: per table, the count,
#: the sum of the ids (a deletion and an addition together) and the newest ``updated_at`` (an edit)
DEVICE_VERSION = _version_part(Device).union_all(_version_part(Zone))


def event_devices(*, db: Session, event_id: int) -> dict[str, _Dev]:
    """The event's devices by code, with what ingest checks against (zone, bounds).

    Kept per engine and event, and loaded again only when :data:`DEVICE_VERSION` has moved, so that a
    batch costs one small aggregate query instead of reading every device; the version is read from the
    database for every batch, which makes the cache right across processes and replicas (a device edited
    through another one moves the version as much as one edited here). HTTP ingest reads it in a read
    transaction just before the batch's write transaction (issue 14: no write lock for the look-up): a device
    deleted in between makes the write fail (409, nothing stored), one moved to another zone in between has
    the batch's readings stored under the zone it was in when the batch was checked.
    """
    engine = db.connection().engine
    version = tuple(tuple(r) for r in db.execute(DEVICE_VERSION, {"event_id": event_id}))
    per_event = _DEVICE_CACHE.get(engine)
    if per_event is None:
        with _CACHE_LOCK:
            per_event = _DEVICE_CACHE.setdefault(engine, {})
    hit = per_event.get(event_id)
    if hit is not None and hit[0] == version:
        return hit[1]
    rows = db.execute(select(Device.code, Device.id, Device.zone_id, Device.kind, Zone.code, Zone.area_m2)
                      .outerjoin(Zone, Zone.id == Device.zone_id).where(Device.event_id == event_id))
    out = {}
    for code, dev_id, zone_id, kind, zone_code, area in rows:
        top = MAX_DENSITY * area if kind in HEAD_COUNTS and area else math.inf
        out[code] = _Dev(dev_id, zone_id, 0.0 if kind in NON_NEGATIVE else -math.inf, top, zone_code or "",
                         area or 0.0)
    with _CACHE_LOCK:
        if len(per_event) >= _CACHED_EVENTS:
            per_event.pop(next(iter(per_event)), None)
        per_event[event_id] = (version, out)
    return out


def _impossible(dev: _Dev, value: float | None, values: dict[str, float] | None) -> tuple[str, str] | None:
    """(field, reason) when the reading cannot be true for this device, else None."""
    if value is not None:
        if value < dev.min_value:
            return "value", f"value {value:g} is negative; this device measures counts or levels"
        if value > dev.max_value:
            return "value", (f"count {value:g} in zone {dev.zone_code} ({dev.area_m2:g} m²) is "
                             f"{value / dev.area_m2:.1f} persons/m², over {MAX_DENSITY:g}: not a crowd")
    if values:
        for name, x in values.items():
            if x < dev.min_value:
                return "values", f"values.{name} {x:g} is negative; this device measures counts or levels"
        density = values.get("density")
        if density is not None and density > MAX_DENSITY:
            return "values", f"values.density {density:g} persons/m² is over {MAX_DENSITY:g}: not a crowd"
    return None


def _stamp(at: str | datetime) -> tuple[str | None, str]:
    """(stored UTC text, shown time) of a reading's time, or (None, the reason it is not a usable time)."""
    if isinstance(at, str):
        try:
            dt = datetime.fromisoformat(at)
        except ValueError:
            return None, f"Input should be an ISO 8601 time with an offset, like 2026-12-19T20:15:03+08:00, got {at!r}"
    else:
        dt = at
    off = dt.utcoffset()
    if off is None:
        return None, "Input should have timezone info"
    try:
        utc = (dt - off).replace(tzinfo=None)
    except OverflowError:  # year 1 at +08:00, 9999-12-31 at -05:00: not a time in UTC
        return None, f"time {dt.isoformat()} is outside the accepted range (it cannot be expressed in UTC)"
    return utc.isoformat(" ", "microseconds"), dt.isoformat()


def ingest(*, db: Session, event_id: int, items: Sequence[Any], source: str = "",
           now: datetime | None = None) -> Outcome:
    """Check and store a batch of readings (parsed JSON items) for one event."""
    if len(items) > MAX_BATCH:
        raise Invalid(f"a batch holds at most {MAX_BATCH} readings, got {len(items)}", loc=["body"])
    with decode.gc_paused():
        return store_decoded(db=db, event_id=event_id, decoded=decode.validate(items), source=source, now=now)


def ingest_body(*, db: Session, event_id: int, body: bytes, content_type: str = "application/json",
                source: str = "", now: datetime | None = None, devices: dict[str, _Dev] | None = None) -> Outcome:
    """Check and store a JSON array, ``{"readings": [...]}`` or NDJSON body, validated from the bytes.

    Raises :class:`Invalid` when the body as a whole is not JSON or not one of those shapes. ``devices``: the
    event's devices (:func:`event_devices`) when the caller read them already, in a read transaction (on
    SQLite the write transaction of ``db`` is then spent on the writes alone).
    """
    with decode.gc_paused():
        decoded = decode.decode_body(body, content_type)
        if decoded.size > MAX_BATCH:
            raise Invalid(f"a batch holds at most {MAX_BATCH} readings, got {decoded.size}", loc=["body"])
        out = store_decoded(db=db, event_id=event_id, decoded=decoded, source=source, now=now, devices=devices)
        # freed while the collector is paused: freeing lowers its allocation count again, so that enabling it
        # does not start a collection that walks the batch's objects (or, promoted, every object of the process)
        del decoded
    return out


def store_decoded(*, db: Session, event_id: int, decoded: Decoded, source: str = "",
                  now: datetime | None = None, devices: dict[str, _Dev] | None = None) -> Outcome:
    """Check validated items against the event's devices (read from ``db`` unless given) and store the good
    ones."""
    now = now or utcnow()
    if devices is None:
        devices = event_devices(db=db, event_id=event_id)
    out = Outcome(rejected=list(decoded.rejected))
    reject = out.reject
    received, source = store.stored_time(now), source[:80]
    newest_ok, oldest_ok = store.stored_time(now + MAX_FUTURE), store.stored_time(now - MAX_PAST)
    newest: dict[int, store.Row] = {}  # device id -> its newest reading in the batch
    newest_get = newest.get
    taken = 0
    dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    fromiso = datetime.fromisoformat
    device = devices.get
    keyed = any(item.get("idempotency_key") is not None for _, item in decoded.items)
    with store.readings(db=db, event_id=event_id, received=received, source=source, keyed=keyed) as sink:
        add = sink.add
        for i, item in decoded.items:
            dev = device(item["sensor"])
            if dev is None:
                reject(i, ["body", i, "sensor"], f"unknown sensor {item['sensor']!r} in event {event_id}")
                continue
            dev_id, zone_id, low, high, _, _ = dev
            value = item.get("value")
            values = item.get("values")
            if value is None and not values:
                reject(i, ["body", i], "a reading needs value or values")
                continue
            at = item["at"]
            stamp: str | None = None
            # the usual form, YYYY-MM-DDTHH:MM:SS.ffffff+00:00 (or ...Z): checked by the parser, stored by slicing
            if type(at) is str and at[19:20] == "." and ((tail := at[26:]) == "+00:00" or tail == "Z"):
                try:
                    fromiso(at)
                    stamp, shown = at[:10] + " " + at[11:26], at
                except ValueError:
                    pass
            if stamp is None:
                stamp, shown = _stamp(at)
                if stamp is None:
                    reject(i, ["body", i, "at"], shown)
                    continue
            if stamp > newest_ok:
                reject(i, ["body", i, "at"], f"time {shown} is in the future (clock error?)")
                continue
            if stamp < oldest_ok:
                reject(i, ["body", i, "at"], f"time {shown} is more than {MAX_PAST.days} days old")
                continue
            if (values or value is not None and not low <= value <= high) and (
                    bad := _impossible(dev, value, values)) is not None:
                reject(i, ["body", i, bad[0]], bad[1])
                continue
            row = (dev_id, zone_id, stamp, value, dumps(values) if values else None, item.get("idempotency_key"))
            add(row)
            taken += 1
            last = newest_get(dev_id)
            if last is None or stamp >= last[2]:
                newest[dev_id] = row
    if decoded.rejected:
        out.rejected.sort(key=lambda r: r["index"])
    stored = sink.stored
    out.accepted, out.duplicates = stored, taken - stored
    latest = list(newest.values())
    store.upsert_latest(db=db, event_id=event_id, received=received, rows=latest)
    if stored:  # every door ends here: the warning watcher hears of it the same way (after commit)
        cause = events.current_cause(db) or events.new_id("batch")
        with events.caused_by(db, cause, db.info.get("parent")):  # the session's cause is left as it was
            events.record(db, events.ReadingsStored(
                event_id=event_id, at=now, actor=str(db.info.get("actor", "system")), source=source,
                accepted=stored, cause=cause, device_ids=tuple(r[0] for r in latest),
                zone_ids=tuple(sorted({r[1] for r in latest if r[1] is not None})),
                newest=tuple((r[0], r[2], r[3]) for r in latest)))
    return out


def recent(*, db: Session, event_id: int, device_id: int | None = None, zone_id: int | None = None,
           since: datetime | None = None, limit: int = 1000) -> Sequence[Reading]:
    """The readings stored last, newest first, optionally for one device or zone and taken after ``since``.

    Ordered by arrival (the row id), which the store keeps without a time index per event.
    """
    stmt = select(Reading).where(Reading.event_id == event_id)
    if device_id is not None:
        stmt = stmt.where(Reading.device_id == device_id)
    if zone_id is not None:
        stmt = stmt.where(Reading.zone_id == zone_id)
    if since is not None:
        stmt = stmt.where(Reading.at > since)
    return db.execute(stmt.order_by(Reading.id.desc()).limit(limit)).scalars().all()


def dead_letters(*, db: Session, event_id: int | None = None, source: str | None = None,
                 before_id: int | None = None, limit: int = 100) -> Sequence[DeadLetter]:
    """Kept messages, newest first; ``before_id`` pages back."""
    stmt = select(DeadLetter)
    if event_id is not None:
        stmt = stmt.where(DeadLetter.event_id == event_id)
    if source is not None:
        stmt = stmt.where(DeadLetter.source == source)
    if before_id is not None:
        stmt = stmt.where(DeadLetter.id < before_id)
    return db.execute(stmt.order_by(DeadLetter.id.desc()).limit(limit)).scalars().all()
