"""Evacuation of one area with JuPedSim (微观仿真, agent by agent) and its density grid (密度网格).

Units: metres (the scene's local metric frame), seconds, persons, persons/m2 for densities, persons/s
for flows, m/s for speeds. Times are seconds from the start of the simulation.

The whole venue is evacuated with the macroscopic model (:mod:`anbao.algorithms.evacuation`); this
module looks at one area in detail: a square, a concourse, a gate plaza. JuPedSim's collision-free
speed model (Tordeux, Chraibi and Seyfried 2016) moves each agent at its desired speed, slowed by the
gap to whoever is ahead (time gap 1 s), and steers it away from neighbours and walls. On two cores
it runs about 150,000-230,000 agent-steps per second (DESIGN.md): 1,000 agents at ``dt`` = 0.01 s is
about real time, so scenes of a few thousand agents are the practical limit.

The scene (:class:`PedScene`)
-----------------------------
``walkable``: a shapely Polygon (holes for pillars, stages, fences; few segments per curve, since the
model's cost grows with the walls near the agents); ``exits``: named polygons inside the walkable area
at the doors, an agent that steps into one has left. Draw a door as a short passage (about 1 m) out of
the room and the exit as its outer half, spanning the door's width: the flow then depends on the door,
not on where agents vanish (the exit's width is read off the polygon for the exit choice). ``agents`` persons are
placed in ``start`` (default: the walkable area less 1 m around the exits), seeded by ``seed``, at least
``radius + 0.05`` m from walls:

* up to ``PLACEMENT_FILL`` of a hexagonal packing at ``2 * radius + 0.1`` m (2.3 persons/m2 of the
  usable area with the default radius 0.2 m), at random with :func:`jupedsim.distribute_by_number`
  (numpy's global random state, which that function reseeds, is restored afterwards);
* denser, as real waiting areas and queues are (3-4 persons/m2 and more), on a hexagonal lattice at
  ``2 * radius + 0.05`` m, a seeded random choice of its sites. The densest start is the full lattice,
  ``2 / (sqrt(3) * (2 * radius + 0.05)**2)`` persons/m2 of the area at least ``radius + 0.05`` m from
  the walls: 5.7 with radius 0.2 m (the jam density of Weidmann's relation is 5.4), 3.8 with 0.25 m,
  9.4 with 0.15 m. A 5.6 m x 6.7 m waiting area less 1 m around a door takes 165 agents (4.4
  persons/m2 of its area).

Exit choice
-----------
The same rule as the macroscopic model: each agent heads for the exit with the least estimated time
``T = walking distance / desired_speed + persons ahead / exit flow``. The walking distance is the
length of JuPedSim's shortest path (its navigation mesh) to a point of the exit; the exit flow is
estimated as the exit's width (the long side of its minimum rotated rectangle) x 1.5 persons/(m s),
the bottleneck flow typical of this model; "persons ahead" are the agents already assigned to that
exit in the order of their distance to the nearest exit (closest first). Every ``reroute_s`` seconds
the choice is made again and an agent switches when another exit is quicker by more than 2 s and 10 %
of its current estimate (so that agents do not flap between two nearly equal exits).

Measurements
------------
Each exit records the time each agent left through it; its flow is ``(persons - 1) / (last - first)``
(persons/s between the first and the last passage). The density grid has square cells of ``cell_m``
covering the walkable area's bounding box; every ``snapshot_s`` the agents in each cell are counted
and divided by the cell's walkable area (at least half a cell, so that a sliver cut by a wall with one
person in it does not read as a crush; cells with no walkable area are NaN). Hot spots are the cells
with the highest density over the run, with the time of their peak. Counting in cells reads single
persons as densities: one person in a 1 m cell is 1 person/m2, in a 0.5 m cell 4, so keep ``cell_m``
at 1 m or more for hot spots (the maximum over the run picks up the chance moments when two people
share a small cell).

Jams
----
An agent of the default radius (0.2 m, 0.4 m wide) can block a door not much wider than itself: in a
0.5 m door the model's agents wedge against each other and the door frame and stop for good (a real
crowd would squeeze through one by one, at 0.6-0.9 persons/s). When nobody has left for ``JAM_S``
seconds and the agents still inside moved less than ``JAM_MOVE_M`` metres on average in that time,
the run stops with ``jammed = True`` and a warning naming the exits the stuck agents were heading
for, their width and the agents' width: the microscopic result is then not an evacuation time (use
the macroscopic model's for the door's capacity).

The grid is returned as numbers; :func:`anbao.crowd.heatmap.heatmap_png` draws it as a PNG.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

__all__ = ["HotSpot", "PedExit", "PedResult", "PedScene", "PedSimError", "exit_width", "simulate"]

FloatArray = NDArray[np.float64]

#: metres between agents placed at the start, beyond two radii
PLACEMENT_GAP_M = 0.1
#: metres between the agents placed at the start and the walls, beyond one radius
WALL_GAP_M = 0.05
#: share of a hexagonal packing the random placement is asked to reach at most (random sequential
#: placement jams near 60 % of it); denser starts are placed on a lattice
PLACEMENT_FILL = 0.5
#: metres between agents on the start lattice, beyond two radii (module docstring: the densest start)
LATTICE_GAP_M = 0.05
#: seconds without anybody leaving, and mean metres moved in them, below which the run is jammed
JAM_S = 10.0
JAM_MOVE_M = 0.5
#: metres around the exits kept free of agents by the default start area
EXIT_CLEARANCE_M = 1.0
#: persons/(m s): the exit flow assumed in the exit choice
ROUTE_FLOW = 1.5
#: an agent switches exit when another is quicker by more than this many seconds and SWITCH_SHARE
SWITCH_S = 2.0
SWITCH_SHARE = 0.1
#: the number of hot spots reported
HOT_SPOTS = 5


class PedSimError(ValueError):
    """A scene JuPedSim cannot run; the message names the exit or the numbers."""


def _polygon(what: str, geom: object) -> Polygon:
    if not isinstance(geom, Polygon) or geom.is_empty:
        raise PedSimError(f"{what} must be a non-empty shapely Polygon, got {type(geom).__name__}")
    if not geom.is_valid:
        raise PedSimError(f"{what} is not a valid polygon ({shapely.is_valid_reason(geom)})")
    if not geom.area > 0:
        raise PedSimError(f"{what} must have a positive area")
    return geom


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon):
        return [p for p in geom.geoms if not p.is_empty]
    return [p for p in getattr(geom, "geoms", []) if isinstance(p, Polygon) and not p.is_empty]


def exit_width(exit_polygon: Polygon) -> float:
    """The width of a door's exit polygon, metres: the long side of its minimum rotated rectangle."""
    box = exit_polygon.minimum_rotated_rectangle
    xy = np.asarray(box.exterior.coords)
    sides = np.hypot(*np.diff(xy, axis=0).T)
    return float(sides.max()) if len(sides) else 0.0


