"""Incident services (keyword-only): field reports and unit positions, both idempotent by ``client_key``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from pyproj import Geod
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert.models import EarlyWarning
from anbao.core import crud, events, outbox
from anbao.core.errors import Invalid
from anbao.core.time import field_time_problem
from anbao.core.vocab import INCIDENT_GRADES, INCIDENT_SOURCES, INCIDENT_TYPES
from anbao.incident import lifecycle
from anbao.incident.models import Incident, IncidentLog, IncidentPhoto, UnitPosition
from anbao.incident.schemas import IncidentReport, PositionIn, decode_photo
from anbao.org import service as org
from anbao.org.models import Unit
from anbao.venue import service as venue


def payload(i: Incident, has_photo: bool) -> dict[str, Any]:
    return {**lifecycle.incident_payload(i), "client_key": i.client_key, "accuracy_m": i.accuracy_m,
            "unit_id": i.unit_id, "has_photo": has_photo}


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
    crud.ref(db=db, kind=venue.ZONES, event_id=event_id, row_id=data.zone_id, field_name="zone_id")
    if data.warning_id is not None:
        warning = db.get(EarlyWarning, data.warning_id)
        if warning is None or warning.event_id != event_id:
            raise Invalid(f"warning {data.warning_id} does not exist in this event", loc=["body", "warning_id"])
    if (data.lon is None) != (data.lat is None):
        raise Invalid("give both lon and lat, or neither", loc=["body", "lat" if data.lat is None else "lon"])
    at = data.at or now
    if (problem := field_time_problem(at, now)) is not None:  # the one rule for times from the field
        raise Invalid(problem, loc=["body", "at"])
    zone_id = venue.zone_at(db=db, event_id=event_id, lon=data.lon, lat=data.lat) \
        if data.lon is not None and data.lat is not None else None
    incident = Incident(event_id=event_id, client_key=data.client_key, type=data.type, grade=data.grade,
                        source=data.source, status="new", text=data.text, lon=data.lon, lat=data.lat,
                        accuracy_m=data.accuracy_m, zone_id=zone_id if zone_id is not None else data.zone_id,
                        unit_id=data.unit_id, reported_by=by, reported_at=at, warning_id=data.warning_id,
                        police_type=data.police_type or lifecycle.lead_for(data.type))
    db.add(incident)
    db.flush()
    if data.photo is not None:
        content_type, blob = decode_photo(data.photo)
        db.add(IncidentPhoto(incident_id=incident.id, content_type=content_type, data=blob))
        db.flush()
    type_zh = INCIDENT_TYPES[incident.type][0]
    source_zh = INCIDENT_SOURCES[incident.source][0]
    line = f"{by} 上报{type_zh}警情（{source_zh}）" + (f"：{incident.text[:200]}" if incident.text else "")
    db.add(IncidentLog(event_id=event_id, incident_id=incident.id, at=now, kind="report", by=by[:120],
                       text=f"{source_zh}：{type_zh}，{INCIDENT_GRADES[incident.grade][0]}"
                       + (f"，{incident.text[:500]}" if incident.text else ""), after={"status": "new"}))
    events.record(db, events.IncidentReported(
        event_id=event_id, at=now, actor=by, incident_id=incident.id, step="reported", line=line,
        incident=payload(incident, data.photo is not None),
        extra={"zone_id": incident.zone_id, "lon": data.lon, "lat": data.lat}))
    lifecycle.apply_plans(db=db, incident=incident, by=by, now=now)
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
    if (problem := field_time_problem(data.at, now)) is not None:
        raise Invalid(problem, loc=["body", "at"])
    row = UnitPosition(event_id=event_id, unit_id=data.unit_id, client_key=data.client_key, at=data.at, lon=data.lon,
                       lat=data.lat, accuracy_m=data.accuracy_m, received_at=now, reported_by=by)
    db.add(row)
    db.flush()
    outbox.post(db, f"event/{event_id}/unit-position",
                {"unit_id": row.unit_id, "call_sign": unit.call_sign if unit else "", "lon": row.lon, "lat": row.lat,
                 "accuracy_m": row.accuracy_m, "at": row.at.isoformat()})
    return row, True


def add_positions(*, db: Session, event_id: int, items: Sequence[PositionIn], by: str, now: datetime) -> int:
    """Store many positions at once (a gateway or the simulator): one query for known keys and units, one
    insert; keys already stored are skipped. Returns how many were new. An unknown unit is Invalid."""
    if not items:
        return 0
    known = set(db.execute(select(UnitPosition.client_key).where(
        UnitPosition.event_id == event_id, UnitPosition.client_key.in_([i.client_key for i in items]))).scalars())
    fresh = [i for i in items if i.client_key not in known]
    signs = dict(db.execute(select(Unit.id, Unit.call_sign).where(
        Unit.event_id == event_id, Unit.id.in_({i.unit_id for i in fresh}))).all())
    for k, i in enumerate(fresh):
        if i.unit_id not in signs:
            raise Invalid(f"unit {i.unit_id} does not exist in this event", loc=["body", k, "unit_id"])
        if (problem := field_time_problem(i.at, now)) is not None:
            raise Invalid(problem, loc=["body", k, "at"])
    db.add_all(UnitPosition(event_id=event_id, unit_id=i.unit_id, client_key=i.client_key, at=i.at, lon=i.lon,
                            lat=i.lat, accuracy_m=i.accuracy_m, received_at=now, reported_by=by) for i in fresh)
    db.flush()
    for i in fresh:
        outbox.post(db, f"event/{event_id}/unit-position",
                    {"unit_id": i.unit_id, "call_sign": signs[i.unit_id], "lon": i.lon, "lat": i.lat,
                     "accuracy_m": i.accuracy_m, "at": i.at.isoformat()})
    return len(fresh)


def latest_positions(*, db: Session, event_id: int) -> list[dict[str, Any]]:
    """The newest position of every unit that has sent one.

    One index probe per unit (``ix_unit_position_unit_at``), not a scan of the whole track: a day of
    positions every few seconds is hundreds of thousands of rows.
    """
    newest = (select(UnitPosition.id).where(UnitPosition.unit_id == Unit.id)
              .order_by(UnitPosition.at.desc(), UnitPosition.id.desc()).limit(1).correlate(Unit).scalar_subquery())
    rows = db.execute(select(UnitPosition, Unit.call_sign).join(Unit, UnitPosition.id == newest)
                      .where(Unit.event_id == event_id).order_by(Unit.id)).all()
    return [{"unit_id": pos.unit_id, "call_sign": call_sign, "lon": pos.lon, "lat": pos.lat,
             "accuracy_m": pos.accuracy_m, "at": pos.at} for pos, call_sign in rows]


#: a unit stands at a post when its newest fix is at most this old and this close to the post
PRESENT_RADIUS_M, PRESENT_FRESH_S = 75.0, 300.0
GEOD = Geod(ellps="WGS84")


def at_posts(posts: Sequence[Any], fixes: dict[int, dict[str, Any]], now: datetime) -> dict[int, Any]:
    """unit id -> the post it stands at now: a fix at most ``PRESENT_FRESH_S`` old within ``PRESENT_RADIUS_M``
    of its nearest post (posts: rows with lon, lat; fixes: unit id -> ``latest_positions`` item)."""
    fresh = [(uid, f) for uid, f in fixes.items() if 0 <= (now - f["at"]).total_seconds() <= PRESENT_FRESH_S]
    if not posts or not fresh:
        return {}
    n, m = len(posts), len(fresh)
    plon = np.tile([p.lon for p in posts], m)
    plat = np.tile([p.lat for p in posts], m)
    flon = np.repeat([f["lon"] for _, f in fresh], n)
    flat = np.repeat([f["lat"] for _, f in fresh], n)
    _, _, dist = GEOD.inv(flon, flat, plon, plat)
    dist = np.asarray(dist).reshape(m, n)
    nearest = dist.argmin(axis=1)
    return {uid: posts[int(k)] for (uid, _), k, row in zip(fresh, nearest, dist, strict=True)
            if row[k] <= PRESENT_RADIUS_M}
