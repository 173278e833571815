"""Incident services (keyword-only): field reports and unit positions, both idempotent by ``client_key``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.core import crud, outbox
from anbao.core.errors import Invalid
from anbao.core.vocab import INCIDENT_TYPES
from anbao.incident.models import Incident, IncidentPhoto, UnitPosition
from anbao.incident.schemas import IncidentReport, PositionIn, decode_photo
from anbao.org import service as org
from anbao.org.models import Unit
from anbao.review import service as timeline
from anbao.venue.models import Venue, Zone

MAX_FUTURE = timedelta(minutes=5)


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


def payload(i: Incident, has_photo: bool) -> dict[str, Any]:
    return {"id": i.id, "client_key": i.client_key, "type": i.type, "type_zh": INCIDENT_TYPES[i.type][0],
            "grade": i.grade, "source": i.source, "status": i.status, "text": i.text, "lon": i.lon, "lat": i.lat,
            "accuracy_m": i.accuracy_m, "zone_id": i.zone_id, "unit_id": i.unit_id, "reported_by": i.reported_by,
            "reported_at": i.reported_at.isoformat(), "has_photo": has_photo, "event_id": i.event_id}


def has_photo(*, db: Session, incident_id: int) -> bool:
    return db.get(IncidentPhoto, incident_id) is not None


def by_key(*, db: Session, event_id: int, client_key: str) -> Incident | None:
    return db.execute(select(Incident).where(Incident.event_id == event_id, Incident.client_key == client_key)
                      ).scalars().first()


def report(*, db: Session, event_id: int, data: IncidentReport, by: str, now: datetime) -> tuple[Incident, bool]:
    """Store an officer's report; the same ``client_key`` again returns the stored one (created=False)."""
    found = by_key(db=db, event_id=event_id, client_key=data.client_key)
    if found is not None:
        return found, False
    crud.ref(db=db, kind=org.UNITS, event_id=event_id, row_id=data.unit_id, field_name="unit_id")
    if (data.lon is None) != (data.lat is None):
        raise Invalid("give both lon and lat, or neither", loc=["body", "lat" if data.lat is None else "lon"])
    at = data.at or now
    if at > now + MAX_FUTURE:
        raise Invalid(f"time {at.isoformat()} is in the future (clock error?)", loc=["body", "at"])
    zone_id = zone_at(db=db, event_id=event_id, lon=data.lon, lat=data.lat) \
        if data.lon is not None and data.lat is not None else None
    incident = Incident(event_id=event_id, client_key=data.client_key, type=data.type, grade="ordinary",
                        source="officer", status="new", text=data.text, lon=data.lon, lat=data.lat,
                        accuracy_m=data.accuracy_m, zone_id=zone_id, unit_id=data.unit_id, reported_by=by,
                        reported_at=at)
    db.add(incident)
    db.flush()
    if data.photo is not None:
        content_type, blob = decode_photo(data.photo)
        db.add(IncidentPhoto(incident_id=incident.id, content_type=content_type, data=blob))
        db.flush()
    type_zh = INCIDENT_TYPES[incident.type][0]
    timeline.add(db=db, event_id=event_id, at=now, kind="incident.reported", subject=f"incident:{incident.id}",
                 actor=by, text=f"{by} 上报{type_zh}警情" + (f"：{incident.text[:200]}" if incident.text else ""),
                 data={"zone_id": zone_id, "lon": data.lon, "lat": data.lat})
    outbox.post(db, f"event/{event_id}/incident", payload(incident, data.photo is not None))
    return incident, True


def list_incidents(*, db: Session, event_id: int, status: str | None = None, limit: int = 500,
                   offset: int = 0) -> Sequence[Incident]:
    stmt = select(Incident).where(Incident.event_id == event_id)
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    return db.execute(stmt.order_by(Incident.reported_at.desc(), Incident.id.desc()).limit(limit).offset(offset)
                      ).scalars().all()


def photo_ids(*, db: Session, incident_ids: Sequence[int]) -> set[int]:
    if not incident_ids:
        return set()
    return set(db.execute(select(IncidentPhoto.incident_id).where(IncidentPhoto.incident_id.in_(incident_ids))
                          ).scalars())


def add_position(*, db: Session, event_id: int, data: PositionIn, by: str, now: datetime) -> tuple[UnitPosition, bool]:
    """Store one position of a unit; the same ``client_key`` again is the stored one (created=False)."""
    found = db.execute(select(UnitPosition).where(UnitPosition.event_id == event_id,
                                                  UnitPosition.client_key == data.client_key)).scalars().first()
    if found is not None:
        return found, False
    unit = crud.ref(db=db, kind=org.UNITS, event_id=event_id, row_id=data.unit_id, field_name="unit_id")
    if data.at > now + MAX_FUTURE:
        raise Invalid(f"time {data.at.isoformat()} is in the future (clock error?)", loc=["body", "at"])
    row = UnitPosition(event_id=event_id, unit_id=data.unit_id, client_key=data.client_key, at=data.at, lon=data.lon,
                       lat=data.lat, accuracy_m=data.accuracy_m, received_at=now, reported_by=by)
    db.add(row)
    db.flush()
    outbox.post(db, f"event/{event_id}/unit-position",
                {"unit_id": row.unit_id, "call_sign": unit.call_sign if unit else "", "lon": row.lon, "lat": row.lat,
                 "accuracy_m": row.accuracy_m, "at": row.at.isoformat()})
    return row, True


def latest_positions(*, db: Session, event_id: int) -> list[dict[str, Any]]:
    """The newest position of every unit that has sent one."""
    newest = (select(UnitPosition.unit_id, func.max(UnitPosition.at).label("at"))
              .where(UnitPosition.event_id == event_id).group_by(UnitPosition.unit_id).subquery())
    rows = db.execute(select(UnitPosition, Unit.call_sign)
                      .join(newest, (UnitPosition.unit_id == newest.c.unit_id) & (UnitPosition.at == newest.c.at))
                      .join(Unit, Unit.id == UnitPosition.unit_id)
                      .where(UnitPosition.event_id == event_id).order_by(UnitPosition.unit_id, UnitPosition.id.desc())
                      ).all()
    out: dict[int, dict[str, Any]] = {}
    for pos, call_sign in rows:
        out.setdefault(pos.unit_id, {"unit_id": pos.unit_id, "call_sign": call_sign, "lon": pos.lon, "lat": pos.lat,
                                     "accuracy_m": pos.accuracy_m, "at": pos.at})
    return list(out.values())
