"""Dispatch fixtures: the real Helsinki extract, a small street grid around the test venue, units and positions."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from anbao.algorithms.routing import Mode, RoadGraph, mode_edges
from anbao.config import Settings
from anbao.core.geo import LocalProjection
from anbao.dispatch import graphs
from anbao.dispatch.roadnet import load_osm
from anbao.incident.models import Incident, UnitPosition
from anbao.org.models import Person, Unit
from tests.alert.conftest import Headers
from tests.factories_cli import LAT, LON, small_collection

HELSINKI = Path(__file__).resolve().parents[1] / "data" / "roads" / "helsinki-centre.osm.pbf"
_keys = itertools.count()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def reversed_nx(g: RoadGraph, mode: Mode, closures: Any = None) -> nx.DiGraph:
    """networkx on the same weights, reversed (a search from the target gives times TO it)."""
    from anbao.algorithms.routing import NO_CLOSURES

    ref = nx.DiGraph()
    for u, v, s in zip(*(a.tolist() for a in mode_edges(g, mode, closures or NO_CLOSURES)), strict=True):
        if s < ref.get_edge_data(v, u, {"weight": math.inf})["weight"]:
            ref.add_edge(v, u, weight=s)
    return ref


@pytest.fixture(scope="module")
def helsinki() -> tuple[RoadGraph, dict[Mode, nx.DiGraph]]:
    """The Helsinki graph exactly as the app builds it (one OSM file), and networkx references per mode."""
    g, _ = load_osm(HELSINKI)
    return g, {m: reversed_nx(g, m) for m in Mode}


@pytest.fixture(autouse=True)
def _fresh_graph_cache() -> Iterator[None]:
    yield
    graphs.clear()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """As the suite's, with a short warning-watcher wait: these tests never read sensors, and the app stops
    faster (a watcher thread waiting out a 1 s interval holds the shutdown)."""
    return Settings(database_url=db_url, var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789abcdef",
                    evaluate_interval_s=0.1)


@dataclass
class Ops:
    """An event seen through the API plus direct database helpers for units, positions and incidents."""

    client: Any
    sessions: Any
    h: Headers
    event_id: int
    url: str
    ids: dict[str, int]

    def upload(self, path: Path, role: str = "planner", name: str | None = None) -> Any:
        with path.open("rb") as f:
            return self.client.post(f"{self.url}/road-networks", files={"file": (path.name, f)},
                                    data={"name": name} if name else None, headers=self.h[role])

    def unit(self, code: str, *, police_type: str = "public_order", equipment: list[str] | None = None,
             skills: list[str] | None = None, status: str = "available", persons: int = 0,
             at: tuple[float, float] | None = None, age_s: float = 30.0) -> int:
        with self.sessions() as db:
            db.info["actor"] = "test"
            u = Unit(event_id=self.event_id, code=code, name=code, call_sign=f"CS-{code}", police_type=police_type,
                     status=status, equipment=equipment or [], skills=skills or [])
            db.add(u)
            db.flush()
            for i in range(persons):
                db.add(Person(event_id=self.event_id, unit_id=u.id, name=f"{code}-{i}", badge_no=f"{code}-{i}"))
            if at is not None:
                t = now() - timedelta(seconds=age_s)
                db.add(UnitPosition(event_id=self.event_id, unit_id=u.id, client_key=f"k{next(_keys)}", at=t,
                                    lon=at[0], lat=at[1], received_at=t, reported_by="test"))
            db.commit()
            self.ids[code] = u.id
            return int(u.id)

    def incident(self, at: tuple[float, float] | None, zone_id: int | None = None, event_id: int | None = None) -> int:
        with self.sessions() as db:
            db.info["actor"] = "test"
            i = Incident(event_id=event_id or self.event_id, client_key=f"i{next(_keys)}", type="fight",
                         lon=at[0] if at else None, lat=at[1] if at else None, zone_id=zone_id, reported_by="test",
                         reported_at=now())
            db.add(i)
            db.commit()
            return int(i.id)

    def recommend(self, incident_id: int, role: str = "dispatcher", **query: Any) -> Any:
        return self.client.get(f"{self.url}/incidents/{incident_id}/recommendations", params=query,
                               headers=self.h[role])


@pytest.fixture
def ops(client: Any, login: Callable[..., dict[str, str]], sessions: Any) -> Ops:
    """An empty event (no venue)."""
    h = Headers(login)
    ev = client.post("/api/v1/events", json={"code": "DSP", "name": "调度", "kind": "concert"},
                     headers=h["planner"]).json()
    client.app.state.watcher.paused = True
    return Ops(client, sessions, h, ev["id"], f"/api/v1/events/{ev['id']}", {})


# --------------------------------------------------------------------------- a street grid at the test venue

PROJ = LocalProjection(LON, LAT)
GRID = 100.0  # metres between streets
SPAN = 500.0  # the grid runs from -SPAN to +SPAN both ways


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = PROJ.inverse(x, y)
    return round(lon, 7), round(lat, 7)


def grid_geojson(path: Path) -> Path:
    """Streets every 100 m over 1 km x 1 km around the venue (30 km/h, two-way), vertices every 100 m."""
    steps = [-SPAN + GRID * i for i in range(int(2 * SPAN / GRID) + 1)]
    features = []
    for c in steps:
        for line in ([lonlat(x, c) for x in steps], [lonlat(c, y) for y in steps]):
            features.append({"type": "Feature", "properties": {"highway": "residential", "maxspeed": 30},
                             "geometry": {"type": "LineString", "coordinates": [list(p) for p in line]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


@pytest.fixture
def venue_ops(ops: Ops, tmp_path: Path) -> Ops:
    """The small venue (Z1 200 m square, Z2 inside, post P1 in Z2, min 4) on a 1 km street grid."""
    r = ops.client.post(f"{ops.url}/venue-import", json=small_collection(), headers=ops.h["planner"])
    assert r.status_code == 200, r.text
    ops.ids.update({z["code"]: z["id"] for z in ops.client.get(f"{ops.url}/zones", headers=ops.h["planner"]).json()})
    ops.ids.update({p["code"]: p["id"] for p in ops.client.get(f"{ops.url}/posts", headers=ops.h["planner"]).json()})
    ops.ids["venue"] = ops.client.get(f"{ops.url}/venues", headers=ops.h["planner"]).json()[0]["id"]
    r = ops.upload(grid_geojson(tmp_path / "grid.geojson"))
    assert r.status_code == 201, r.text
    return ops


def post(ops: Ops, code: str, x: float, y: float, *, min_staff: int, critical: bool = False,
         zone: str = "Z1") -> int:
    lon, lat = lonlat(x, y)
    r = ops.client.post(f"{ops.url}/posts", headers=ops.h["planner"], json={
        "venue_id": ops.ids["venue"], "code": code, "name": code, "zone_id": ops.ids[zone], "lon": lon, "lat": lat,
        "police_type": "public_order", "min_staff": min_staff, "critical": critical})
    assert r.status_code == 201, r.text
    ops.ids[code] = r.json()["id"]
    return int(r.json()["id"])
