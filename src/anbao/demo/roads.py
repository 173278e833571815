"""The demo venue's road and walkway network, as GeoJSON lines (illustrative, not surveyed).

Drawn in local metres around the stadium centre (x east, y north; the same frame as
:mod:`anbao.demo.site`) and converted to WGS84:

- the named roads of the site plan: 闻涛路 along the river (y = 470, primary, 50 km/h), 飞虹路
  (x = 485, primary, 50), 博奥路 (y = -455, secondary, 40), 丹枫路 (x = -510, secondary, 40), running
  out to the edge of the map (x, y = +-800) where traffic comes from;
- two side streets (x = +-290, tertiary, 30) and one-way pairs between them and the outer roads
  (y = +-200, residential, 30; the northern street westwards on the west side and eastwards on the
  east side, the southern one the other way); one-way loops through the four car parks;
- the service ring road round the plaza (场馆环路, 20 km/h), joined to the outer roads by four spokes;
  back-of-house lanes (15 km/h) from the ring road to the four service areas and, through the
  vehicle checkpoint AJ-V1 and the south wall, to the backstage (the fire engine's way in);
- walkways (pedestrians only): a ring in the concourse and one across the plaza, a radial path
  through every gate and to every checkpoint cluster, paths from the plaza to the ring road, the
  running track round the pitch with vomitories up to the concourse, the floor's aisles, a path
  across the backstage, the metro exit, both bus stops and the riverside greenway.

Every road carries pedestrians too (sidewalks are not drawn apart). Lines meet at shared vertices
(crossings are computed and inserted into both lines) and get a vertex at least every
:data:`STEP_M` metres, so every zone's centre has a node of the walking network within 150 m.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, MultiPoint, Point
from sqlalchemy.orm import Session

from anbao.core.geo import LocalProjection
from anbao.demo.site import BOWL, FIELD, PLAZA, RING_ROAD, UPPER
from anbao.dispatch import service as dispatch
from anbao.dispatch.models import RoadNetwork

STEP_M = 50.0
EDGE = 800.0
FILENAME = "demo-roads.geojson"
#: centre lines of the rings (semi-axes, metres)
RING = ((PLAZA[0] + RING_ROAD[0]) / 2, (PLAZA[1] + RING_ROAD[1]) / 2)  # service ring road, (222, 247)
CONCOURSE = ((UPPER[0] + BOWL[0]) / 2, (UPPER[1] + BOWL[1]) / 2)  # (123, 143.5)
PLAZA_WALK = (178.0, 200.0)
TRACK = (FIELD[0] - 6.0, FIELD[1] - 6.0)  # (56, 86)
GATE_ANGLES = (106.0, 96.0, 84.0, 74.0, 16.0, 6.0, -6.0, -16.0, -84.0, -96.0, 196.0, 186.0, 174.0, 164.0)


@dataclass(frozen=True)
class Line:
    coords: tuple[tuple[float, float], ...]
    props: dict[str, Any] = field(default_factory=dict)


def _ellipse(axes: tuple[float, float], n: int = 96) -> tuple[tuple[float, float], ...]:
    pts = [(axes[0] * math.cos(2 * math.pi * i / n), axes[1] * math.sin(2 * math.pi * i / n)) for i in range(n)]
    return (*pts, pts[0])


def _at(axes: tuple[float, float], deg: float, grow: float = 0.0) -> tuple[float, float]:
    t = math.radians(deg)
    return ((axes[0] + grow) * math.cos(t), (axes[1] + grow) * math.sin(t))


def _radial(inner: tuple[float, float], outer: tuple[float, float], deg: float,
            over: float = 3.0) -> tuple[tuple[float, float], ...]:
    """From just inside the ``inner`` ring to just outside the ``outer`` one, crossing both."""
    return (_at(inner, deg, -over), _at(outer, deg, over))


def _road(name: str, kind: str, kmh: float, *pts: tuple[float, float], oneway: bool = False) -> Line:
    props: dict[str, Any] = {"name": name, "highway": kind, "maxspeed": kmh}
    if oneway:
        props["oneway"] = "yes"
    return Line(tuple(pts), props)


def _walk(name: str, *pts: tuple[float, float]) -> Line:
    return Line(tuple(pts), {"name": name, "highway": "footway"})


def plan_lines() -> list[Line]:
    """The network in local metres, before crossings are inserted (see the module notes)."""
    lines = [
        _road("闻涛路", "primary", 50, (-EDGE, 470.0), (EDGE, 470.0)),
        _road("飞虹路", "primary", 50, (485.0, -EDGE), (485.0, 470.0)),
        _road("博奥路", "secondary", 40, (-EDGE, -455.0), (485.0, -455.0)),
        _road("丹枫路", "secondary", 40, (-510.0, -EDGE), (-510.0, 470.0)),
        _road("奥体东街", "tertiary", 30, (290.0, -455.0), (290.0, 470.0)),
        _road("奥体西街", "tertiary", 30, (-290.0, -455.0), (-290.0, 470.0)),
        _road("东一路（单行）", "residential", 30, (290.0, 200.0), (485.0, 200.0), oneway=True),
        _road("东二路（单行）", "residential", 30, (485.0, -200.0), (290.0, -200.0), oneway=True),
        _road("西一路（单行）", "residential", 30, (-290.0, 200.0), (-510.0, 200.0), oneway=True),
        _road("西二路（单行）", "residential", 30, (-510.0, -200.0), (-290.0, -200.0), oneway=True),
        Line(_ellipse(RING, 128), {"name": "场馆环路", "highway": "service", "maxspeed": 20}),
        _road("北进场路", "tertiary", 30, (0.0, 240.0), (0.0, 470.0)),
        _road("南进场路", "tertiary", 30, (0.0, -240.0), (0.0, -455.0)),
        _road("东进场路", "tertiary", 30, (215.0, 0.0), (485.0, 0.0)),
        _road("西进场路", "tertiary", 30, (-215.0, 0.0), (-510.0, 0.0)),
    ]
    for code, sx, sy in (("P1", -1, 1), ("P2", 1, 1), ("P3", 1, -1), ("P4", -1, -1)):
        a, b = (310.0, 370.0) if sx * sy > 0 else (370.0, 310.0)  # the same turning sense in every park
        lines.append(_road(f"{code}停车场单行环道", "service", 15, (sx * 290.0, sy * a), (sx * 380.0, sy * a),
                           (sx * 380.0, sy * b), (sx * 290.0, sy * b), oneway=True))
    for name, deg, end in (("指挥所车道", 50.0, (122.0, 138.0)), ("医疗站车道", 130.0, (-122.0, 138.0)),
                           ("应急车辆待命区车道", -50.0, (122.0, -138.0)), ("媒体区车道", -130.0, (-122.0, -138.0))):
        lines.append(_road(name, "service", 15, _at(RING, deg, 3.0), end))
    lines.append(_road("后台车道（经AJ-V1车辆安检口）", "service", 15, (70.0, -240.0), (70.0, -215.0), (30.0, -160.0),
                       (0.0, -150.0), (0.0, -70.0)))
    # walkways
    lines.append(Line(_ellipse(CONCOURSE), {"name": "环廊步道", "highway": "footway"}))
    lines.append(Line(_ellipse(PLAZA_WALK), {"name": "广场环形步道", "highway": "footway"}))
    lines.append(Line(_ellipse(TRACK), {"name": "跑道环形通道", "highway": "footway"}))
    for n, deg in enumerate(GATE_ANGLES, start=1):
        lines.append(_walk(f"{n}号门进出通道", *_radial(CONCOURSE, PLAZA_WALK, deg)))
    for deg in (15.0, 45.0, 75.0, 105.0, 135.0, 165.0, 195.0, 225.0, 255.0, 285.0, 315.0, 345.0):
        lines.append(_walk("看台通道", *_radial(TRACK, CONCOURSE, deg)))
    for deg in (45.0, 135.0, 225.0, 315.0):
        lines.append(_walk("广场连接步道", *_radial(PLAZA_WALK, RING, deg)))
    for x in (-30.0, 30.0):
        lines.append(_walk("北广场安检步道", (x, 190.0), (x, 252.0)))
    lines.append(_walk("北广场安检步道", (0.0, 190.0), (0.0, 240.0)))
    for y in (-30.0, 30.0):
        lines.append(_walk("东广场安检步道", (170.0, y), (228.0, y)))
        lines.append(_walk("西广场安检步道", (-170.0, y), (-228.0, y)))
    lines.append(_walk("东广场安检步道", (170.0, 0.0), (215.0, 0.0)))
    lines.append(_walk("西广场安检步道", (-170.0, 0.0), (-215.0, 0.0)))
    lines.append(_walk("南侧工作人员通道", (0.0, -190.0), (0.0, -240.0)))
    lines.append(_walk("内场中轴通道", (0.0, -34.0), (0.0, 92.0)))
    for y in (-34.0, -4.33, 24.83):
        lines.append(_walk("内场横向通道", (-60.0, y), (60.0, y)))
    lines.append(_walk("后台通道", (-40.0, -34.0), (-40.0, -70.0), (40.0, -70.0), (40.0, -34.0)))
    lines.append(_walk("地铁出口步道", (290.0, -115.0), (485.0, -115.0)))
    lines.append(_walk("飞虹路公交站台", (485.0, 175.0), (514.0, 175.0)))
    lines.append(_walk("博奥路公交站台", (-70.0, -455.0), (-70.0, -482.0)))
    lines.append(Line(((-EDGE, 517.0), (EDGE, 517.0)), {"name": "钱塘江沿江绿道", "highway": "path"}))
    for x in (-400.0, 0.0, 400.0):
        lines.append(_walk("沿江绿道连接步道", (x, 470.0), (x, 517.0)))
    return lines


def _insert(coords: list[tuple[float, float]], points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``coords`` with ``points`` (lying on it) inserted in order along it."""
    line = LineString(coords)
    cum = [0.0]
    for a, b in zip(coords, coords[1:], strict=False):
        cum.append(cum[-1] + math.dist(a, b))
    extra: dict[int, list[tuple[float, tuple[float, float]]]] = {}
    for p in points:
        d = line.project(Point(p))
        seg = min(max(next((i for i in range(1, len(cum)) if cum[i] >= d), len(cum) - 1), 1), len(coords) - 1)
        extra.setdefault(seg, []).append((d, p))
    out = [coords[0]]
    for i in range(1, len(coords)):
        for _, p in sorted(extra.get(i, [])):
            if math.dist(p, out[-1]) > 1e-6 and math.dist(p, coords[i]) > 1e-6:
                out.append(p)
        out.append(coords[i])
    return out


