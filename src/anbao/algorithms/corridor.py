"""Measured corridor flows against the Green Guide, the macroscopic model and JuPedSim (实测对比).

Units: metres, seconds, persons; flows in persons/s, specific flows in persons/(m s) per metre of
corridor width. Pure and typed apart from running the two models; the trajectories come in loaded
(:func:`anbao.crowd.pedestrian_io.load_trajectories`).

The measurements: the Forschungszentrum Jülich uni-directional corridor experiments ``uo-BBB-CCC-EEE``
(entrance BBB cm, corridor CCC cm, exit EEE cm wide): people wait in an area before the entrance,
walk through the corridor (x 0..C m, y 4 to -4 m, towards -y) and leave through the exit. Their
flow is counted over the measurement line y = 0 during the steady state given for each run
(:func:`anbao.algorithms.trajectories.measured_flow`: each person once, at their first crossing).

The predictions, each for the same geometry:

* **Green Guide** (绿色指南): 82 persons per metre per minute (1.367 persons/(m s)) times the narrowest
  of entrance, corridor and exit: a design rate for planning, not a measurement of crowds;
* **macroscopic model** (:func:`anbao.algorithms.evacuation.evacuate`): a waiting zone and the
  corridor zone, the entrance and the exit as links with the Green Guide capacities of their widths;
  its flow is the steady flow of the middle 60 % of ``MACRO_PERSONS`` = 1,000 persons (a long steady
  state costs nothing here), counted as for JuPedSim. In a steady state it
  passes exactly the capacity of the narrowest link, so it reproduces the Green Guide figure: the
  model adds route choice, walking times and queues, not a different flow per metre;
* **JuPedSim** (:func:`anbao.algorithms.pedsim.simulate`, collision-free speed model): the waiting
  area (10 m wide, 8 m deep) before an entrance 0.3 m deep, the 8 m corridor, an exit 0.3 m deep and
  an open outlet 2 m deep whose far strip is the exit stage. Its flow is the steady-state flow of the
  passage times: the middle 60 % of the passages, ``(i1 - i0) / (t[i1] - t[i0])`` (in a corridor
  without sources or sinks the steady flow is the same over every cross-section, so the outlet
  stands in for the line y = 0).

:func:`room_case` builds the second comparison, the macroscopic model against JuPedSim in one room
with doors (see tests/reference/test_corridor_flows.py for the tolerance and its reasons).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon, box
from shapely.ops import unary_union

from anbao.algorithms.crowdnet import LEVEL_RATE_PER_M_MIN, width_capacity
from anbao.algorithms.evacuation import EvacLink, EvacNode, EvacResult, evacuate
from anbao.algorithms.pedsim import PedResult, PedScene, simulate
from anbao.algorithms.trajectories import Trajectories, measured_flow

__all__ = [
    "stadium_network",
    "GREEN_GUIDE_SPECIFIC", "CorridorRun", "Door", "FlowFigure", "RoomCase", "compare_corridor", "corridor_network",
    "corridor_scene", "green_guide_flow", "macro_flow", "measured_corridor_flow", "pedsim_flow", "percent",
    "room_case", "steady_flow",
]

#: the Green Guide's flow on the level, persons/(m s) (82 persons/(m min))
GREEN_GUIDE_SPECIFIC = LEVEL_RATE_PER_M_MIN / 60.0
#: corridor length (y from 4 to -4), metres
CORRIDOR_LENGTH_M = 8.0
#: the share of the passages left out at each end of a simulated run for its steady state
STEADY_TRIM = 0.2
WAITING_WIDTH_M = 10.0
WAITING_DEPTH_M = 8.0
DOOR_DEPTH_M = 0.3
OUTLET_DEPTH_M = 2.0
EXIT_STRIP_M = 0.5
#: persons/m2 in the macroscopic waiting zone at most (a large crowd gets a larger zone)
WAITING_DENSITY = 2.0
#: persons in the macroscopic run: enough for a long steady state (the model costs milliseconds)
MACRO_PERSONS = 1000

_NAME = re.compile(r"^uo-(\d+)-(\d+)-(\d+)$")


def percent(value: float, reference: float) -> float:
    """The difference of ``value`` from ``reference`` in percent of the reference."""
    if reference == 0:
        raise ValueError("the reference must not be 0")
    return 100.0 * (value - reference) / reference


@dataclass(frozen=True)
class CorridorRun:
    """One corridor run: widths in metres, the steady-state frames (first, last) and the frame rate."""

    name: str
    entrance_m: float
    corridor_m: float
    exit_m: float
    steady_frames: tuple[int, int]
    fps: float = 16.0

    @classmethod
    def from_name(cls, name: str, steady_frames: tuple[int, int], fps: float = 16.0) -> CorridorRun:
        """The run named ``uo-BBB-CCC-EEE`` (widths in centimetres), e.g. ``uo-180-180-120``."""
        match = _NAME.match(name)
        if not match:
            raise ValueError(f"not a uni-directional corridor run name (uo-BBB-CCC-EEE): {name!r}")
        first, last = steady_frames
        if not 0 <= first < last:
            raise ValueError(f"steady_frames must be (first, last) with 0 <= first < last, got {steady_frames}")
        b, c, e = (int(g) / 100.0 for g in match.groups())
        return cls(name=name, entrance_m=b, corridor_m=c, exit_m=e, steady_frames=(first, last), fps=fps)

    @property
    def steady_s(self) -> tuple[float, float]:
        """The steady state in seconds (``frame / fps``)."""
        return self.steady_frames[0] / self.fps, self.steady_frames[1] / self.fps

    @property
    def narrowest_m(self) -> float:
        return min(self.entrance_m, self.corridor_m, self.exit_m)


@dataclass(frozen=True)
class FlowFigure:
    """One row of the comparison: persons/s over the corridor, persons/(m s) per metre of corridor
    width, and the difference from the measured flow in percent (None for the measurement itself)."""

    source: str
    persons_per_s: float
    specific: float
    difference_pct: float | None


def measured_corridor_flow(traj: Trajectories, run: CorridorRun, line_y: float = 0.0) -> float:
    """Persons/s over the line ``y = line_y`` across the corridor during the run's steady state."""
    t0, t1 = run.steady_s
    return measured_flow(traj, line_y, t0, t1, axis="y", span=(0.0, run.corridor_m))


