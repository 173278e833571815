"""The demo venue drawn in local metres: zones in three rings, gates, posts and devices.

Sizes are realistic (bowl 260 m x 300 m, pitch 68 m x 105 m); positions of roads, car parks and
the metro exit are illustrative, not surveyed. Pure and deterministic.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry

#: HSG195: 0.5 m2 per person on an outdoor music standing floor
STANDING_PER_M2 = 2.0
#: seats on sale per m2 of stand plan area in the concert layout (tiers overlap in plan; the full
#: 80,000-seat bowl is about 2.5 per m2; camera platforms, sight-line kills and the desk take the rest)
SEATS_PER_M2 = 1.75
#: plaza, screening and transit holding areas: planning density for queues (persons/m2)
HOLDING_PER_M2 = 2.0

# ellipses (semi-axes in metres, x east, y north): the bowl's long axis runs north-south
FIELD = (62.0, 92.0)  # inner edge of the stands: pitch + track
LOWER = (92.0, 120.0)  # outer edge of the lower tier
UPPER = (116.0, 137.0)  # outer edge of the upper tier = edge of the core area
BOWL = (130.0, 150.0)  # outer wall of the bowl (260 m x 300 m); the concourse runs inside it
PLAZA = (215.0, 240.0)  # outer edge of the plaza = edge of the buffer ring
RING_ROAD = (229.0, 254.0)  # outer edge of the service ring road
OUTER_BOX = (-560.0, -520.0, 560.0, 560.0)  # outer perimeter (xmin, ymin, xmax, ymax)

SIDES = {"N": (45.0, 135.0), "E": (-45.0, 45.0), "S": (225.0, 315.0), "W": (135.0, 225.0)}
SIDE_ZH = {"N": "北", "E": "东", "S": "南", "W": "西"}
QUADRANTS = {"NE": (0.0, 90.0), "NW": (90.0, 180.0), "SW": (180.0, 270.0), "SE": (270.0, 360.0)}
QUADRANT_ZH = {"NE": "东北", "NW": "西北", "SW": "西南", "SE": "东南"}


# --------------------------------------------------------------------------- geometry (local metres)

def _ellipse(axes: tuple[float, float]) -> BaseGeometry:
    return affinity.scale(Point(0, 0).buffer(1.0, quad_segs=32), axes[0], axes[1], origin=(0, 0))


def _wedge(a0: float, a1: float, radius: float = 3000.0) -> Polygon:
    steps = 16
    arc = [(radius * math.cos(math.radians(a0 + (a1 - a0) * i / steps)),
            radius * math.sin(math.radians(a0 + (a1 - a0) * i / steps))) for i in range(steps + 1)]
    return Polygon([(0.0, 0.0), *arc])


def _on_ellipse(axes: tuple[float, float], deg: float, inset: float = 0.0) -> tuple[float, float]:
    t = math.radians(deg)
    return ((axes[0] - inset) * math.cos(t), (axes[1] - inset) * math.sin(t))


def _side(deg: float) -> str:
    d = (deg + 45.0) % 360.0 - 45.0
    for side, (a0, a1) in SIDES.items():
        if a0 <= d < a1 or a0 <= d + 360.0 < a1:
            return side
    raise AssertionError(deg)  # pragma: no cover


@dataclass(frozen=True)
class ZoneSpec:
    code: str
    name: str
    kind: str
    ring: int
    shape: BaseGeometry  # local metres
    parent: str | None = None
    standing: int | None = None
    seated: int | None = None


def _holding(shape: BaseGeometry, per_m2: float) -> int:
    return int(shape.area * per_m2 // 10 * 10)


def plan_zones() -> list[ZoneSpec]:
    field_e, lower_e, upper_e, bowl_e = _ellipse(FIELD), _ellipse(LOWER), _ellipse(UPPER), _ellipse(BOWL)
    plaza_e, ring_road_e = _ellipse(PLAZA), _ellipse(RING_ROAD)
    zones: list[ZoneSpec] = []

    # ring 1: the bowl. Stage at the south end of the pitch, standing floor in six blocks to the north.
    zones.append(ZoneSpec("CORE", "核心区（体育场内）", "core", 1, upper_e))
    stage = box(-30.0, -58.0, 30.0, -40.0)
    backstage = field_e.intersection(box(-100.0, -200.0, 100.0, -58.0))
    pit = box(-34.0, -40.0, 34.0, -32.0)
    zones.append(ZoneSpec("STAGE", "主舞台", "stage", 1, stage, "CORE"))
    zones.append(ZoneSpec("BACKSTAGE", "舞台后台保障区", "service", 1, backstage, "CORE"))
    zones.append(ZoneSpec("PIT", "舞台前区隔离带", "passage", 1, pit, "CORE"))
    rows = [(-32.0, -5.83), (-2.83, 23.33), (26.33, 52.5)]
    floor = box(-34.0, -32.0, 34.0, 52.5)
    blocks = []
    for r, (y0, y1) in enumerate(rows):
        for c, (x0, x1) in enumerate([(-34.0, -1.5), (1.5, 34.0)]):
            letter = "ABCDEF"[2 * r + c]
            shape = box(x0, y0, x1, y1)
            blocks.append(shape)
            zones.append(ZoneSpec(f"FLOOR-{letter}", f"内场站席{letter}区", "standing", 1, shape, "CORE",
                                  standing=_holding(shape, STANDING_PER_M2)))
    aisles = floor.difference(shapely.union_all(blocks))
    zones.append(ZoneSpec("FLOOR-AISLE", "内场通道", "passage", 1, aisles, "CORE"))
    track = field_e.difference(shapely.union_all([box(-34.0, -40.0, 34.0, 52.5), stage, backstage]))
    zones.append(ZoneSpec("TRACK", "跑道环形通道", "passage", 1, track, "CORE"))
    for tier, name, inner, outer in (("LS", "下层", field_e, lower_e), ("US", "上层", lower_e, upper_e)):
        ring = outer.difference(inner)
        for side, (a0, a1) in SIDES.items():
            shape = ring.intersection(_wedge(a0, a1))
            closed = side == "S"  # behind the stage
            zones.append(ZoneSpec(f"{tier}-{side}", f"{name}{SIDE_ZH[side]}看台" + ("（封闭）" if closed else ""),
                                  "stand", 1, shape, "CORE",
                                  seated=0 if closed else int(shape.area * SEATS_PER_M2 // 100 * 100)))

    # ring 2: concourse, screening areas outside each gate cluster, plaza sectors, service areas
    zones.append(ZoneSpec("BUFFER", "缓冲区（环廊及广场）", "buffer", 2, plaza_e.difference(upper_e)))
    concourse = bowl_e.difference(upper_e)
    for side, (a0, a1) in SIDES.items():
        zones.append(ZoneSpec(f"CONC-{side}", f"{SIDE_ZH[side]}侧环廊", "concourse", 2,
                              concourse.intersection(_wedge(a0, a1)), "BUFFER"))
    screening = {"N": box(-45.0, 175.0, 45.0, 205.0), "E": box(155.0, -45.0, 185.0, 45.0),
                 "S": box(-45.0, -205.0, 45.0, -175.0), "W": box(-185.0, -45.0, -155.0, 45.0)}
    for side, shape in screening.items():
        name = "南侧工作人员安检区" if side == "S" else f"{SIDE_ZH[side]}广场安检区"
        zones.append(ZoneSpec(f"SCR-{side}", name, "screening", 2, shape, "BUFFER",
                              standing=_holding(shape, HOLDING_PER_M2)))
    service = {
        "SVC-CMD": ("现场指挥所", "NE"), "SVC-EMS": ("应急车辆待命区", "SE"),
        "SVC-MEDIA": ("媒体转播保障区", "SW"), "SVC-MED": ("医疗救护站", "NW"),
    }
    service_shapes = []
    for code, (name, quadrant) in service.items():
        sx = 122.0 if "E" in quadrant else -122.0
        sy = 138.0 if "N" in quadrant else -138.0
        shape = box(sx - 20.0, sy - 12.5, sx + 20.0, sy + 12.5)
        service_shapes.append(shape)
        zones.append(ZoneSpec(code, name, "service", 2, shape, "BUFFER"))
    plaza = plaza_e.difference(bowl_e).difference(shapely.union_all([*screening.values(), *service_shapes]))
    for quadrant, (a0, a1) in QUADRANTS.items():
        shape = plaza.intersection(_wedge(a0, a1))
        zones.append(ZoneSpec(f"PLZ-{quadrant}", f"{QUADRANT_ZH[quadrant]}广场", "plaza", 2, shape, "BUFFER",
                              standing=_holding(shape, HOLDING_PER_M2)))

    # ring 3: outer perimeter, metro exit, bus stops, car parks, road segments
    zones.append(ZoneSpec("OUTER", "外围管控区", "outer", 3, box(*OUTER_BOX).difference(plaza_e)))
    metro = box(415.0, -140.0, 465.0, -90.0)
    zones.append(ZoneSpec("METRO", "地铁6号线奥体中心站出口区", "transit", 3, metro, "OUTER",
                          standing=_holding(metro, HOLDING_PER_M2)))
    for code, name, shape in (("BUS-E", "飞虹路奥体中心公交站", box(502.0, 150.0, 514.0, 200.0)),
                              ("BUS-S", "博奥路公交站", box(-100.0, -482.0, -40.0, -472.0))):
        zones.append(ZoneSpec(code, name, "transit", 3, shape, "OUTER", standing=_holding(shape, HOLDING_PER_M2)))
    parks = {"P1": (-470.0, 260.0, -300.0, 420.0), "P2": (300.0, 260.0, 460.0, 420.0),
             "P3": (300.0, -420.0, 460.0, -240.0), "P4": (-470.0, -420.0, -300.0, -240.0)}
    for code, bounds in parks.items():
        zones.append(ZoneSpec(code, f"{code}停车场", "parking", 3, box(*bounds), "OUTER"))
    roads = (("RD-WENTAO", "闻涛路（沿江段）", box(-560.0, 455.0, 560.0, 485.0)),
             ("RD-FEIHONG-N", "飞虹路（北段）", box(470.0, 0.0, 500.0, 455.0)),
             ("RD-FEIHONG-S", "飞虹路（南段）", box(470.0, -520.0, 500.0, 0.0)),
             ("RD-BOAO", "博奥路", box(-560.0, -470.0, 470.0, -440.0)),
             ("RD-DANFENG", "丹枫路", box(-525.0, -440.0, -495.0, 455.0)),
             ("RD-RING", "场馆环路", ring_road_e.difference(plaza_e)))
    for code, name, shape in roads:
        zones.append(ZoneSpec(code, name, "road", 3, shape, "OUTER"))
    zones.append(ZoneSpec("RIVER", "钱塘江沿江绿道", "passage", 3, box(-560.0, 495.0, 560.0, 540.0), "OUTER"))
    return zones


# --------------------------------------------------------------------------- points: gates, posts, devices

@dataclass(frozen=True)
class PointSpec:
    """A gate, post or device in local metres; ``zone`` is a zone code; ``data`` the other fields."""

    code: str
    name: str
    zone: str | None
    x: float
    y: float
    data: dict[str, Any] = field(default_factory=dict)


def _spots(shape: BaseGeometry, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """``n`` deterministic points strictly inside ``shape``."""
    x0, y0, x1, y1 = shape.bounds
    inner = shape.buffer(-1.0) if shape.area > 400 else shape
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if inner.contains(Point(x, y)):
            out.append((round(x, 1), round(y, 1)))
    return out


def plan_gates(zones: dict[str, ZoneSpec]) -> list[PointSpec]:
    out: list[PointSpec] = []
    # 14 stadium gates in four clusters, numbered clockwise from the north-west
    angles = [106.0, 96.0, 84.0, 74.0, 16.0, 6.0, -6.0, -16.0, -84.0, -96.0, 196.0, 186.0, 174.0, 164.0]
    for n, deg in enumerate(angles, start=1):
        side = _side(deg)
        staff = side == "S"
        x, y = _on_ellipse(BOWL, deg, inset=1.0)
        out.append(PointSpec(f"G{n:02d}", f"{n}号门" + ("（工作人员）" if staff else ""), f"CONC-{side}", x, y,
                             {"kind": "gate", "lanes": 2 if staff else 8, "width_m": 4.0 if staff else 7.2,
                              "direction": "both"}))
    # checkpoints on the outer edge of each screening area
    checkpoints = {"N": [(-30.0, 204.0), (0.0, 204.0), (30.0, 204.0)],
                   "E": [(184.0, 30.0), (184.0, 0.0), (184.0, -30.0)],
                   "S": [(0.0, -204.0)],
                   "W": [(-184.0, -30.0), (-184.0, 0.0), (-184.0, 30.0)]}
    for side, spots in checkpoints.items():
        for i, (x, y) in enumerate(spots, start=1):
            staff = side == "S"
            name = "南侧工作人员安检口" if staff else f"{SIDE_ZH[side]}广场{i}号安检口"
            out.append(PointSpec(f"AJ-{side}{i}", name, f"SCR-{side}", x, y,
                                 {"kind": "checkpoint", "lanes": 4 if staff else 12,
                                  "width_m": 8.0 if staff else 18.0, "direction": "in"}))
    out.append(PointSpec("AJ-V1", "车辆安检口（后台车道）", "PLZ-SE", 70.0, -215.0,
                         {"kind": "checkpoint", "lanes": 2, "width_m": 7.0, "direction": "in"}))
    # exits: level exits through the bowl wall, stair exits from the upper tier, floor tunnels
    for n, deg in enumerate([50.0, 40.0, -40.0, -50.0, -130.0, -140.0, 140.0, 130.0], start=1):
        side = _side(deg)
        x, y = _on_ellipse(BOWL, deg, inset=1.0)
        out.append(PointSpec(f"EX-B{n:02d}", f"{SIDE_ZH[side]}侧环廊疏散口{n}", f"CONC-{side}", x, y,
                             {"kind": "exit", "width_m": 6.0, "stair": False, "direction": "out"}))
    for n, deg in enumerate([67.5, 22.5, -22.5, -67.5, -112.5, -157.5, 157.5, 112.5], start=1):
        side = _side(deg)
        x, y = _on_ellipse(UPPER, deg, inset=2.0)
        out.append(PointSpec(f"EX-U{n:02d}", f"上层{SIDE_ZH[side]}看台疏散楼梯{n}", f"US-{side}", x, y,
                             {"kind": "exit", "width_m": 3.0, "stair": True, "direction": "out"}))
    for n, deg in enumerate([60.0, 120.0, 200.0, 340.0], start=1):
        x, y = _on_ellipse(FIELD, deg, inset=2.0)
        out.append(PointSpec(f"EX-F{n:02d}", f"内场疏散通道{n}", "TRACK", x, y,
                             {"kind": "exit", "width_m": 8.0, "stair": False, "direction": "out"}))
    for p in out:
        assert p.zone in zones, p
    return out


SKILLS = {
    "public_order": ["秩序维护", "人群疏导", "盘查"],
    "traffic": ["交通疏导", "交通管制", "事故处理"],
    "special": ["处突", "反恐", "武装巡逻"],
    "armed": ["武装警戒", "人墙阻隔", "处突"],
    "criminal": ["便衣侦查", "反扒", "视频研判"],
    "cyber": ["网络安全", "舆情监测", "无线电管控"],
    "fire": ["灭火", "抢险救援", "烟火管控"],
    "medical": ["急救", "AED", "伤员转运"],
    "volunteer": ["引导", "咨询", "外语"],
    "security": ["安检", "验票", "X光机判图", "秩序维护"],
}


def plan_posts(zones: dict[str, ZoneSpec], gates: list[PointSpec], rng: random.Random) -> list[PointSpec]:
    out: list[PointSpec] = []

    def add(name: str, zone: str, police_type: str, skills: list[str], min_staff: int, critical: bool = False,
            at: tuple[float, float] | None = None) -> None:
        x, y = at if at is not None else _spots(zones[zone].shape, 1, rng)[0]
        out.append(PointSpec(f"POST-{len(out) + 1:03d}", name, zone, x, y,
                             {"police_type": police_type, "skills": skills, "min_staff": min_staff,
                              "critical": critical}))

    for g in gates:
        kind = g.data["kind"]
        if kind == "gate":
            add(f"{g.name}秩序岗", g.zone or "", "public_order", ["秩序维护", "人群疏导"], 4,
                critical=g.code in ("G02", "G03", "G06", "G07", "G12", "G13"), at=(g.x * 0.97, g.y * 0.97))
        elif kind == "checkpoint":
            add(f"{g.name}安检岗", g.zone or "", "security", ["安检", "X光机判图"], 2 * g.data["lanes"],
                critical=True, at=(g.x * 0.98, g.y * 0.98))
    for side in SIDES:
        add(f"{SIDE_ZH[side]}广场安检区民警督导岗", f"SCR-{side}", "public_order", ["盘查", "秩序维护"], 2,
            critical=True)
    add("舞台前沿左侧处突岗", "PIT", "special", ["处突", "反恐"], 6, critical=True, at=(-20.0, -36.0))
    add("舞台前沿右侧处突岗", "PIT", "special", ["处突", "反恐"], 6, critical=True, at=(20.0, -36.0))
    add("舞台前区隔离带岗", "PIT", "security", ["秩序维护"], 20, critical=True, at=(0.0, -36.0))
    add("舞台消防监护岗", "STAGE", "fire", ["灭火", "烟火管控"], 4, critical=True)
    add("后台艺人通道岗", "BACKSTAGE", "special", ["处突", "武装巡逻"], 4, critical=True)
    add("后台消防岗（发电车）", "BACKSTAGE", "fire", ["灭火"], 2)
    for letter in "ABCDEF":
        add(f"内场站席{letter}区秩序岗", f"FLOOR-{letter}", "public_order", ["秩序维护", "人群疏导"], 4,
            critical=letter in "AB")
    add("内场通道疏导岗（中轴）", "FLOOR-AISLE", "volunteer", ["引导"], 4, at=(0.0, 10.0))
    add("内场通道疏导岗（后区）", "FLOOR-AISLE", "volunteer", ["引导"], 4, at=(0.0, 40.0))
    add("内场医疗点（东）", "TRACK", "medical", ["急救", "AED"], 3, at=(50.0, 10.0))
    add("内场医疗点（西）", "TRACK", "medical", ["急救", "AED"], 3, at=(-50.0, 10.0))
    for tier, tier_zh in (("LS", "下层"), ("US", "上层")):
        for side in SIDES:
            code = f"{tier}-{side}"
            if side == "S":
                add(f"{tier_zh}南看台封闭巡查岗", code, "public_order", ["盘查"], 2)
                continue
            add(f"{tier_zh}{SIDE_ZH[side]}看台秩序岗", code, "security", ["秩序维护"], 6)
            add(f"{tier_zh}{SIDE_ZH[side]}看台引导岗", code, "volunteer", ["引导", "咨询"], 4)
    for side in SIDES:
        add(f"{SIDE_ZH[side]}侧环廊巡逻岗", f"CONC-{side}", "public_order", ["秩序维护", "盘查"], 2)
    add("网络信息保障岗", "SVC-CMD", "cyber", ["网络安全", "无线电管控"], 2, critical=True)
    add("视频研判岗", "SVC-CMD", "criminal", ["视频研判"], 2)
    add("医疗救护站岗", "SVC-MED", "medical", ["急救", "伤员转运"], 4, critical=True)
    add("消防车待命岗", "SVC-EMS", "fire", ["灭火", "抢险救援"], 6, critical=True)
    add("救护车待命岗", "SVC-EMS", "medical", ["伤员转运"], 3)
    add("媒体区秩序岗", "SVC-MEDIA", "public_order", ["秩序维护"], 2)
    for quadrant in QUADRANTS:
        zone = f"PLZ-{quadrant}"
        add(f"{QUADRANT_ZH[quadrant]}广场巡逻岗", zone, "public_order", ["秩序维护", "人群疏导"], 3)
        add(f"{QUADRANT_ZH[quadrant]}广场便衣反扒岗", zone, "criminal", ["便衣侦查", "反扒"], 2)
    add("北广场武装巡逻岗", "PLZ-NE", "armed", ["武装警戒"], 6, critical=True)
    add("西广场武装巡逻岗", "PLZ-SW", "armed", ["武装警戒"], 6, critical=True)
    add("地铁出口疏导岗", "METRO", "public_order", ["人群疏导"], 6, critical=True)
    add("地铁出口交通岗", "METRO", "traffic", ["交通疏导"], 2)
    add("飞虹路公交站疏导岗", "BUS-E", "traffic", ["交通疏导"], 2)
    add("博奥路公交站疏导岗", "BUS-S", "traffic", ["交通疏导"], 2)
    for code in ("P1", "P2", "P3", "P4"):
        add(f"{code}停车场出入口岗", code, "traffic", ["交通疏导", "交通管制"], 3)
    for code in ("RD-WENTAO", "RD-FEIHONG-N", "RD-FEIHONG-S", "RD-BOAO", "RD-DANFENG", "RD-RING"):
        add(f"{zones[code].name}交通管制岗", code, "traffic", ["交通管制"], 4, critical=code == "RD-RING")
    for side, at in (("北", (0.0, 420.0)), ("东", (440.0, 100.0)), ("南", (0.0, -400.0)), ("西", (-440.0, 0.0))):
        add(f"外围{side}卡点", "OUTER", "armed", ["武装警戒", "处突"], 4, critical=True, at=at)
    add("沿江绿道巡逻岗", "RIVER", "public_order", ["秩序维护"], 2)
    for p in out:
        assert p.zone in zones, p
    return out


def _gb28181(n: int) -> str:
    """A 20-digit GB/T 28181 device id: 330108 (滨江区) 00 | industry 00 | type 132 (IPC) | serial."""
    return "3301080000132" + f"{n:07d}"


def plan_devices(zones: dict[str, ZoneSpec], gates: list[PointSpec], rng: random.Random) -> list[PointSpec]:
    out: list[PointSpec] = []
    count: dict[str, int] = {}

    def add(kind: str, name: str, zone: str, unit: str, props: dict[str, Any],
            at: tuple[float, float] | None = None) -> None:
        count[kind] = count.get(kind, 0) + 1
        prefix = {"camera": "CAM", "drone": "UAV", "wifi_probe": "WIFI", "bluetooth": "BT", "video_count": "VC",
                  "gate_counter": "GC", "gas": "GAS", "smoke": "SMK", "temperature": "TEMP"}[kind]
        x, y = at if at is not None else _spots(zones[zone].shape, 1, rng)[0]
        out.append(PointSpec(f"{prefix}-{count[kind]:03d}", name, zone, x, y,
                             {"kind": kind, "unit_of_measure": unit, "properties": props}))

    for g in gates:
        if g.data["kind"] == "gate":
            add("gate_counter", f"{g.name}闸机计数", g.zone or "", "人次",
                {"gate": g.code, "turnstiles": g.data["lanes"], "interval_s": 60}, at=(g.x, g.y))
    for g in gates:  # screening lanes of the pedestrian checkpoints: throughput and queue (排队)
        if g.data["kind"] == "checkpoint" and (g.zone or "").startswith("SCR-"):
            add("gate_counter", f"{g.name}通道计数", g.zone or "", "人次",
                {"gate": g.code, "lanes": g.data["lanes"], "interval_s": 60}, at=(g.x, g.y))
    for letter in "ABCDEF":
        add("video_count", f"内场站席{letter}区视频计数", f"FLOOR-{letter}", "人", {"interval_s": 10})
    for side in SIDES:
        add("video_count", f"{SIDE_ZH[side]}安检区排队计数", f"SCR-{side}", "人", {"interval_s": 10})
    add("video_count", "地铁出口客流计数", "METRO", "人", {"interval_s": 10})
    for quadrant in QUADRANTS:
        add("wifi_probe", f"{QUADRANT_ZH[quadrant]}广场WiFi探针", f"PLZ-{quadrant}", "人",
            {"radius_m": 60, "interval_s": 30})
    for side in SIDES:
        add("wifi_probe", f"{SIDE_ZH[side]}侧环廊WiFi探针", f"CONC-{side}", "人", {"radius_m": 40, "interval_s": 30})
    add("wifi_probe", "地铁出口WiFi探针", "METRO", "人", {"radius_m": 50, "interval_s": 30})
    for tier, tier_zh in (("LS", "下层"), ("US", "上层")):
        for side in ("N", "E", "W"):
            add("bluetooth", f"{tier_zh}{SIDE_ZH[side]}看台蓝牙探针", f"{tier}-{side}", "人",
                {"radius_m": 30, "interval_s": 30})
    for name, zone in (("后台发电车燃气探测", "BACKSTAGE"), ("后台餐饮区燃气探测", "BACKSTAGE"),
                       ("舞台烟火仓燃气探测", "STAGE"), ("媒体区发电机燃气探测", "SVC-MEDIA")):
        add("gas", name, zone, "ppm", {"gas": "CO", "alarm_ppm": 50, "interval_s": 10})
    for name, zone in (("后台烟感1", "BACKSTAGE"), ("后台烟感2", "BACKSTAGE"), ("舞台烟感", "STAGE"),
                       *((f"{SIDE_ZH[s]}侧环廊烟感", f"CONC-{s}") for s in SIDES)):
        add("smoke", name, zone, "%/m", {"alarm_obscuration": 4.0, "interval_s": 10})
    for name, zone in (("舞台温度", "STAGE"), ("内场前区温度", "FLOOR-A"), ("内场后区温度", "FLOOR-E"),
                       ("后台配电温度", "BACKSTAGE")):
        add("temperature", name, zone, "°C", {"alarm_c": 60, "interval_s": 30})

    cam = 0

    def camera(name: str, zone: str, at: tuple[float, float], ptz: bool, analytics: list[str]) -> None:
        nonlocal cam
        cam += 1
        add("camera", name, zone, "", {"gb28181_id": _gb28181(cam), "ptz": ptz, "analytics": analytics}, at=at)

    density = ["crowd_density", "flow_count"]
    for letter, zone in zip("ABCDEF", (f"FLOOR-{x}" for x in "ABCDEF"), strict=True):
        c = zones[zone].shape.centroid
        # mounted on the front edge of the lower stand, looking at the block
        x, y = _on_ellipse(FIELD, math.degrees(math.atan2(c.y / FIELD[1], c.x / FIELD[0])), inset=-1.0)
        camera(f"内场{letter}区全景", zone, (round(x, 1), round(y, 1)), False, density)
    camera("主舞台全景", "STAGE", (0.0, -20.0), True, ["intrusion"])
    camera("舞台前区隔离带", "PIT", (0.0, -30.0), False, ["crowd_density", "intrusion"])
    for tier, tier_zh in (("LS", "下层"), ("US", "上层")):
        for side in ("N", "E", "W"):
            x, y = zones[f"{tier}-{side}"].shape.representative_point().coords[0]
            camera(f"{tier_zh}{SIDE_ZH[side]}看台", f"{tier}-{side}", (round(x, 1), round(y, 1)), True, density)
    for side in SIDES:
        c = zones[f"SCR-{side}"].shape.centroid
        camera(f"{SIDE_ZH[side]}安检区", f"SCR-{side}", (round(c.x, 1), round(c.y, 1)), True,
               ["flow_count", "loitering"])
    for side in SIDES:
        camera(f"{SIDE_ZH[side]}侧环廊", f"CONC-{side}", _spots(zones[f"CONC-{side}"].shape, 1, rng)[0], False,
               density)
    for quadrant in QUADRANTS:
        camera(f"{QUADRANT_ZH[quadrant]}广场高点", f"PLZ-{quadrant}", _spots(zones[f"PLZ-{quadrant}"].shape, 1, rng)[0],
               True, density)
    camera("地铁出口", "METRO", (440.0, -115.0), True, density)
    for code in ("P1", "P2", "P3", "P4"):
        camera(f"{code}停车场出入口", code, _spots(zones[code].shape, 1, rng)[0], True, ["vehicle_count"])
    for code in ("RD-WENTAO", "RD-FEIHONG-N", "RD-BOAO"):
        camera(f"{zones[code].name}卡口", code, _spots(zones[code].shape, 1, rng)[0], False, ["vehicle_count"])
    for n, (zone, at) in enumerate((("CORE", (122.0, 138.0)), ("BUFFER", (-122.0, 138.0)),
                                    ("OUTER", (122.0, -138.0))), start=1):
        add("drone", f"{n}号无人机（{zones[zone].name}）", zone, "",
            {"type": "多旋翼", "max_altitude_m": 120, "endurance_min": 40, "camera": "可见光+热成像"}, at=at)
    for p in out:
        assert p.zone in zones, p
    return out


