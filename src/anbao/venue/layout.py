"""The event as the simulator sees it: zones, gates and devices in local metres, loaded from the database.

:func:`load_site` reads an event's zones, gates and devices and projects them to local metres
(venues drawn in local metres stay as they are; WGS84 venues use a transverse-Mercator projection
centred on the venue's reference point, or on the first zone). It also picks the session to play.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core.errors import Invalid, NotFound
from anbao.core.geo import LocalProjection
from anbao.core.time import utcnow
from anbao.event.models import Event
from anbao.venue.models import Device, Gate, Venue, Zone

#: zones the public does not enter
STAFF_KINDS = frozenset({"stage", "service"})
#: zones that hold tickets (seats and standing floors): the destinations of the crowd
DESTINATION_KINDS = frozenset({"stand", "standing"})
PERSON_ANALYTICS = frozenset({"crowd_density", "flow_count", "people_count", "crowd_count"})
COUNT_KINDS = frozenset({"video_count", "camera", "wifi_probe", "bluetooth", "gate_counter"})
#: the simulation starts this long before the show by default
DEFAULT_LEAD = timedelta(minutes=75)


# --------------------------------------------------------------------------- the site, in local metres

@dataclass(frozen=True)
class ZoneSite:
    code: str
    kind: str
    ring: int
    shape: BaseGeometry  # local metres
    area_m2: float
    capacity: int = 0  # seated + standing capacity
    parent: str | None = None


@dataclass(frozen=True)
class GateSite:
    code: str
    kind: str  # gate | checkpoint | exit
    zone: str | None
    x: float
    y: float
    lanes: int = 1
    width_m: float = 1.0
    stair: bool = False
    direction: str = "both"


@dataclass(frozen=True)
class DeviceSite:
    code: str
    kind: str
    zone: str | None
    x: float
    y: float
    properties: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)



def counts_people(d: DeviceSite) -> bool:
    """Whether a device counts persons (cameras only with person analytics, or none declared)."""
    if d.kind != "camera":
        return d.kind in COUNT_KINDS
    analytics = d.properties.get("analytics")
    return not analytics or bool(PERSON_ANALYTICS & set(analytics))


# --------------------------------------------------------------------------- loading from the database

@dataclass(frozen=True)
class Site:
    """What the simulator needs of an event, in local metres."""

    event_id: int
    show_start: datetime
    show_end: datetime
    attendance: int
    zones: tuple[ZoneSite, ...]
    gates: tuple[GateSite, ...]
    devices: tuple[DeviceSite, ...]


class _Projector:
    def __init__(self, venue: Venue | None, fallback: tuple[float, float] | None) -> None:
        self.local = venue is not None and venue.crs == "local"
        ref = (venue.ref_lon, venue.ref_lat) if venue is not None and venue.ref_lon is not None \
            and venue.ref_lat is not None else fallback
        self.proj = LocalProjection(*ref) if ref is not None and not self.local else None

    def geometry(self, geojson: dict[str, Any]) -> BaseGeometry:
        geom = shape(geojson)
        if self.proj is None:
            return geom
        proj = self.proj

        def to_m(xy: np.ndarray) -> np.ndarray:
            x, y = proj.to_metres.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, to_m)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon, lat) if self.proj is None else self.proj.forward(lon, lat)


def load_site(*, db: Session, event_id: int, start: datetime | None = None) -> Site:
    """The event's zones, gates and devices in local metres and the session to simulate.

    The session is the first one that has not ended by ``start`` (default: the first one). An event
    without sessions gets a 3-hour show starting 75 minutes after ``start`` (or now).
    """
    event = db.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    sessions = sorted(event.sessions, key=lambda s: s.start)
    chosen = next((s for s in sessions if start is None or s.end > start), sessions[-1] if sessions else None)
    if chosen is not None:
        show_start, show_end = chosen.start, chosen.end
    else:
        show_start = (start or utcnow()) + DEFAULT_LEAD
        show_end = show_start + timedelta(hours=3)
    venues = {v.id: v for v in db.execute(select(Venue).where(Venue.event_id == event_id)).scalars()}
    rows = db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.code)).scalars().all()
    if not rows:
        raise Invalid(f"活动 {event_id} 没有可模拟的区域，请先导入场馆和区域"
                      f"（event {event_id} has no zones to simulate）")
    fallback = shape(rows[0].geometry).centroid
    projectors = {vid: _Projector(v, (fallback.x, fallback.y)) for vid, v in venues.items()}
    default = _Projector(None, (fallback.x, fallback.y))
    codes = {z.id: z.code for z in rows}
    zones = tuple(ZoneSite(code=z.code, kind=z.kind, ring=z.ring,
                           shape=projectors.get(z.venue_id, default).geometry(z.geometry), area_m2=z.area_m2,
                           capacity=(z.seated_capacity or 0) + (z.standing_capacity or 0),
                           parent=codes.get(z.parent_id) if z.parent_id else None) for z in rows)
    gates = []
    for g in db.execute(select(Gate).where(Gate.event_id == event_id).order_by(Gate.code)).scalars():
        x, y = projectors.get(g.venue_id, default).point(g.lon, g.lat)
        gates.append(GateSite(code=g.code, kind=g.kind, zone=codes.get(g.zone_id) if g.zone_id else None, x=x, y=y,
                              lanes=g.lanes, width_m=g.width_m, stair=g.stair, direction=g.direction))
    devices = []
    for d in db.execute(select(Device).where(Device.event_id == event_id).order_by(Device.code)).scalars():
        x, y = projectors.get(d.venue_id, default).point(d.lon, d.lat)
        devices.append(DeviceSite(code=d.code, kind=d.kind, zone=codes.get(d.zone_id) if d.zone_id else None,
                                  x=x, y=y, properties=dict(d.properties or {})))
    attendance = event.expected_attendance or event.approved_attendance or sum(
        z.capacity for z in zones if z.kind in DESTINATION_KINDS)
    return Site(event_id=event_id, show_start=show_start, show_end=show_end, attendance=int(attendance),
                zones=zones, gates=tuple(gates), devices=tuple(devices))