def green_guide_flow(run: CorridorRun) -> float:
    """The Green Guide's flow through the narrowest width of the run, persons/s."""
    return width_capacity(run.narrowest_m)


def corridor_network(run: CorridorRun, agents: int) -> tuple[tuple[EvacNode, ...], tuple[EvacLink, ...]]:
    """The run as zones and links for the macroscopic model (module docstring); the waiting zone is
    the JuPedSim waiting area, or larger to hold ``agents`` at ``WAITING_DENSITY``."""
    waiting = max(WAITING_WIDTH_M * WAITING_DEPTH_M, agents / WAITING_DENSITY)
    nodes = (EvacNode("waiting", float(agents), waiting, WAITING_DEPTH_M),
             EvacNode("corridor", 0.0, run.corridor_m * CORRIDOR_LENGTH_M, CORRIDOR_LENGTH_M))
    links = (EvacLink("waiting", "corridor", width_capacity(min(run.entrance_m, run.corridor_m)), name="entrance"),
             EvacLink("corridor", None, width_capacity(min(run.exit_m, run.corridor_m)), name="exit"))
    return nodes, links


def macro_flow(run: CorridorRun, agents: int, *, dt_s: float = 0.5,
               trim: float = STEADY_TRIM) -> tuple[float, EvacResult]:
    """The macroscopic model's steady-state flow out of the corridor (persons/s) and its result: the
    middle ``1 - 2 * trim`` of the persons, ``(1 - 2 trim) N / (t(1 - trim) - t(trim))``, the times read
    off the evacuated count (sampled every step, linear in between) as for :func:`steady_flow`."""
    nodes, links = corridor_network(run, agents)
    result = evacuate(nodes, links, dt_s=dt_s, max_s=3600.0, sample_s=dt_s)
    if not result.finished:
        raise ValueError(f"the macroscopic model did not finish {run.name}: {result.warning}")
    count, times = np.asarray(result.evacuated_series), np.asarray(result.times_s)
    low, high = trim * result.total, (1 - trim) * result.total
    t_low, t_high = np.interp([low, high], count, times)
    if not t_high > t_low:
        raise ValueError(f"the macroscopic model passed nobody over time in {run.name}")
    return float((high - low) / (t_high - t_low)), result