@dataclass(frozen=True)
class PedScene:
    """One area to evacuate (module docstring).

    walkable: shapely Polygon in metres, holes allowed; exits: (name, Polygon) pairs inside the
    walkable area at the doors; agents: persons to place; start: where they start (None: the walkable
    area less ``EXIT_CLEARANCE_M`` around the exits); seed: of the placement; desired_speed: m/s;
    radius: of an agent, metres.
    """

    walkable: Polygon
    exits: tuple[tuple[str, Polygon], ...]
    agents: int
    start: Polygon | None = None
    seed: int = 0
    desired_speed: float = 1.34
    radius: float = 0.2

    def __post_init__(self) -> None:
        walkable = _polygon("the walkable area", self.walkable)
        if not self.exits:
            raise PedSimError("the scene has no exits: give at least one (name, polygon) inside the walkable area")
        names: set[str] = set()
        for item in self.exits:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and item[0].strip()):
                raise PedSimError(f"each exit must be a (name, Polygon) pair with a non-empty name, got {item!r}")
            name, poly = item
            if name in names:
                raise PedSimError(f"duplicate exit name {name!r}")
            names.add(name)
            _polygon(f"exit {name}", poly)
            if poly.interiors:
                raise PedSimError(f"exit {name} must be a polygon without holes")
            outside = poly.difference(walkable).area
            if outside > 1e-6 * max(poly.area, 1.0):
                raise PedSimError(f"exit {name} lies outside the walkable area: {outside:.2f} of its "
                                  f"{poly.area:.2f} m2 are not walkable (place exits inside, at the doors)")
        if not isinstance(self.agents, int) or isinstance(self.agents, bool) or self.agents < 0:
            raise PedSimError(f"agents must be an integer >= 0, got {self.agents!r}")
        for what, value in (("desired_speed", self.desired_speed), ("radius", self.radius)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise PedSimError(f"{what} must be a finite number > 0, got {value!r}")
        if self.start is not None:
            start = _polygon("the start area", self.start)
            outside = start.difference(walkable).area
            if outside > 1e-6 * max(start.area, 1.0):
                raise PedSimError(f"the start area lies outside the walkable area ({outside:.2f} m2)")
        capacity = self.capacity
        if self.agents > capacity:
            area = sum(p.area for p in _parts(self.start_area))
            raise PedSimError(f"{self.agents} agents do not fit in the start area of {area:.1f} m2: at most about "
                              f"{capacity} ({capacity / max(area, 1e-9):.1f} persons/m2) with agents of radius "
                              f"{self.radius:.2f} m at least {self.lattice_spacing:.2f} m apart")

    @property
    def spacing(self) -> float:
        """Least distance between agents' centres at the start, metres."""
        return 2 * self.radius + PLACEMENT_GAP_M

    @property
    def start_area(self) -> BaseGeometry:
        """Where agents start: ``start`` or the walkable area less ``EXIT_CLEARANCE_M`` around the exits."""
        if self.start is not None:
            return self.start
        doors = shapely.unary_union([poly for _, poly in self.exits]).buffer(EXIT_CLEARANCE_M)
        return self.walkable.difference(doors)

    @property
    def lattice_spacing(self) -> float:
        """Distance between agents' centres on the start lattice (dense starts), metres."""
        return 2 * self.radius + LATTICE_GAP_M

    @property
    def random_capacity(self) -> int:
        """How many agents are placed at random: ``PLACEMENT_FILL`` of a hexagonal packing at ``spacing``
        on the area at least ``radius + WALL_GAP_M`` from its edges."""
        usable = sum(p.buffer(-(self.radius + WALL_GAP_M)).area for p in _parts(self.start_area))
        return math.floor(PLACEMENT_FILL * usable / (math.sqrt(3) / 2 * self.spacing ** 2))

    @functools.cached_property
    def lattice(self) -> tuple[FloatArray, ...]:
        """The start lattice's sites in each part of the start area, (sites, 2) arrays."""
        return tuple(_lattice(p.buffer(-(self.radius + WALL_GAP_M)), self.lattice_spacing)
                     for p in _parts(self.start_area) if p.area > 0)

    @property
    def capacity(self) -> int:
        """How many agents the start area takes: the sites of the start lattice (module docstring), or
        the random placement's when that is more."""
        return max(self.random_capacity, sum(len(s) for s in self.lattice))


def _lattice(usable: BaseGeometry, spacing: float) -> FloatArray:
    """The sites of a hexagonal lattice at ``spacing`` metres that lie in ``usable``, (sites, 2)."""
    if usable.is_empty:
        return np.zeros((0, 2))
    x0, y0, x1, y1 = usable.bounds
    rows = np.arange(y0, y1 + 1e-9, spacing * math.sqrt(3) / 2)
    cols = np.arange(x0, x1 + spacing, spacing)
    gx, gy = np.meshgrid(cols, rows)
    gx = gx + (np.arange(len(rows)) % 2)[:, None] * spacing / 2
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.intersects_xy(usable, xy[:, 0], xy[:, 1])
    out: FloatArray = xy[inside]
    return out


@dataclass(frozen=True)
class PedExit:
    """Agents out through one exit: persons; flow_per_s = (persons - 1) / (last_s - first_s) persons/s
    (None for fewer than two or no time between them); first_s, last_s: seconds; times_s: every
    passage, ascending."""

    name: str
    persons: int
    flow_per_s: float | None
    first_s: float | None
    last_s: float | None
    times_s: tuple[float, ...]


@dataclass(frozen=True)
class HotSpot:
    """A density grid cell: centre x, y (metres), its highest density (persons/m2) and when (seconds)."""

    x: float
    y: float
    density: float
    time_s: float


@dataclass(frozen=True, eq=False)
class PedResult:
    """What :func:`simulate` found.

    finished: every agent left within ``max_s``; clearance_s: when the last one did (None if not);
    jammed: the run stopped because the agents jammed (module docstring: Jams); warning: Chinese
    text when the time cap was hit or the agents jammed; evacuated, remaining: agents; exits: per exit in
    the scene's order. times_s (snapshots,) and density (snapshots, rows, columns): persons/m2 per
    cell, row 0 at the bottom (y = extent[1]), NaN outside the walkable area (read-only arrays);
    extent: (x min, y min, x max, y max) of the grid in metres; cell_m: the cell side. agent_steps:
    agents moved summed over all iterations; wall_s: seconds of computing (placement included).
    """

    scene: PedScene
    finished: bool
    clearance_s: float | None
    warning: str | None
    evacuated: int
    remaining: int
    exits: tuple[PedExit, ...]
    times_s: FloatArray
    density: FloatArray
    extent: tuple[float, float, float, float]
    cell_m: float
    hot_spots: tuple[HotSpot, ...]
    agent_steps: int
    wall_s: float
    dt: float
    iterations: int
    jammed: bool = False

    @property
    def max_density(self) -> FloatArray:
        """The highest density of each cell over the run (rows, columns), NaN outside the walkable area."""
        if len(self.density) == 0:
            return np.full(self.density.shape[1:], math.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (not walkable) stay NaN
            out: FloatArray = np.nanmax(self.density, axis=0)
        return out

    def exit(self, name: str) -> PedExit:
        for e in self.exits:
            if e.name == name:
                return e
        raise KeyError(name)


# --------------------------------------------------------------------------- helpers

def _place(scene: PedScene) -> list[tuple[float, float]]:
    """Agent start positions, seeded; each part of a split start area gets agents by its area."""
    import jupedsim as jps

    parts = [p for p in _parts(scene.start_area) if p.area > 0]
    if scene.agents and not parts:
        raise PedSimError(f"{scene.agents} agents do not fit: the start area is empty")
    if scene.agents > scene.random_capacity:
        return _place_on_lattice(scene)
    areas = np.array([p.area for p in parts])
    share = scene.agents * areas / areas.sum() if len(parts) else areas
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts))[:scene.agents - int(counts.sum())]:
        counts[i] += 1
    positions: list[tuple[float, float]] = []
    state = np.random.get_state()  # distribute_by_number reseeds numpy's global generator
    try:
        for k, (part, count) in enumerate(zip(parts, counts, strict=True)):
            if count == 0:
                continue
            try:
                placed = jps.distribute_by_number(
                    polygon=part, number_of_agents=int(count), distance_to_agents=scene.spacing,
                    distance_to_polygon=scene.radius + WALL_GAP_M, seed=scene.seed + 7919 * k)
            except jps.AgentNumberError as exc:
                raise PedSimError(f"{scene.agents} agents do not fit in the start area of {areas.sum():.1f} m2 at "
                                  f"{scene.spacing:.2f} m apart ({exc.message})") from None
            positions.extend((float(x), float(y)) for x, y in placed)
    finally:
        np.random.set_state(state)
    return positions


