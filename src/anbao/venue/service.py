"""Venue services: validation of geometry and references, and the generic row kinds."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.core.geo import CRS, area_m2, check_geometry
from anbao.venue.models import Device, Gate, Post, Venue, Zone


def _venue_for(db: Session, event_id: int, data: dict[str, Any], current: Any) -> Venue:
    venue_id = data.get("venue_id", current.venue_id if current is not None else None)
    venue = crud.ref(db=db, kind=VENUES, event_id=event_id, row_id=venue_id, field_name="venue_id")
    assert venue is not None
    return venue


def _reference(venue: Venue) -> tuple[float, float] | None:
    if venue.crs == "wgs84" and venue.ref_lon is not None and venue.ref_lat is not None:
        return (venue.ref_lon, venue.ref_lat)
    return None


def check_point(venue: Venue, lon: float, lat: float) -> None:
    """A device, gate or post position must be valid in the venue's CRS and near the venue."""
    try:
        check_geometry({"type": "Point", "coordinates": [lon, lat]}, crs=_crs(venue), allowed=("Point",),
                       reference=_reference(venue))
    except Invalid as exc:
        field = "lon" if exc.message.startswith("position 0: longitude") else "lat"
        raise Invalid(exc.message.replace("position 0: ", ""), loc=["body", field]) from exc


def _crs(venue: Venue) -> CRS:
    return "local" if venue.crs == "local" else "wgs84"


def prepare_venue(*, db: Session, event_id: int, data: dict[str, Any], current: Venue | None) -> dict[str, Any]:
    return data


def prepare_zone(*, db: Session, event_id: int, data: dict[str, Any], current: Zone | None) -> dict[str, Any]:
    venue = _venue_for(db, event_id, data, current)
    out = dict(data)
    if "geometry" in data:
        if data["geometry"] is None:
            raise Invalid("geometry cannot be null", loc=["body", "geometry"])
        try:
            checked = check_geometry(data["geometry"], crs=_crs(venue), reference=_reference(venue))
        except Invalid as exc:
            raise Invalid(exc.message, loc=["body", "geometry"]) from exc
        out["geometry"] = checked.geojson
        out["area_m2"] = round(area_m2(checked.geometry, crs=_crs(venue)), 2)
    if data.get("parent_id") is not None:
        parent = crud.ref(db=db, kind=ZONES, event_id=event_id, row_id=data["parent_id"], field_name="parent_id")
        if current is not None and parent is not None:
            node: Zone | None = parent
            while node is not None:
                if node.id == current.id:
                    raise Invalid("parent_id would make a cycle of zones", loc=["body", "parent_id"])
                node = db.get(Zone, node.parent_id) if node.parent_id else None
    for key in ("kind", "ring", "name"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    return out


def _prepare_point(db: Session, event_id: int, data: dict[str, Any], current: Any) -> dict[str, Any]:
    venue = _venue_for(db, event_id, data, current)
    for key in ("lon", "lat", "name", "kind"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    if "lon" in data or "lat" in data:
        lon = data.get("lon", current.lon if current is not None else None)
        lat = data.get("lat", current.lat if current is not None else None)
        if lon is None or lat is None:
            raise Invalid("a position needs both lon and lat", loc=["body", "lat" if lon is not None else "lon"])
        check_point(venue, float(lon), float(lat))
    crud.ref(db=db, kind=ZONES, event_id=event_id, row_id=data.get("zone_id"), field_name="zone_id")
    return data


def prepare_gate(*, db: Session, event_id: int, data: dict[str, Any], current: Gate | None) -> dict[str, Any]:
    return _prepare_point(db, event_id, data, current)


def prepare_post(*, db: Session, event_id: int, data: dict[str, Any], current: Post | None) -> dict[str, Any]:
    return _prepare_point(db, event_id, data, current)


def prepare_device(*, db: Session, event_id: int, data: dict[str, Any], current: Device | None) -> dict[str, Any]:
    return _prepare_point(db, event_id, data, current)


VENUES = crud.Kind(model=Venue, label="venue", prepare=prepare_venue)
ZONES = crud.Kind(model=Zone, label="zone", prepare=prepare_zone, order_by=("ring", "code"))
GATES = crud.Kind(model=Gate, label="gate", prepare=prepare_gate, order_by=("code",))
POSTS = crud.Kind(model=Post, label="post", prepare=prepare_post, order_by=("code",))
DEVICES = crud.Kind(model=Device, label="device", prepare=prepare_device, order_by=("code",))


def zone_at(*, db: Session, event_id: int, lon: float, lat: float) -> int | None:
    """The smallest zone of the event's WGS-84 venues that holds the point, if any."""
    point = Point(lon, lat)
    best: tuple[float, int] | None = None
    rows = db.execute(select(Zone.id, Zone.geometry, Zone.area_m2).join(Venue, Venue.id == Zone.venue_id)
                      .where(Zone.event_id == event_id, Venue.crs == "wgs84")).all()
    for zone_id, geometry, area in rows:
        if geometry and shape(geometry).covers(point) and (best is None or area < best[0]):
            best = (area, zone_id)
    return best[1] if best else None