def corridor_scene(run: CorridorRun, agents: int, seed: int = 0) -> PedScene:
    """The run's geometry for JuPedSim (module docstring); agents start in the waiting area."""
    mid = run.corridor_m / 2
    top = CORRIDOR_LENGTH_M / 2
    bottom = -top
    wait_y = top + DOOR_DEPTH_M
    out_y = bottom - DOOR_DEPTH_M
    waiting = box(mid - WAITING_WIDTH_M / 2, wait_y, mid + WAITING_WIDTH_M / 2, wait_y + WAITING_DEPTH_M)
    outlet = box(mid - WAITING_WIDTH_M / 2, out_y - OUTLET_DEPTH_M, mid + WAITING_WIDTH_M / 2, out_y)
    parts = [waiting, box(mid - run.entrance_m / 2, top, mid + run.entrance_m / 2, wait_y),
             box(0.0, bottom, run.corridor_m, top), box(mid - run.exit_m / 2, out_y, mid + run.exit_m / 2, bottom),
             outlet]
    walkable = unary_union(parts)
    if not isinstance(walkable, Polygon):
        raise ValueError(f"the geometry of {run.name} does not join into one polygon")
    strip = box(mid - WAITING_WIDTH_M / 2, out_y - OUTLET_DEPTH_M, mid + WAITING_WIDTH_M / 2,
                out_y - OUTLET_DEPTH_M + EXIT_STRIP_M)
    return PedScene(walkable=walkable, exits=(("exit", strip),), agents=agents, start=waiting, seed=seed)


def steady_flow(times_s: Sequence[float], trim: float = STEADY_TRIM) -> float:
    """Persons/s of the middle ``1 - 2 * trim`` of passage times: ``(i1 - i0) / (t[i1] - t[i0])``."""
    t = np.sort(np.asarray(times_s, dtype=np.float64))
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    i0, i1 = math.floor(trim * (len(t) - 1)), math.ceil((1 - trim) * (len(t) - 1))
    if len(t) < 2 or i1 <= i0 or t[i1] <= t[i0]:
        raise ValueError(f"need passages spread over time for a flow, got {len(t)}")
    return float((i1 - i0) / (t[i1] - t[i0]))


def pedsim_flow(run: CorridorRun, agents: int, *, seed: int = 0, dt: float = 0.01,
                max_s: float = 600.0) -> tuple[float, PedResult]:
    """JuPedSim's steady-state flow out of the corridor (persons/s) and its result."""
    result = simulate(corridor_scene(run, agents, seed), dt=dt, max_s=max_s, snapshot_s=2.0)
    return steady_flow(result.exit("exit").times_s), result


def compare_corridor(run: CorridorRun, traj: Trajectories, *, agents: int = 150, seed: int = 0,
                     dt: float = 0.01) -> tuple[FlowFigure, ...]:
    """Measured, Green Guide, macroscopic and JuPedSim flows of one run (module docstring); ``agents``
    for JuPedSim (about 0.1 s of computing per agent on one core)."""
    measured = measured_corridor_flow(traj, run)
    rows = [("measured", measured), ("green_guide", green_guide_flow(run)),
            ("macroscopic", macro_flow(run, MACRO_PERSONS)[0]),
            ("jupedsim", pedsim_flow(run, agents, seed=seed, dt=dt)[0])]
    return tuple(FlowFigure(source=name, persons_per_s=flow, specific=flow / run.corridor_m,
                            difference_pct=None if name == "measured" else percent(flow, measured))
                 for name, flow in rows)


# --------------------------------------------------------------------------- one room, both models

@dataclass(frozen=True)
class Door:
    """A door in a wall of the room: ``side`` east, west, north or south; ``width_m``; ``at_m`` the
    position of its centre along the wall (from the south or west corner; None: the middle)."""

    name: str
    side: str
    width_m: float
    at_m: float | None = None


@dataclass(frozen=True)
class RoomCase:
    """The same room for both models: the JuPedSim scene and the macroscopic zone and links."""

    scene: PedScene
    nodes: tuple[EvacNode, ...]
    links: tuple[EvacLink, ...]
    mean_walk_m: float