def _place_on_lattice(scene: PedScene) -> list[tuple[float, float]]:
    """A dense start: a seeded random choice of the start lattice's sites, each part by its sites."""
    sites = scene.lattice
    total = sum(len(s) for s in sites)
    if scene.agents > total:
        raise PedSimError(f"{scene.agents} agents do not fit in the start area: at most {total} with agents of "
                          f"radius {scene.radius:.2f} m")
    share = np.array([scene.agents * len(s) / total for s in sites])
    counts = np.minimum(np.floor(share).astype(int), [len(s) for s in sites])
    for i in np.argsort(-(share - counts)):
        if counts.sum() >= scene.agents:
            break
        if counts[i] < len(sites[i]):
            counts[i] += 1
    rng = np.random.default_rng(scene.seed)
    positions: list[tuple[float, float]] = []
    for part, count in zip(sites, counts, strict=True):
        for i in sorted(rng.choice(len(part), size=int(count), replace=False)):
            positions.append((float(part[i, 0]), float(part[i, 1])))
    return positions


def _path_length(routing: object, start: tuple[float, float], target: tuple[float, float]) -> float:
    try:
        points = np.asarray(routing.compute_waypoints(start, target))  # type: ignore[attr-defined]
    except RuntimeError:  # a point a hair outside the navigation mesh: the straight line
        return math.hypot(target[0] - start[0], target[1] - start[1])
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def _assign(dist: FloatArray, current: NDArray[np.int64], speed: float, rate: FloatArray) -> NDArray[np.int64]:
    """Exit per agent by the rule of the module docstring; ``current`` -1 for agents without one yet."""
    n_agents, _ = dist.shape
    choice = np.empty(n_agents, dtype=np.int64)
    ahead = np.zeros(dist.shape[1])
    walk = dist / speed
    for a in np.argsort(dist.min(axis=1), kind="stable"):
        estimate = walk[a] + ahead / rate
        best = int(np.argmin(estimate))
        cur = int(current[a])
        if cur >= 0 and estimate[cur] - estimate[best] <= max(SWITCH_S, SWITCH_SHARE * estimate[cur]):
            best = cur
        choice[a] = best
        ahead[best] += 1.0
    return choice


