"""A small site built through the services: one event, a 100 m x 100 m zone, cameras and sensors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from anbao.core import crud
from anbao.core.db import transaction
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.venue import service as venues


@dataclass(frozen=True)
class Site:
    event_id: int
    event_code: str
    zone_id: int
    devices: dict[str, int]  # code -> id


def build_site(sessions: sessionmaker[Session], kinds: dict[str, str] | None = None) -> Site:
    """An event with zone Z (10,000 m2) and devices by code -> kind (default: cameras C1, C2, gas G1)."""
    kinds = kinds or {"C1": "video_count", "C2": "video_count", "G1": "gas", "X1": "smoke"}
    with transaction(sessions, actor="test") as db:
        ev = events.create(db=db, data=EventCreate(code=f"S{uuid.uuid4().hex[:6]}", name="site", kind="other"))
        venue = crud.create_row(db=db, kind=venues.VENUES, event_id=ev.id,
                                data={"code": "V", "name": "v", "crs": "local"})
        zone = crud.create_row(db=db, kind=venues.ZONES, event_id=ev.id, data={
            "venue_id": venue.id, "code": "Z", "name": "内场", "kind": "standing", "ring": 1,
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]]}})
        rows = crud.create_rows(db=db, kind=venues.DEVICES, event_id=ev.id, items=[
            {"venue_id": venue.id, "code": code, "name": code, "kind": kind, "lon": 1.0, "lat": 1.0,
             "zone_id": zone.id} for code, kind in kinds.items()])
        return Site(event_id=ev.id, event_code=ev.code, zone_id=zone.id, devices={d.code: d.id for d in rows})


@pytest.fixture
def site(sessions: sessionmaker[Session]) -> Site:
    return build_site(sessions)
