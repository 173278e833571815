"""The demo event (a 50,000-person stadium concert in Hangzhou), loaded through the domain services."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.audit import AuditEntry, verify
from anbao.core.geo import LocalProjection
from anbao.core.vocab import POLICE_TYPES, SENSOR_KINDS, ZONE_KINDS
from anbao.demo.build import CENTRE, DEMO_CODE, DemoSummary, build_plan, demo_summary, load_demo
from anbao.event import service as events
from anbao.event.models import Event
from anbao.event.schemas import EventCreate
from anbao.org import service as org
from anbao.venue import service as venues
from anbao.venue.flows import export_venue, import_venue

GEOD = Geod(ellps="WGS84")
PROJ = LocalProjection(*CENTRE)
HQ_GROUPS = ("综合协调组", "现场安保组", "交通管理组", "治安巡逻组",
             "技术保障组", "应急处突组", "信息研判组", "后勤保障组")


def _local(geom: BaseGeometry) -> BaseGeometry:
    def to_m(xy: np.ndarray) -> np.ndarray:
        x, y = PROJ.to_metres.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, to_m)


def _max_distance_m(geom: BaseGeometry) -> float:
    xy = shapely.get_coordinates(geom)
    n = len(xy)
    _, _, dist = GEOD.inv(np.full(n, CENTRE[0]), np.full(n, CENTRE[1]), xy[:, 0], xy[:, 1])
    return float(np.max(dist))


def _rows(db: Session, kind: crud.Kind, event_id: int) -> list[Any]:
    return list(crud.list_rows(db=db, kind=kind, event_id=event_id, limit=100_000))


@pytest.fixture
def demo(db: Session) -> tuple[DemoSummary, float]:
    started = time.perf_counter()
    summary = load_demo(db=db)
    db.commit()
    return summary, time.perf_counter() - started


def test_plan_is_deterministic() -> None:
    a, b = build_plan(), build_plan()
    assert [z.shape.wkb for z in a.zones] == [z.shape.wkb for z in b.zones]
    assert a.posts == b.posts and a.devices == b.devices and a.gates == b.gates
    assert a.people == b.people and a.nodes == b.nodes
    assert a.people[0].name == b.people[0].name and len({p.name for p in a.people}) > 300


def test_load_creates_the_event_quickly(db: Session, demo: tuple[DemoSummary, float]) -> None:
    summary, elapsed = demo
    assert summary.created is True
    assert elapsed < 10.0, f"demo load took {elapsed:.1f} s"
    assert summary.zones >= 30 and summary.gates >= 12 + 2 and summary.posts >= 60
    assert summary.sensors >= 40 and summary.cameras >= 20 and summary.drones >= 1
    assert summary.units >= 40 and summary.persons >= 400 and summary.command_nodes >= 1 + 8 + 3
    assert demo_summary(db=db, event_id=summary.event_id, created=True) == summary

    event = events.get(db=db, event_id=summary.event_id)
    assert event is not None and event.code == DEMO_CODE
    assert "演唱会" in event.name and "杭州" in event.name
    assert (event.kind, event.status) == ("concert", "preparing")
    assert (event.expected_attendance, event.approved_attendance) == (50_000, 52_000)
    assert sorted(event.shared_agencies) == sorted(["消防", "医疗", "交通"])
    assert len(event.sessions) == 2
    for s in event.sessions:
        start, end = s.start.astimezone(ZoneInfo("Asia/Shanghai")), s.end.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (start.year, start.month, start.hour, start.minute) == (2026, 12, 19, 30)
        assert (end - start).total_seconds() == 3 * 3600
    assert verify(db).ok  # every row landed on the audit chain


def test_zones_are_valid_and_plausible(db: Session, demo: tuple[DemoSummary, float]) -> None:
    summary, _ = demo
    event = events.get(db=db, event_id=summary.event_id)
    assert event is not None
    zones = _rows(db, venues.ZONES, summary.event_id)
    assert len(zones) == summary.zones >= 30
    by_id = {z.id: z for z in zones}
    by_ring = Counter(z.ring for z in zones)
    assert set(by_ring) == {1, 2, 3} and min(by_ring.values()) >= 8
    kinds = Counter(z.kind for z in zones)
    assert set(kinds) <= set(ZONE_KINDS)
    assert kinds["stand"] == 8 and kinds["standing"] >= 4 and kinds["stage"] == 1 and kinds["parking"] == 4
    assert kinds["concourse"] >= 4 and kinds["screening"] >= 4 and kinds["plaza"] >= 4 and kinds["road"] >= 3
    assert kinds["transit"] >= 2 and kinds["core"] == kinds["buffer"] == kinds["outer"] == 1
    assert any("地铁" in z.name for z in zones) and {"P1", "P2", "P3", "P4"} <= {z.code for z in zones}
    for z in zones:
        geom = shape(z.geometry)
        assert geom.is_valid, z.code
        assert z.area_m2 > 0, z.code
        assert z.area_m2 == pytest.approx(_local(geom).area, rel=0.01), z.code
        assert _max_distance_m(geom) < 2000, z.code
        if z.parent_id is not None:
            parent = by_id[z.parent_id]
            assert parent.ring == z.ring and parent.kind in ("core", "buffer", "outer")
            assert _local(shape(parent.geometry)).buffer(1.0).contains(_local(geom)), z.code
    core = next(z for z in zones if z.kind == "core")
    assert 40_000 < core.area_m2 < 60_000  # the bowl inside the concourse, about 232 m x 274 m
    stage = next(z for z in zones if z.kind == "stage")
    assert 500 < stage.area_m2 < 2_000
    seats = sum(z.seated_capacity or 0 for z in zones if z.kind == "stand")
    standing = sum(z.standing_capacity or 0 for z in zones if z.kind == "standing")
    assert 30_000 < seats < 50_000 and 5_000 < standing < 15_000
    assert 45_000 <= seats + standing <= 60_000
    assert seats + standing <= event.approved_attendance  # tickets only up to the approved number
    for z in zones:
        if z.kind == "standing":
            assert z.standing_capacity / z.area_m2 <= 2.0 + 1e-9  # HSG195: 0.5 m2 per person
            assert z.area_m2 == pytest.approx(850, rel=0.05)


def test_points_sit_in_their_zones(db: Session, demo: tuple[DemoSummary, float]) -> None:
    summary, _ = demo
    eid = summary.event_id
    zones = {z.id: z for z in _rows(db, venues.ZONES, eid)}
    local = {zid: _local(shape(z.geometry)) for zid, z in zones.items()}
    gates = _rows(db, venues.GATES, eid)
    posts = _rows(db, venues.POSTS, eid)
    devices = _rows(db, venues.DEVICES, eid)
    for row in [*gates, *posts, *devices]:
        assert row.zone_id in zones, row.code
        assert _max_distance_m(Point(row.lon, row.lat)) < 2000, row.code
        if getattr(row, "kind", None) not in ("camera", "drone"):  # cameras watch a zone from elsewhere
            at = Point(*PROJ.forward(row.lon, row.lat))
            assert local[row.zone_id].distance(at) < 0.5, (row.code, zones[row.zone_id].code)

    kinds = Counter(g.kind for g in gates)
    assert kinds["gate"] >= 12 and kinds["checkpoint"] >= 8 and kinds["exit"] >= 12
    assert any(g.stair for g in gates if g.kind == "exit") and any(not g.stair for g in gates if g.kind == "exit")
    public = [g for g in gates if g.kind == "checkpoint" and "广场" in g.name]  # spectators' checkpoints
    assert len(public) >= 9 and all(g.lanes >= 8 and g.width_m >= 10 and g.direction == "in" for g in public)
    assert all(g.width_m >= 1.4 for g in gates)  # GB 50016: doors of crowded places >= 1.40 m

    assert len(posts) >= 60
    assert {p.police_type for p in posts} == set(POLICE_TYPES)
    assert 10 <= sum(p.critical for p in posts) < len(posts)
    assert all(p.skills and p.min_staff >= 1 for p in posts)
    unit_skills: dict[str, set[str]] = {}
    for u in _rows(db, org.UNITS, eid):
        unit_skills.setdefault(u.police_type, set()).update(u.skills)
    for p in posts:  # some unit of the post's police type can staff it
        assert set(p.skills) <= unit_skills[p.police_type], p.name
    assert len({zones[p.zone_id].ring for p in posts}) == 3

    dkinds = Counter(d.kind for d in devices)
    assert sum(dkinds[k] for k in SENSOR_KINDS) == summary.sensors >= 40
    assert all(dkinds[k] >= 3 for k in SENSOR_KINDS)
    units = {d.kind: d.unit_of_measure for d in devices}
    assert (units["video_count"], units["gas"], units["temperature"]) == ("人", "ppm", "°C")
    cameras = [d for d in devices if d.kind == "camera"]
    assert len(cameras) == summary.cameras >= 20
    ids = [c.properties["gb28181_id"] for c in cameras]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"330108\d{14}", i) for i in ids)
    assert {zones[c.zone_id].kind for c in cameras} >= {"standing", "stand", "screening", "plaza", "transit"}
    assert dkinds["drone"] == summary.drones >= 1


def test_command_tree_units_and_people(db: Session, demo: tuple[DemoSummary, float]) -> None:
    summary, _ = demo
    eid = summary.event_id
    nodes = _rows(db, org.NODES, eid)
    by_id = {n.id: n for n in nodes}
    hq = [n for n in nodes if n.level == "hq"]
    assert len(hq) == 1 and hq[0].parent_id is None and hq[0].leader
    groups = [n for n in nodes if n.level == "hq_group"]
    assert sorted(n.name for n in groups) == sorted(HQ_GROUPS)
    assert all(n.parent_id == hq[0].id for n in groups)
    sites = [n for n in nodes if n.level == "site"]
    assert len(sites) >= 3 and all(n.parent_id == hq[0].id for n in sites)
    assert {"场内分指挥部", "场外广场分指挥部", "交通外围分指挥部"} <= {n.name for n in sites}
    zone_codes = {z.code for z in _rows(db, venues.ZONES, eid)}
    covered: set[str] = set()
    for site in sites:
        duty = [n for n in nodes if n.parent_id == site.id]
        assert duty and all(n.level == "duty_group" for n in duty), site.name
        for n in duty:
            assert n.zone_codes and set(n.zone_codes) <= zone_codes, n.name
            covered.update(n.zone_codes)
    assert len(covered) >= 30  # the duty groups under the sites cover the venue
    for n in nodes:
        if n.level == "duty_group":
            assert by_id[n.parent_id].level in ("site", "hq_group")

    units = _rows(db, org.UNITS, eid)
    assert len(units) == summary.units >= 40
    assert {u.police_type for u in units} == set(POLICE_TYPES)
    assert all(u.command_node_id in by_id for u in units)
    assert all(by_id[u.command_node_id].level in ("duty_group", "hq_group") for u in units)
    assert len({u.call_sign for u in units}) == len(units)
    for u in units:
        if u.police_type == "fire":
            assert u.agency == "消防" and "消防" in u.shared_with
        if u.police_type == "medical":
            assert u.agency == "医疗" and "医疗" in u.shared_with
    assert any(u.name == "治安3组" and u.call_sign == "Z-03" for u in units)

    persons = _rows(db, org.PERSONS, eid)
    assert len(persons) == summary.persons >= 400
    unit_ids = {u.id for u in units}
    assert all(p.unit_id in unit_ids for p in persons)
    badges = [p.badge_no for p in persons]
    assert len(set(badges)) == len(badges) and all(re.fullmatch(r"\d{6}", b) for b in badges)
    assert all(re.fullmatch(r"139\d{8}", p.phone) for p in persons)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", p.name) for p in persons)
    assert {p.role for p in persons} == {"队长", "副队长", "队员"}
    leaders = Counter(p.unit_id for p in persons if p.role == "队长")
    assert set(leaders) == unit_ids and set(leaders.values()) == {1}
    assert len({p.name for p in persons}) > 0.8 * len(persons)


def test_second_load_writes_nothing(db: Session, demo: tuple[DemoSummary, float]) -> None:
    first, _ = demo
    audit_rows = db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    again = load_demo(db=db)
    assert again.created is False and again.event_id == first.event_id
    assert again == DemoSummary(**{**first.__dict__, "created": False})
    assert not db.new and not db.dirty and not db.deleted
    db.commit()
    assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audit_rows
    assert db.execute(select(func.count()).select_from(Event)).scalar_one() == 1


def test_venue_exports_and_reimports(db: Session, demo: tuple[DemoSummary, float]) -> None:
    summary, _ = demo
    assert summary.venue_id is not None
    exported = export_venue(db=db, event_id=summary.event_id, venue_id=summary.venue_id)
    kinds = Counter("zone" if f["properties"]["kind"] == "zone" else
                    "post" if f["properties"]["kind"] == "post" else
                    "gate" if f["properties"]["kind"] in ("gate", "checkpoint", "exit") else "device"
                    for f in exported["features"])
    assert kinds == {"zone": summary.zones, "gate": summary.gates, "post": summary.posts,
                     "device": summary.sensors + summary.cameras + summary.drones}

    copy = events.create(db=db, data=EventCreate(code="DEMO-COPY", name="演示副本", kind="concert"))
    result = import_venue(db=db, event_id=copy.id, collection=exported)
    db.commit()
    assert result["created"] == dict(kinds) and result["updated"] == {}
    again = export_venue(db=db, event_id=copy.id, venue_id=result["venue_id"])
    assert again == exported  # same venue, same features, same computed areas
    copied = demo_summary(db=db, event_id=copy.id)
    assert (copied.zones, copied.gates, copied.posts, copied.sensors, copied.cameras, copied.drones) == (
        summary.zones, summary.gates, summary.posts, summary.sensors, summary.cameras, summary.drones)
