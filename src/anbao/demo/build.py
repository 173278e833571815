"""Demo data: a 50,000-person stadium concert at the Hangzhou Olympic Sports Centre stadium.

:func:`load_demo` creates the event :data:`DEMO_CODE` once, with its venue, three rings of zones,
gates, checkpoints and exits, posts, sensors, cameras and drones, the command tree, units and
people. Every row goes through the domain services (pydantic Create schema, then the service's
``prepare`` checks), so the demo exercises the same validation as user input.

The plan is pure and deterministic (:func:`build_plan`): the geometry is drawn in local metres
(x east, y north) around the stadium centre with shapely and converted to WGS84 lon/lat with
:class:`~anbao.core.geo.LocalProjection`; people come from a fixed-seed generator. The site plan
is schematic: sizes are realistic (bowl 260 m x 300 m, pitch 68 m x 105 m), positions of roads,
car parks and the metro exit are illustrative, not surveyed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from pydantic import BaseModel
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.config import get_settings
from anbao.core import crud
from anbao.core.geo import LocalProjection
from anbao.core.time import utcnow
from anbao.core.vocab import SENSOR_KINDS
from anbao.demo.people import NodeSpec, PersonSpec, UnitSpec, plan_nodes, plan_people, plan_units
from anbao.demo.planning import load_planning
from anbao.demo.roads import store_demo_roads
from anbao.demo.site import PointSpec, ZoneSpec, plan_devices, plan_gates, plan_posts, plan_zones
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.org import service as org
from anbao.org.models import CommandNode, Person, Unit
from anbao.org.schemas import CommandNodeCreate, PersonCreate, UnitCreate
from anbao.venue import service as venues
from anbao.venue.models import Device, Gate, Post, Zone
from anbao.venue.schemas import DeviceCreate, GateCreate, PostCreate, VenueCreate, ZoneCreate

DEMO_CODE = "DEMO-2026-CONCERT"
VENUE_CODE = "HZ-OSC-STADIUM"
#: stadium centre (WGS84 lon, lat): 杭州奥体中心体育场, Binjiang district, south bank of the Qiantang
CENTRE = (120.2290, 30.2297)
SEED = 20261219
TZ = ZoneInfo("Asia/Shanghai")

@dataclass(frozen=True)
class DemoSummary:
    """What the demo event holds (row counts) and whether this call created it."""

    event_id: int
    venue_id: int | None
    created: bool
    zones: int
    gates: int  # all kinds: gate, checkpoint, exit
    posts: int
    sensors: int
    cameras: int
    drones: int
    units: int
    persons: int
    command_nodes: int


# --------------------------------------------------------------------------- the plan

@dataclass(frozen=True)
class DemoPlan:
    event: EventCreate
    venue: VenueCreate
    zones: list[ZoneSpec]
    gates: list[PointSpec]
    posts: list[PointSpec]
    devices: list[PointSpec]
    nodes: list[NodeSpec]
    units: list[UnitSpec]
    people: list[PersonSpec]


def _event() -> EventCreate:
    def at(day: int, hour: int, minute: int) -> datetime:
        return datetime(2026, 12, day, hour, minute, tzinfo=TZ)

    return EventCreate.model_validate(dict(
        code=DEMO_CODE, name="2026 星河巡回演唱会（杭州站）", kind="concert",
        organiser="杭州星河文化演艺有限公司", expected_attendance=50_000, approved_attendance=52_000,
        applied_on=date(2026, 11, 10), approval_authority="city", tickets_issued=49_600,
        status="preparing", timezone="Asia/Shanghai",
        description=("体育场演唱会，两场，每场预计 5 万人（内场站席约 1 万人，看台座席约 4.1 万人）。"
                     "舞台设于南端，南看台封闭。观众主要经地铁6号线奥体中心站及公交、停车场到达，"
                     "开场前 2 小时开始检票入场。演示数据，场地图为示意。"),
        shared_agencies=["消防", "医疗", "交通"],
        sessions=[{"label": "第一场", "start": at(19, 19, 30), "end": at(19, 22, 30)},
                  {"label": "第二场", "start": at(20, 19, 30), "end": at(20, 22, 30)}],
    ))


def build_plan() -> DemoPlan:
    """The whole demo as plain specs (local metres, references by code); deterministic."""
    zones = plan_zones()
    by_code = {z.code: z for z in zones}
    gates = plan_gates(by_code)
    posts = plan_posts(by_code, gates, random.Random(SEED + 1))
    devices = plan_devices(by_code, gates, random.Random(SEED + 2))
    nodes = plan_nodes(random.Random(SEED + 3))
    units = plan_units()
    people = plan_people(units, random.Random(SEED))
    venue = VenueCreate(code=VENUE_CODE, name="杭州奥体中心体育场", crs="wgs84",
                        address="浙江省杭州市滨江区 杭州奥体中心", ref_lon=CENTRE[0], ref_lat=CENTRE[1])
    return DemoPlan(_event(), venue, zones, gates, posts, devices, nodes, units, people)


# --------------------------------------------------------------------------- loading

class _Projector:
    """Local metres around the stadium centre to WGS84, rounded to 1e-7 degrees (about 1 cm)."""

    def __init__(self) -> None:
        self.proj = LocalProjection(*CENTRE)

    def point(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.proj.inverse(x, y)
        return round(lon, 7), round(lat, 7)

    def geometry(self, shape: BaseGeometry) -> dict[str, Any]:
        def to_lonlat(xy: np.ndarray) -> np.ndarray:
            lon, lat = self.proj.to_lonlat.transform(xy[:, 0], xy[:, 1])
            return np.round(np.column_stack([lon, lat]), 7)

        oriented = shapely.orient_polygons(shape)  # RFC 7946: exterior rings counter-clockwise
        geojson: dict[str, Any] = json.loads(shapely.to_geojson(shapely.transform(oriented, to_lonlat)))
        return geojson


def _create(db: Session, kind: crud.Kind, schema: type[BaseModel], event_id: int, payload: dict[str, Any]) -> Any:
    data = schema.model_validate(payload).model_dump()
    return crud.create_row(db=db, kind=kind, event_id=event_id, data=data)


def _create_many(db: Session, kind: crud.Kind, schema: type[BaseModel], event_id: int,
                 payloads: Iterable[dict[str, Any]]) -> list[Any]:
    items = [schema.model_validate(p).model_dump() for p in payloads]
    return crud.create_rows(db=db, kind=kind, event_id=event_id, items=items)


def _count(db: Session, model: Any, event_id: int) -> int:
    return int(db.execute(select(func.count()).select_from(model).where(model.event_id == event_id)).scalar_one())


def demo_summary(*, db: Session, event_id: int, created: bool = False) -> DemoSummary:
    """Count the demo event's rows."""
    kinds = {kind: n for kind, n in db.execute(select(Device.kind, func.count())
                                               .where(Device.event_id == event_id).group_by(Device.kind))}
    venue = crud.by_unique(db=db, kind=venues.VENUES, event_id=event_id, value=VENUE_CODE)
    return DemoSummary(
        event_id=event_id, venue_id=venue.id if venue is not None else None, created=created,
        zones=_count(db, Zone, event_id), gates=_count(db, Gate, event_id), posts=_count(db, Post, event_id),
        sensors=sum(int(n) for k, n in kinds.items() if k in SENSOR_KINDS),
        cameras=int(kinds.get("camera", 0)), drones=int(kinds.get("drone", 0)),
        units=_count(db, Unit, event_id), persons=_count(db, Person, event_id),
        command_nodes=_count(db, CommandNode, event_id),
    )


