"""Replay measured pedestrian trajectories as an overhead camera: persons per zone, densities and line flows.

Units: positions in metres, times in seconds from frame 0 (``time = frame / fps``), zone areas in
square metres, densities in persons/m2, flows in persons per second. Zones are shapely polygons in
the same local metric frame as the trajectories.

Pure: data in, numbers out. Reading trajectory files (their text format, in ``m``, ``cm`` or ``mm``,
converted to metres), zone GeoJSON and writing the counts as CSV are in :mod:`anbao.crowd.pedestrian_io`.

Counting rule (:func:`count_per_zone`)
--------------------------------------
The camera takes a snapshot every ``step_s`` seconds on the recording clock: at ``t = k * step_s``
for every integer ``k`` with ``t`` within the recording, it looks at the frame nearest ``t``
(``round(t * fps)``). A zone's count is the number of persons recorded in that frame whose position
is in the zone; persons missing from the frame (tracking gaps) are not counted.

**Boundaries are half-open.** A person strictly inside a zone is in it. A person exactly on a zone's
edge is in the zone if the point moved by an infinitesimal step in the fixed direction
``(cos 1, sin 1)`` (up and to the right) is inside it. For axis-parallel rectangles this is the
familiar ``[x0, x1) x [y0, y1)``: the left and lower edges belong to the zone, the right and upper
edges to the neighbour. Consequences:

* zones that tile an area without overlap count every person in the area exactly once, whatever
  their order, including persons on a shared edge or corner (counts are conserved);
* overlapping zones (e.g. a whole corridor and the measurement area inside it) each count a person
  inside both, and consistently so on edges they share;
* a person exactly on the right or upper outer edge of the outermost zone is outside it, as in any
  half-open binning. (An edge running exactly along ``(cos 1, sin 1)`` cannot be resolved this way;
  a person on it counts as inside. No practical zone has such an edge.)

density = count / zone area.

Flow rule (:func:`measured_flow`)
---------------------------------
A person crosses the line between two consecutive recorded positions whose side of the line differs
(side = coordinate ``>= line`` or ``< line``, the same half-open rule); the crossing time and place
are linearly interpolated. Each person counts once, at their **first** crossing (as PedPy's N-t
diagram does), so a person swaying back and forth over the line is not counted several times, and
both walking directions count. flow = persons whose first crossing falls in ``[t0, t1)`` divided by
``t1 - t0``. Divide by the width of the passage for the specific flow in persons/(m s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

Axis = Literal["x", "y"]

#: infinitesimal step of the half-open boundary rule, metres (far below the data's 0.01 mm resolution)
_EPS_M = 1e-9
_NUDGE_X = _EPS_M * math.cos(1.0)
_NUDGE_Y = _EPS_M * math.sin(1.0)


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _readonly(values: ArrayLike, dtype: type) -> NDArray[Any]:
    array: NDArray[Any] = np.array(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"trajectory columns must be one-dimensional, got shape {array.shape}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Measured positions, one row per person per frame, sorted by (frame, person).

    person: person ids; frame: frame numbers; x, y: positions in metres; z: the person's height in
    metres (NaN when the file has none); fps: frames per second, so ``time_s = frame / fps``.
    The columns are read-only numpy arrays of equal length; the constructor sorts the rows and
    rejects non-finite positions and a person appearing twice in one frame.
    """

    person: NDArray[np.int64]
    frame: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    z: NDArray[np.float64]
    fps: float

    def __post_init__(self) -> None:
        _finite("fps", self.fps)
        if self.fps <= 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        ids = [np.asarray(self.person), np.asarray(self.frame)]
        for name, raw in zip(("person", "frame"), ids, strict=True):
            if raw.dtype.kind not in "iu" and not (np.isfinite(raw) & (raw == np.round(raw))).all():
                raise ValueError(f"{name} must hold integers")
        person, frame = (c.astype(np.int64) for c in ids)
        columns = [np.asarray(c, dtype=np.float64) for c in (self.x, self.y, self.z)]
        if len({len(person), len(frame), *(len(c) for c in columns)}) != 1:
            raise ValueError("person, frame, x, y and z must have the same length")
        if not (np.isfinite(columns[0]).all() and np.isfinite(columns[1]).all()):
            raise ValueError("x and y must be finite")
        order = np.lexsort((person, frame))
        person, frame = person[order], frame[order]
        if len(person) > 1:
            same = (frame[1:] == frame[:-1]) & (person[1:] == person[:-1])
            if same.any():
                i = int(np.argmax(same))
                raise ValueError(f"person {person[i]} appears twice in frame {frame[i]}")
        object.__setattr__(self, "person", _readonly(person, np.int64))
        object.__setattr__(self, "frame", _readonly(frame, np.int64))
        for name, column in zip(("x", "y", "z"), columns, strict=True):
            object.__setattr__(self, name, _readonly(column[order], np.float64))

    def __len__(self) -> int:
        return len(self.person)

    @property
    def time_s(self) -> NDArray[np.float64]:
        """Time of each row in seconds (``frame / fps``)."""
        return self.frame / self.fps

    @property
    def persons(self) -> tuple[int, ...]:
        """The distinct person ids, ascending."""
        return tuple(int(p) for p in np.unique(self.person))

    @property
    def frames(self) -> tuple[int, ...]:
        """The distinct frame numbers that hold at least one person, ascending."""
        return tuple(int(f) for f in np.unique(self.frame))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of all positions in metres (ValueError when empty)."""
        if len(self) == 0:
            raise ValueError("no positions")
        return float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max())


@dataclass(frozen=True)
class ZoneCount:
    """Persons in one zone at one snapshot.

    time_s: snapshot time in seconds (``frame / fps`` of the frame used); zone: the zone's key;
    count: persons; density: persons/m2 (count / zone area).
    """

    time_s: float
    zone: str
    count: int
    density: float


def _area(code: str, zone: BaseGeometry) -> float:
    if not isinstance(zone, BaseGeometry) or zone.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"zone {code!r} must be a shapely Polygon, got {type(zone).__name__}")
    area = float(zone.area)
    if not (math.isfinite(area) and area > 0):
        raise ValueError(f"zone {code!r} must have a positive area, got {area}")
    return area


def in_zone(zone: BaseGeometry, x: ArrayLike, y: ArrayLike) -> NDArray[np.bool_]:
    """Which points (x, y in metres) are in ``zone`` under the half-open boundary rule (module docstring)."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    inside = np.asarray(shapely.contains_xy(zone, xs, ys), dtype=bool)
    edge = np.asarray(shapely.intersects_xy(zone, xs, ys), dtype=bool) & ~inside
    if edge.any():
        ex, ey = xs[edge], ys[edge]
        nudged = np.asarray(shapely.contains_xy(zone, ex + _NUDGE_X, ey + _NUDGE_Y), dtype=bool)
        # an edge running along the nudge direction: the nudged point is still on it; count it as inside
        along = np.asarray(shapely.intersects_xy(zone, ex + _NUDGE_X, ey + _NUDGE_Y), dtype=bool) & ~nudged
        inside[edge] = nudged | along
    return inside