def noded(lines: list[Line]) -> list[Line]:
    """Crossings inserted as shared vertices, then a vertex at least every :data:`STEP_M` metres."""
    shapes = [LineString(x.coords) for x in lines]
    cuts: list[list[tuple[float, float]]] = [[] for _ in lines]
    tree = shapely.STRtree(shapes)
    for i, j in zip(*tree.query(shapes, predicate="intersects"), strict=True):
        if i >= j:
            continue
        hit = shapes[i].intersection(shapes[j])
        points = [hit] if isinstance(hit, Point) else list(hit.geoms) if isinstance(hit, MultiPoint) else None
        if points is None:
            raise AssertionError(f"lines {lines[i].props['name']} and {lines[j].props['name']} overlap: {hit.wkt}")
        for p in points:
            cuts[i].append((p.x, p.y))
            cuts[j].append((p.x, p.y))
    out = []
    for x, extra in zip(lines, cuts, strict=True):
        coords = _insert(list(x.coords), extra)
        dense = shapely.segmentize(LineString(coords), STEP_M)
        out.append(Line(tuple((float(a), float(b)) for a, b in dense.coords), x.props))
    return out


def demo_roads(centre: tuple[float, float]) -> dict[str, Any]:
    """The network as a GeoJSON FeatureCollection in WGS84 around ``centre`` (lon, lat), 1e-7 degree precision."""
    proj = LocalProjection(*centre)
    features = []
    for x in noded(plan_lines()):
        coords = [[round(v, 7) for v in proj.inverse(a, b)] for a, b in x.coords]
        features.append({"type": "Feature", "properties": x.props,
                         "geometry": {"type": "LineString", "coordinates": coords}})
    return {"type": "FeatureCollection", "name": "demo roads and walkways (illustrative)", "features": features}


def store_demo_roads(*, db: Session, event_id: int, centre: tuple[float, float], var_dir: Path,
                     now: datetime) -> RoadNetwork:
    """Write the demo network to a file and store it as the event's road network."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / FILENAME
        path.write_text(json.dumps(demo_roads(centre), ensure_ascii=False), encoding="utf-8")
        return dispatch.add_network_file(db=db, event_id=event_id, source=path, name="演示路网（示意）",
                                         var_dir=var_dir, by="demo", now=now)