@dataclass(frozen=True)
class _Grid:
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    area: FloatArray  # (ny, nx): the denominator per cell, NaN where nothing is walkable

    @classmethod
    def over(cls, walkable: Polygon, cell: float) -> _Grid:
        x0, y0, x1, y1 = walkable.bounds
        nx, ny = max(1, math.ceil((x1 - x0) / cell - 1e-9)), max(1, math.ceil((y1 - y0) / cell - 1e-9))
        xs = x0 + cell * np.arange(nx)
        ys = y0 + cell * np.arange(ny)
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx, gy, gx + cell, gy + cell)
        walk = np.asarray(shapely.area(shapely.intersection(boxes, walkable)), dtype=np.float64)
        area = np.where(walk > 1e-9, np.maximum(walk, 0.5 * cell * cell), math.nan)
        return cls(x0, y0, cell, nx, ny, area)

    def density(self, xy: FloatArray) -> FloatArray:
        counts = np.zeros((self.ny, self.nx))
        if len(xy):
            ix = np.clip(((xy[:, 0] - self.x0) / self.cell).astype(np.int64), 0, self.nx - 1)
            iy = np.clip(((xy[:, 1] - self.y0) / self.cell).astype(np.int64), 0, self.ny - 1)
            np.add.at(counts, (iy, ix), 1.0)
        out: FloatArray = counts / self.area
        return out