def room_case(width_m: float, depth_m: float, doors: Sequence[Door], agents: int, *, seed: int = 0,
              door_depth_m: float = 1.0) -> RoomCase:
    """A ``width_m`` x ``depth_m`` room (x east, y north, origin at the south-west corner) with doors.

    Each door is a passage ``door_depth_m`` deep outside the wall; its outer half is the exit polygon.
    The macroscopic model sees one zone (the room) with one link to safety per door at the Green
    Guide capacity of its width; the zone's walk ``length_m`` is twice the mean straight distance from
    the start area to the nearest door, so that its even spread of walks over ``[0, length]`` has the
    same mean as the room's.
    """
    if not doors:
        raise ValueError("the room needs at least one door")
    room = box(0.0, 0.0, width_m, depth_m)
    passages, exits, mouths = [room], [], []
    for door in doors:
        length = depth_m if door.side in ("east", "west") else width_m
        at = length / 2 if door.at_m is None else door.at_m
        half = door.width_m / 2
        if not half <= at <= length - half:
            raise ValueError(f"door {door.name} does not fit in its wall")
        d = door_depth_m
        if door.side == "east":
            passage, outer, mouth = (box(width_m, at - half, width_m + d, at + half),
                                     box(width_m + d / 2, at - half, width_m + d, at + half), (width_m, at))
        elif door.side == "west":
            passage, outer, mouth = box(-d, at - half, 0.0, at + half), box(-d, at - half, -d / 2, at + half), (0.0, at)
        elif door.side == "north":
            passage, outer, mouth = (box(at - half, depth_m, at + half, depth_m + d),
                                     box(at - half, depth_m + d / 2, at + half, depth_m + d), (at, depth_m))
        elif door.side == "south":
            passage, outer, mouth = box(at - half, -d, at + half, 0.0), box(at - half, -d, at + half, -d / 2), (at, 0.0)
        else:
            raise ValueError(f"door {door.name}: side must be east, west, north or south, got {door.side!r}")
        passages.append(passage)
        exits.append((door.name, outer))
        mouths.append(Point(mouth))
    walkable = unary_union(passages)
    if not isinstance(walkable, Polygon):
        raise ValueError("the room and its doors do not join into one polygon")
    scene = PedScene(walkable=walkable, exits=tuple(exits), agents=agents, seed=seed)
    start = scene.start_area
    x0, y0, x1, y1 = start.bounds
    xs, ys = np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 31))
    points = [Point(x, y) for x, y in zip(xs.ravel(), ys.ravel(), strict=True)]
    inside = [p for p in points if start.contains(p)]
    mean_walk = float(np.mean([min(p.distance(m) for m in mouths) for p in inside]))
    nodes = (EvacNode("room", float(agents), width_m * depth_m, 2 * mean_walk),)
    links = tuple(EvacLink("room", None, width_capacity(door.width_m), name=door.name) for door in doors)
    return RoomCase(scene=scene, nodes=nodes, links=links, mean_walk_m=mean_walk)


def stadium_network(people: float = 50_000.0) -> tuple[list[EvacNode], list[EvacLink]]:
    """A venue-like network (tests and bench/evacuation.py): 16 stands, a pitch, 8 concourse segments,
    8 gate plazas, 8 roads outside.

    41 zones and 118 links: vomitories (stairs) from each stand to two concourse segments, aisles between
    neighbouring stands, pitch tunnels and two pitch emergency exits, the concourse ring (open), stairs
    down to the plazas, two gates per plaza onto the roads, the roads open to safety.
    """
    nodes = [EvacNode(f"S{s + 1:02d}", people * 0.8 / 16, 900.0, 30.0) for s in range(16)]
    nodes.append(EvacNode("F", people * 0.2, 7000.0, 60.0))
    nodes += [EvacNode(f"C{c + 1}", 0.0, 1500.0, 70.0) for c in range(8)]
    nodes += [EvacNode(f"P{p + 1}", 0.0, 4000.0, 40.0) for p in range(8)]
    nodes += [EvacNode(f"R{r + 1}", 0.0, 6000.0, 80.0) for r in range(8)]
    links = []
    for s in range(16):
        code = f"S{s + 1:02d}"
        links.append(EvacLink(code, f"C{s // 2 + 1}", width_capacity(2.4, stair=True), 8.0, f"V{s + 1:02d}a"))
        links.append(EvacLink(code, f"C{(s + 1) // 2 % 8 + 1}", width_capacity(1.8, stair=True), 8.0, f"V{s + 1:02d}b"))
        links.append(EvacLink(code, f"S{(s + 1) % 16 + 1:02d}", width_capacity(1.2)))
        links.append(EvacLink(code, f"S{(s - 1) % 16 + 1:02d}", width_capacity(1.2)))
    links += [EvacLink("F", f"C{k + 1}", width_capacity(4.0), 25.0, f"T{k + 1}") for k in (0, 2, 4, 6)]
    links += [EvacLink("F", None, width_capacity(5.0), 40.0, f"EF{k}") for k in (1, 2)]
    for c in range(8):
        links.append(EvacLink(f"C{c + 1}", f"C{(c + 1) % 8 + 1}", None))
        links.append(EvacLink(f"C{c + 1}", f"C{(c - 1) % 8 + 1}", None))
        links.append(EvacLink(f"C{c + 1}", f"P{c + 1}", width_capacity(8.0, stair=True), 10.0, f"ST{c + 1}"))
    for p in range(8):
        links.append(EvacLink(f"P{p + 1}", f"R{p + 1}", width_capacity(6.0), name=f"G{p + 1}a"))
        links.append(EvacLink(f"P{p + 1}", f"R{(p + 1) % 8 + 1}", width_capacity(4.0), name=f"G{p + 1}b"))
        links.append(EvacLink(f"R{p + 1}", None, None, name=f"OUT{p + 1}"))
    return nodes, links