def snapshot_frames(traj: Trajectories, step_s: float = 1.0) -> list[int]:
    """The frames the camera looks at: nearest to ``t = k * step_s`` for every ``t`` within the recording."""
    _finite("step_s", step_s)
    if step_s <= 0:
        raise ValueError(f"step_s must be > 0, got {step_s}")
    if len(traj) == 0:
        return []
    first, last = int(traj.frame[0]), int(traj.frame[-1])
    k_first = math.ceil(first / traj.fps / step_s - 1e-9)
    k_last = math.floor(last / traj.fps / step_s + 1e-9)
    frames = (min(max(round(k * step_s * traj.fps), first), last) for k in range(k_first, k_last + 1))
    return list(dict.fromkeys(frames))


def count_per_zone(traj: Trajectories, zones: Mapping[str, Polygon], step_s: float = 1.0) -> list[ZoneCount]:
    """Persons and density per zone every ``step_s`` seconds (rules in the module docstring).

    zones: zone key -> polygon in metres (same frame as the trajectories), in the order wanted in the
    result. Returns one :class:`ZoneCount` per snapshot and zone, by time, then in ``zones`` order
    (zones with nobody get count 0).

    Raises ValueError for a non-positive step or a zone that is not a polygon of positive area.
    """
    areas = {code: _area(code, zone) for code, zone in zones.items()}
    frames = snapshot_frames(traj, step_s)
    if not frames or not zones:
        return []
    wanted = np.asarray(frames, dtype=np.int64)
    starts = np.searchsorted(traj.frame, wanted, side="left")
    ends = np.searchsorted(traj.frame, wanted, side="right")
    rows = np.concatenate([np.arange(s, e, dtype=np.int64) for s, e in zip(starts, ends, strict=True)])
    snapshot = np.repeat(np.arange(len(wanted)), ends - starts)
    counts: dict[str, NDArray[np.int64]] = {}
    for code, zone in zones.items():
        inside = in_zone(zone, traj.x[rows], traj.y[rows])
        counts[code] = np.bincount(snapshot[inside], minlength=len(wanted))
    result: list[ZoneCount] = []
    for i, frame_no in enumerate(frames):
        time_s = frame_no / traj.fps
        for code in zones:
            count = int(counts[code][i])
            result.append(ZoneCount(time_s=time_s, zone=code, count=count, density=count / areas[code]))
    return result