def _hot_spots(grid: _Grid, times: FloatArray, stack: FloatArray) -> tuple[HotSpot, ...]:
    if len(stack) == 0:
        return ()
    filled = np.where(np.isnan(stack), -1.0, stack)
    peak = filled.max(axis=0)
    when = filled.argmax(axis=0)
    order = np.argsort(-peak, axis=None, kind="stable")[:HOT_SPOTS]
    spots = []
    for flat in order:
        iy, ix = divmod(int(flat), grid.nx)
        if peak[iy, ix] <= 0:
            break
        spots.append(HotSpot(x=grid.x0 + (ix + 0.5) * grid.cell, y=grid.y0 + (iy + 0.5) * grid.cell,
                             density=float(peak[iy, ix]), time_s=float(times[when[iy, ix]])))
    return tuple(spots)


def _jammed(seen: deque[tuple[float, dict[int, tuple[float, float]]]], now: float, last_out: float,
            where: dict[int, tuple[float, float]]) -> bool:
    """Whether nobody left for ``JAM_S`` seconds and the agents inside moved less than ``JAM_MOVE_M`` on
    average since the snapshot ``JAM_S`` ago (``seen``: the snapshots since, updated here)."""
    seen.append((now, where))
    while len(seen) > 1 and seen[1][0] <= now - JAM_S + 1e-9:
        seen.popleft()
    then, before = seen[0]
    if now - then < JAM_S - 1e-9 or now - last_out < JAM_S - 1e-9 or not where:
        return False
    moved = [math.dist(p, before[a]) for a, p in where.items() if a in before]
    return bool(moved) and float(np.mean(moved)) < JAM_MOVE_M


