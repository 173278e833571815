"""The command map's data 一张图: zones, gates, posts and devices of an event as one GeoJSON FeatureCollection,
and the fast-changing part (gate queues, device health) as a compact status.

Zones keep their stored geometry (WGS84 lon/lat, or metres for a ``crs: "local"`` venue); gates,
posts and devices become Points. Every feature carries ``properties.layer`` (zone, gate, post,
device) and the row's id, so the browser can join live messages (zone-state, sensor-health,
warning) to map objects.

Device health follows the warning watcher's wording (``alert/flows.py``): ``ok`` when the newest
reading reached the server less than 60 s ago, ``stale`` under 120 s, ``silent`` beyond; ``none``
for a device that never reported (e.g. a camera without person analytics).

A post's ``present`` counts the officers of the units whose newest position (from the phone app or
the demo's patrols) is at most ``PRESENT_FRESH_S`` old and within ``PRESENT_RADIUS_M`` of that post,
each unit counted at its nearest post only; ``null`` for a venue drawn in local metres (phone
positions are WGS-84 and cannot be compared). Rostered shifts will add who should be there. A partner
agency's user counts and names only the units it may see (:mod:`anbao.org.scope`).

A gate counter belongs to the gate named in ``properties.gate``, else to the nearest gate of its
zone (the simulator's rule); its newest ``values.queue`` (persons) and ``values.wait_s`` (seconds)
are the gate's queue.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from pydantic_core import to_json
from shapely.geometry import shape
from shapely.ops import polylabel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from anbao.core.time import utcnow
from anbao.crowd.live import DeviceNow
from anbao.crowd.state import DeviceReading, latest
from anbao.incident.service import at_posts, latest_positions
from anbao.org.models import Person
from anbao.org.scope import EVERY_UNIT, UnitScope
from anbao.venue.models import Device, Gate, Post, Venue, Zone

OK_S, STALE_S = 60.0, 120.0
SINCE_SLACK = timedelta(seconds=10)


@dataclass(frozen=True)
class Presence:
    post_id: int
    present: int  # officers
    units: tuple[str, ...]  # call signs


def presence(*, db: Session, event_id: int, posts: list[Any], now: datetime,
             units: UnitScope = EVERY_UNIT) -> dict[int, Presence] | None:
    """Officers at each post now, from the newest positions of the units in ``units`` (see the module notes);
    None for local venues."""
    if db.execute(select(Venue.id).where(Venue.event_id == event_id, Venue.crs == "local")).first() is not None:
        return None
    out = {p.id: Presence(p.id, 0, ()) for p in posts}
    fixes = {f["unit_id"]: f for f in units.keep(latest_positions(db=db, event_id=event_id), lambda f: f["unit_id"])}
    where = at_posts(posts, fixes, now)
    if not where:
        return out
    size = dict(db.execute(select(Person.unit_id, func.count()).where(Person.event_id == event_id)
                           .group_by(Person.unit_id)).all())
    for unit_id in sorted(where, key=lambda u: fixes[u]["call_sign"]):
        before = out[where[unit_id].id]
        out[before.post_id] = Presence(before.post_id, before.present + max(1, int(size.get(unit_id, 0))),
                                       (*before.units, fixes[unit_id]["call_sign"]))
    return out


def health(reading: DeviceReading | None, now: datetime) -> str:
    """ok | stale | silent | none (never reported)."""
    if reading is None:
        return "none"
    silence = (now - reading.received_at).total_seconds()
    return "ok" if silence < OK_S else "stale" if silence < STALE_S else "silent"


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _feature(geometry: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": f"{props['layer']}:{props['id']}", "geometry": geometry, "properties": props}


def gate_counters(gates: list[Any], devices: list[Any]) -> dict[int, int]:
    """gate counter device id -> gate id."""
    by_code = {g.code: g for g in gates}
    by_zone: dict[int | None, list[Any]] = {}
    for g in gates:
        by_zone.setdefault(g.zone_id, []).append(g)
    out: dict[int, int] = {}
    for d in devices:
        if d.kind != "gate_counter":
            continue
        named = (d.properties or {}).get("gate")
        if named and named in by_code:
            out[d.id] = by_code[named].id
        elif by_zone.get(d.zone_id):
            near = min(by_zone[d.zone_id], key=lambda g: ((g.lon - d.lon) ** 2 + (g.lat - d.lat) ** 2, g.code))
            out[d.id] = near.id
    return out


def _queue(reading: DeviceReading | None) -> tuple[float | None, float | None]:
    if reading is None or not isinstance(reading.values, dict):
        return None, None
    q, w = reading.values.get("queue"), reading.values.get("wait_s")
    return (float(q) if isinstance(q, int | float) else None, float(w) if isinstance(w, int | float) else None)


@dataclass(frozen=True)
class GateQueue:
    gate_id: int
    queue: float | None
    wait_s: float | None
    at: datetime | None


def _gate_queues(gate_of: dict[int, int], newest: dict[int, DeviceReading]) -> dict[int, GateQueue]:
    """gate id -> the queue of its busiest counter (the newest reading of each counter)."""
    out: dict[int, GateQueue] = {}
    for device_id, gate_id in gate_of.items():
        q, w = _queue(newest.get(device_id))
        if q is None and w is None:
            continue
        seen = out.get(gate_id)
        if seen is None or (q or 0) > (seen.queue or 0):
            out[gate_id] = GateQueue(gate_id, q, w, newest[device_id].at)
    return out


def status(*, db: Session, event_id: int, now: datetime, units: UnitScope = EVERY_UNIT,
           since: datetime | None = None, kept: Mapping[int, DeviceNow] | None = None) -> dict[str, Any]:
    """Gate queues and device health now: the part of the map that changes without a zone-state message.

    ``since`` (the ``at`` of the caller's previous status): only the devices whose health or value may have
    changed after it are listed (issue 14: 20,000 devices every 5 s per screen): a reading received after it,
    or a health boundary (``OK_S``, ``STALE_S`` after the newest reading) passed after it. Gates and posts are
    always listed (they are few). ``kept``: the devices' newest readings as the warning engine keeps them in
    memory (:meth:`anbao.alert.flows.Watcher.live_devices`), read from storage when None.
    """
    gates = db.execute(select(Gate).where(Gate.event_id == event_id)).scalars().all()
    counters = db.execute(select(Device.id, Device.kind, Device.properties, Device.zone_id, Device.lon, Device.lat)
                          .where(Device.event_id == event_id, Device.kind == "gate_counter")).all()
    newest = ({i: _reading(d) for i, d in kept.items() if d.received is not None and d.at is not None}
              if kept is not None else
              {r.device_id: r for r in latest(db=db, event_id=event_id, json_kinds=("gate_counter",))})
    queues = _gate_queues(gate_counters(list(gates), list(counters)), newest)
    posts = db.execute(select(Post).where(Post.event_id == event_id).order_by(Post.code)).scalars().all()
    here = presence(db=db, event_id=event_id, posts=list(posts), now=now, units=units)
    device_ids = db.execute(select(Device.id).where(Device.event_id == event_id).order_by(Device.code)).scalars()
    # a reading is stamped when received, before it is stored and before the engine has it: ``since`` is taken
    # back by SINCE_SLACK so that one received before the previous answer and visible only after it is listed
    after = since - SINCE_SLACK if since is not None else None
    devices = []
    for device_id in device_ids:
        r = newest.get(device_id)
        if after is not None and not _moved(r, after, now):
            continue
        devices.append({"device_id": device_id, "health": health(r, now),
                        "last_at": r.received_at if r is not None else None,
                        "value": r.value if r is not None else None})
    return {
        "posts": [{"post_id": p.id, "present": here[p.id].present if here else None,
                   "units": list(here[p.id].units) if here else []} for p in posts],
        "at": now, "since": since,
        "gates": [{"gate_id": q.gate_id, "queue": q.queue, "wait_s": q.wait_s, "at": q.at} for q in queues.values()],
        "devices": devices,
    }


def _reading(d: DeviceNow) -> DeviceReading:
    return DeviceReading(device_id=d.id, code=d.code, kind=d.kind, zone_id=d.zone_id, at=d.at_dt, value=d.value,
                         values=d.values, received_at=d.received_dt, properties=d.properties)


def _moved(reading: DeviceReading | None, since: datetime, now: datetime) -> bool:
    """True when the device's health or value may differ from what it was at ``since``."""
    if reading is None:
        return False  # never reported: "none" then and now
    got = reading.received_at
    return got > since or any(since < got + timedelta(seconds=bound) <= now for bound in (OK_S, STALE_S))


#: per event, the static map's JSON body of one version (tag): built once per version for every screen (at 2,000
#: zones and 20,000 devices a build is 6.8 MB and about 2 s of the server's one core)
_STATIC: OrderedDict[int, tuple[str, bytes]] = OrderedDict()
_STATIC_MAX = 16
_STATIC_LOCK = threading.Lock()


def static_body(*, db: Session, event_id: int, tag: str) -> bytes:
    """The static map (:func:`collection` with ``live=False``) as JSON, of the version ``tag``
    (:func:`static_version`), kept for the next screen that asks."""
    with _STATIC_LOCK:
        got = _STATIC.get(event_id)
        if got is not None and got[0] == tag:
            _STATIC.move_to_end(event_id)
            return got[1]
    body = to_json(collection(db=db, event_id=event_id, now=utcnow(), live=False))
    with _STATIC_LOCK:
        _STATIC[event_id] = (tag, body)
        _STATIC.move_to_end(event_id)
        while len(_STATIC) > _STATIC_MAX:
            _STATIC.popitem(last=False)
    return body


def static_version(*, db: Session, event_id: int) -> str:
    """A tag of the map's static layers (venues, zones, gates, posts, devices): it changes whenever one of them
    is added, edited or deleted (count, sum of ids and newest ``updated_at`` per table)."""
    parts = [select(func.count(), func.sum(t.id), func.max(t.updated_at)).where(t.event_id == event_id)
             for t in (Venue, Zone, Gate, Post, Device)]
    rows = [tuple(db.execute(q).one()) for q in parts]
    return hashlib.sha256(repr((event_id, rows)).encode()).hexdigest()[:24]


def label_point(geometry: dict[str, Any]) -> list[float] | None:
    """A point well inside the zone for its label (pole of inaccessibility of its largest part): ring-shaped
    zones such as concourses and stands have their centroid outside themselves."""
    try:
        geom = shape(geometry)
        if geom.geom_type == "MultiPolygon":
            geom = max(geom.geoms, key=lambda g: g.area)
        if geom.geom_type != "Polygon" or geom.is_empty:
            return None
        minx, miny, maxx, maxy = geom.bounds
        p = polylabel(geom, tolerance=max(maxx - minx, maxy - miny) / 200)
        return [round(p.x, 7), round(p.y, 7)]
    except (shapely.errors.ShapelyError, ValueError, TypeError):
        return None


#: label points by zone id and geometry (issue 14: a pole of inaccessibility per zone and map request was
#: most of the map's cost at 2,000 zones); bounded, a changed geometry gets a new entry
_LABELS: OrderedDict[tuple[int, str], list[float] | None] = OrderedDict()
_LABELS_MAX = 20_000


_LABELS_LOCK = threading.Lock()


def _label(zone_id: int, geometry: dict[str, Any]) -> list[float] | None:
    key = (zone_id, json.dumps(geometry, separators=(",", ":")))
    with _LABELS_LOCK:
        if key in _LABELS:
            _LABELS.move_to_end(key)
            return _LABELS[key]
    point = label_point(geometry)
    with _LABELS_LOCK:
        _LABELS[key] = point
        if len(_LABELS) > _LABELS_MAX:
            _LABELS.popitem(last=False)
    return point


def _bbox(coords: list[tuple[float, float]]) -> list[float] | None:
    if not coords:
        return None
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    return [min(xs), min(ys), max(xs), max(ys)]


def _positions(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []

    def walk(c: Any) -> None:
        if isinstance(c, list | tuple) and c and isinstance(c[0], int | float):
            out.append((float(c[0]), float(c[1])))
        elif isinstance(c, list | tuple):
            for item in c:
                walk(item)

    walk(geometry.get("coordinates", []))
    return out


def collection(*, db: Session, event_id: int, now: datetime, units: UnitScope = EVERY_UNIT,
               live: bool = True) -> dict[str, Any]:
    """The event's map as a FeatureCollection (zones first, largest first, so smaller zones draw on top).

    ``live=False``: the static layers only, without gate queues, post presence and device health (a screen
    caches them by :func:`static_version` and takes the rest from :func:`status` and the live stream)."""
    venues = db.execute(select(Venue).where(Venue.event_id == event_id).order_by(Venue.id)).scalars().all()
    zones = db.execute(select(Zone).where(Zone.event_id == event_id)).scalars().all()
    gates = db.execute(select(Gate).where(Gate.event_id == event_id).order_by(Gate.code)).scalars().all()
    posts = db.execute(select(Post).where(Post.event_id == event_id).order_by(Post.code)).scalars().all()
    # rows, not ORM objects: 20,000 devices at L (issue 14); properties (JSON) of gate counters only
    props = case((Device.kind == "gate_counter", Device.properties), else_=None)
    devices = db.execute(select(Device.id, Device.code, Device.name, Device.kind, Device.zone_id, Device.lon,
                                Device.lat, Device.unit_of_measure, Device.status, props.label("properties"))
                         .where(Device.event_id == event_id).order_by(Device.code)).all()
    newest = {r.device_id: r for r in latest(db=db, event_id=event_id, json_kinds=("gate_counter",))} if live else {}
    gate_of = gate_counters(list(gates), list(devices))
    queues = _gate_queues(gate_of, newest)
    code_of = {d.id: d.code for d in devices}
    counters: dict[int, list[str]] = {}
    for device_id, gate_id in gate_of.items():
        counters.setdefault(gate_id, []).append(code_of[device_id])
    here = presence(db=db, event_id=event_id, posts=list(posts), now=now, units=units) if live else {}
    features: list[dict[str, Any]] = []
    extent: list[tuple[float, float]] = []
    for z in sorted(zones, key=lambda z: (-z.area_m2, z.code)):
        extent += _positions(z.geometry)
        features.append(_feature(z.geometry, {
            "layer": "zone", "id": z.id, "code": z.code, "name": z.name, "kind": z.kind, "ring": z.ring,
            "area_m2": z.area_m2, "parent_id": z.parent_id, "venue_id": z.venue_id,
            "standing_capacity": z.standing_capacity, "seated_capacity": z.seated_capacity,
            "label": _label(z.id, z.geometry)}))
    for g in gates:
        q = queues.get(g.id)
        extent.append((g.lon, g.lat))
        features.append(_feature(_point(g.lon, g.lat), {
            "layer": "gate", "id": g.id, "code": g.code, "name": g.name, "kind": g.kind, "zone_id": g.zone_id,
            "lanes": g.lanes, "width_m": g.width_m, "direction": g.direction, "counters": counters.get(g.id, []),
            "queue": q.queue if q else None, "wait_s": q.wait_s if q else None}))
    for p in posts:
        features.append(_feature(_point(p.lon, p.lat), {
            "layer": "post", "id": p.id, "code": p.code, "name": p.name, "zone_id": p.zone_id,
            "police_type": p.police_type, "skills": list(p.skills or []), "required": p.min_staff,
            "present": here[p.id].present if here else None, "units": list(here[p.id].units) if here else [],
            "critical": p.critical}))
    for d in devices:
        r = newest.get(d.id)
        features.append(_feature(_point(d.lon, d.lat), {
            "layer": "device", "id": d.id, "code": d.code, "name": d.name, "kind": d.kind, "zone_id": d.zone_id,
            "unit": d.unit_of_measure, "configured": d.status, "health": health(r, now),
            "last_at": r.received_at.isoformat().replace("+00:00", "Z") if r else None,
            "value": r.value if r else None, "gate_id": gate_of.get(d.id)}))
    if not live:
        for f in features:
            for key in LIVE_KEYS.get(f["properties"]["layer"], ()):
                del f["properties"][key]
    crs = venues[0].crs if venues else "wgs84"
    ref = [venues[0].ref_lon, venues[0].ref_lat] if venues and venues[0].ref_lon is not None else None
    out = {"type": "FeatureCollection", "crs": crs, "ref": ref, "bbox": _bbox(extent),
           "venues": [{"id": v.id, "code": v.code, "name": v.name, "crs": v.crs} for v in venues],
           "features": features}
    if live:
        out["at"] = now.isoformat().replace("+00:00", "Z")
    return out


#: the properties of each layer that :func:`status` keeps current (left out of the static map)
LIVE_KEYS = {"gate": ("queue", "wait_s"), "post": ("present", "units"), "device": ("health", "last_at", "value")}