def persons_present(traj: Trajectories, step_s: float = 1.0) -> list[tuple[float, int]]:
    """(time in seconds, persons recorded) at each snapshot of :func:`count_per_zone`."""
    frames = snapshot_frames(traj, step_s)
    wanted = np.asarray(frames, dtype=np.int64)
    present = np.searchsorted(traj.frame, wanted, side="right") - np.searchsorted(traj.frame, wanted, side="left")
    return [(f / traj.fps, int(n)) for f, n in zip(frames, present, strict=True)]


def measured_flow(traj: Trajectories, line: float, t0: float, t1: float, *, axis: Axis,
                  span: tuple[float, float] | None = None) -> float:
    """Persons per second crossing a straight line during ``[t0, t1)`` seconds (rule in the module docstring).

    axis ``"x"``: the vertical line ``x = line`` (metres), crossed by movement along x;
    axis ``"y"``: the horizontal line ``y = line``, crossed by movement along y (the Jülich corridor
    runs along y, so its measurement line is ``axis="y", line=0.0, span=(0.0, 1.8)``).
    span: (low, high) of the other coordinate in metres limiting the line to a segment (ends
    included); ``None`` for the whole line.

    Raises ValueError unless ``t1 > t0``, the numbers are finite, the axis is known and the span is ordered.
    """
    for name, value in (("line", line), ("t0", t0), ("t1", t1)):
        _finite(name, value)
    if t1 <= t0:
        raise ValueError(f"t1 must be > t0, got t0={t0}, t1={t1}")
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    if span is not None:
        _finite("span low", span[0])
        _finite("span high", span[1])
        if span[0] > span[1]:
            raise ValueError(f"span must be (low, high), got {span}")
    order = np.lexsort((traj.frame, traj.person))
    person = traj.person[order]
    time_s = traj.time_s[order]
    across, along = (traj.x[order], traj.y[order]) if axis == "x" else (traj.y[order], traj.x[order])
    side = across >= line
    step = (person[1:] == person[:-1]) & (side[1:] != side[:-1])
    i = np.nonzero(step)[0]
    if len(i) == 0:
        return 0.0
    fraction = (line - across[i]) / (across[i + 1] - across[i])
    when = time_s[i] + fraction * (time_s[i + 1] - time_s[i])
    where = along[i] + fraction * (along[i + 1] - along[i])
    if span is not None:
        keep = (where >= span[0]) & (where <= span[1])
        i, when = i[keep], when[keep]
    # rows are sorted by person then frame: the first crossing of each person comes first
    _, first = np.unique(person[i], return_index=True)
    first_times = when[first]
    crossed = int(np.count_nonzero((first_times >= t0) & (first_times < t1)))
    return crossed / (t1 - t0)