# --------------------------------------------------------------------------- the simulation

def simulate(scene: PedScene, *, max_s: float = 600.0, dt: float = 0.01, snapshot_s: float = 1.0,
             cell_m: float = 1.0, reroute_s: float = 2.0,
             progress: Callable[[float], None] | None = None) -> PedResult:
    """Run ``scene`` with JuPedSim's CollisionFreeSpeedModel until every agent left or ``max_s`` seconds.

    dt: step, seconds; snapshot_s: interval of the density grids, seconds; cell_m: grid cell side,
    metres; reroute_s: interval of the exit choice, seconds (module docstring). At the time cap the
    partial result is returned with ``finished = False`` and a Chinese warning; so it is, with ``jammed =
    True``, when the agents jam (module docstring: Jams, checked at the density snapshots). ``progress`` is called
    at every density snapshot with the share done (0-1): agents out, or the time cap used, whichever is more.

    Raises :class:`PedSimError` (a ValueError) when the agents cannot be placed.
    """
    import jupedsim as jps

    for what, value in (("max_s", max_s), ("dt", dt), ("snapshot_s", snapshot_s), ("cell_m", cell_m),
                        ("reroute_s", reroute_s)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise PedSimError(f"{what} must be a finite number > 0, got {value!r}")
    started = time.perf_counter()
    positions = _place(scene)
    sim = jps.Simulation(model=jps.CollisionFreeSpeedModel(), geometry=scene.walkable, dt=dt)
    routing = jps.RoutingEngine(scene.walkable)
    stages, journeys, targets = [], [], []
    for _, poly in scene.exits:
        stage = sim.add_exit_stage(poly)
        stages.append(stage)
        journeys.append(sim.add_journey(jps.JourneyDescription([stage])))
        point = poly.centroid if poly.contains(poly.centroid) else poly.representative_point()
        targets.append((float(point.x), float(point.y)))
    rate = np.array([max(exit_width(poly), 2 * scene.radius) * ROUTE_FLOW for _, poly in scene.exits])

    def distances(points: Sequence[tuple[float, float]]) -> FloatArray:
        return np.array([[_path_length(routing, p, t) for t in targets] for p in points]).reshape(
            len(points), len(targets))

    choice = _assign(distances(positions), np.full(len(positions), -1, dtype=np.int64), scene.desired_speed, rate)
    exit_of: dict[int, int] = {}
    for (x, y), e in zip(positions, choice, strict=True):
        agent = sim.add_agent(jps.CollisionFreeSpeedModelAgentParameters(
            position=(x, y), journey_id=journeys[int(e)], stage_id=stages[int(e)],
            desired_speed=scene.desired_speed, radius=scene.radius))
        exit_of[int(agent)] = int(e)

    grid = _Grid.over(scene.walkable, cell_m)
    every_snapshot = max(1, round(snapshot_s / dt))
    every_reroute = max(1, round(reroute_s / dt))
    max_iterations = max(1, math.ceil(max_s / dt - 1e-9))
    snap_t: list[float] = [0.0]
    snaps: list[FloatArray] = [grid.density(np.asarray(positions, dtype=np.float64).reshape(-1, 2))]
    passages: list[list[float]] = [[] for _ in scene.exits]
    agent_steps = 0
    iteration = 0
    last_out = 0.0
    seen: deque[tuple[float, dict[int, tuple[float, float]]]] = deque()  # snapshots of the last JAM_S seconds
    jammed = False
    while exit_of and iteration < max_iterations and not jammed:
        agent_steps += sim.agent_count()
        sim.iterate()
        iteration += 1
        now = iteration * dt
        for agent_id in sim.removed_agents():
            passages[exit_of.pop(int(agent_id))].append(now)
            last_out = now
        snapshot = iteration % every_snapshot == 0
        reroute = iteration % every_reroute == 0 and len(targets) > 1 and bool(exit_of)
        if snapshot or reroute:
            # agents reported removed are taken out at the start of the next iteration: skip them
            agents = [a for a in sim.agents() if int(a.id) in exit_of]
            xy = [a.position for a in agents]
            if snapshot:
                snap_t.append(now)
                snaps.append(grid.density(np.asarray(xy, dtype=np.float64).reshape(-1, 2)))
                jammed = _jammed(seen, now, last_out, {int(a.id): a.position for a in agents})
                if progress is not None:
                    progress(max(1.0 - len(exit_of) / max(scene.agents, 1), iteration / max_iterations))
            if reroute:
                ids = [int(a.id) for a in agents]
                new = _assign(distances(xy), np.array([exit_of[i] for i in ids], dtype=np.int64),
                              scene.desired_speed, rate)
                for agent_id, e in zip(ids, new, strict=True):
                    if exit_of[agent_id] != int(e):
                        sim.switch_agent_journey(agent_id=agent_id, journey_id=journeys[int(e)],
                                                 stage_id=stages[int(e)])
                        exit_of[agent_id] = int(e)
    if snap_t[-1] < iteration * dt:
        snap_t.append(iteration * dt)
        left = [a.position for a in sim.agents() if int(a.id) in exit_of]
        snaps.append(grid.density(np.asarray(left, dtype=np.float64).reshape(-1, 2)))
    remaining = len(exit_of)
    finished = remaining == 0
    if finished:
        warning = None
    elif jammed:
        stuck = sorted(set(exit_of.values()))
        doors = "、".join(f"{scene.exits[i][0].split('#', 1)[0]}（宽 {exit_width(scene.exits[i][1]):.2f} 米）"
                         for i in stuck)
        warning = (f"出口堵塞：{JAM_S:g} 秒内无人通过、人群停滞，仿真在 {iteration * dt:.0f} 秒时停止，仍有 "
                   f"{remaining} 人未疏散。出口 {doors} 相对智能体宽度（直径 {2 * scene.radius:.2f} 米）过窄，"
                   "微观模型中的人卡在门口；通行时间请以宏观模型为准")
    else:
        warning = f"仿真在 {max_s:g} 秒内未完成：仍有 {remaining} 人未疏散"
    all_times = [t for times in passages for t in times]
    exits = []
    for (name, _), times in zip(scene.exits, passages, strict=True):
        first, last = (times[0], times[-1]) if times else (None, None)
        flow = (len(times) - 1) / (last - first) if first is not None and last is not None and last > first else None
        exits.append(PedExit(name=name, persons=len(times), flow_per_s=flow, first_s=first, last_s=last,
                             times_s=tuple(times)))
    times_arr = np.array(snap_t, dtype=np.float64)
    stack = np.array(snaps, dtype=np.float64).reshape(len(snaps), grid.ny, grid.nx)
    hot = _hot_spots(grid, times_arr, stack)
    times_arr.flags.writeable = False
    stack.flags.writeable = False
    return PedResult(
        scene=scene, finished=finished,
        clearance_s=(max(all_times) if all_times else 0.0) if finished else None,
        warning=warning, jammed=jammed,
        evacuated=len(all_times), remaining=remaining, exits=tuple(exits), times_s=times_arr, density=stack,
        extent=(grid.x0, grid.y0, grid.x0 + grid.nx * cell_m, grid.y0 + grid.ny * cell_m), cell_m=cell_m,
        hot_spots=hot, agent_steps=agent_steps, wall_s=time.perf_counter() - started, dt=dt, iterations=iteration)