def _points(db: Session, kind: crud.Kind, schema: type[BaseModel], event_id: int, venue_id: int,
            specs: Iterable[PointSpec], zone_ids: dict[str, int], proj: _Projector) -> None:
    _create_many(db, kind, schema, event_id, (
        {"venue_id": venue_id, "code": p.code, "name": p.name, "lon": lon, "lat": lat,
         "zone_id": zone_ids[p.zone] if p.zone else None, **p.data}
        for p in specs for lon, lat in [proj.point(p.x, p.y)]))


def load_demo(*, db: Session, var_dir: Path | None = None) -> DemoSummary:
    """Create the demo event once; if :data:`DEMO_CODE` exists, write nothing and report it.

    The demo road network (:mod:`anbao.demo.roads`) is stored under ``var_dir`` (default: the
    configured state directory). Does not commit: the caller owns the transaction.
    """
    existing = events.get_by_code(db=db, code=DEMO_CODE)
    if existing is not None:
        return demo_summary(db=db, event_id=existing.id)
    plan = build_plan()
    proj = _Projector()
    event = events.create(db=db, data=plan.event)
    eid = event.id
    venue = crud.create_row(db=db, kind=venues.VENUES, event_id=eid, data=plan.venue.model_dump())

    zone_ids: dict[str, int] = {}
    for z in plan.zones:  # parents come first in the plan
        row = _create(db, venues.ZONES, ZoneCreate, eid, {
            "venue_id": venue.id, "code": z.code, "name": z.name, "kind": z.kind, "ring": z.ring,
            "geometry": proj.geometry(z.shape), "standing_capacity": z.standing, "seated_capacity": z.seated,
            "parent_id": zone_ids[z.parent] if z.parent else None})
        zone_ids[z.code] = row.id
    _points(db, venues.GATES, GateCreate, eid, venue.id, plan.gates, zone_ids, proj)
    _points(db, venues.POSTS, PostCreate, eid, venue.id, plan.posts, zone_ids, proj)
    _points(db, venues.DEVICES, DeviceCreate, eid, venue.id, plan.devices, zone_ids, proj)
    store_demo_roads(db=db, event_id=eid, centre=CENTRE, var_dir=var_dir or get_settings().var_dir, now=utcnow())

    node_ids: dict[str, int] = {}
    for n in plan.nodes:  # parents come first in the plan
        row = _create(db, org.NODES, CommandNodeCreate, eid, {
            "code": n.code, "name": n.name, "level": n.level,
            "parent_id": node_ids[n.parent] if n.parent else None, "leader": n.leader, "duties": n.duties,
            "zone_codes": n.zone_codes})
        node_ids[n.code] = row.id
    units = _create_many(db, org.UNITS, UnitCreate, eid, (
        {"code": u.code, "name": u.name, "call_sign": u.call_sign, "police_type": u.police_type,
         "agency": u.agency, "equipment": u.equipment, "skills": u.skills,
         "command_node_id": node_ids[u.node], "shared_with": u.shared_with} for u in plan.units))
    unit_ids = {u.code: u.id for u in units}
    _create_many(db, org.PERSONS, PersonCreate, eid, (
        {"unit_id": unit_ids[p.unit], "name": p.name, "badge_no": p.badge_no, "role": p.role,
         "phone": p.phone, "skills": p.skills} for p in plan.people))
    load_planning(db=db, event_id=eid)
    return demo_summary(db=db, event_id=eid, created=True)
