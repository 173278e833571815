"""Pedestrian data in and out: trajectory text files, zone GeoJSON and the per-zone count CSV.

The edge of :mod:`anbao.algorithms.trajectories`, which counts and measures on data only: this module
turns a trajectory file or text into its :class:`~anbao.algorithms.trajectories.Trajectories`
(positions converted to metres), a GeoJSON FeatureCollection into zone polygons, and the zone counts
into CSV rows. :func:`load_trajectories` is the only function that reads a file; nothing is written.

Text format (:func:`parse_trajectories`, :func:`load_trajectories`)
--------------------------------------------------------------------
The format of the Forschungszentrum Jülich pedestrian data archive and PedPy: one row per person per
frame, whitespace separated (spaces or tabs), columns ``id frame x y [z] [more...]``:

* ``id`` and ``frame`` are integers (``12`` or ``12.0``); ``x``, ``y`` (and ``z``, the person's height,
  if present) are finite numbers in the file's unit. Columns after the fifth are ignored (as PedPy
  does); a row with only four columns has no height (``z`` is NaN).
* ``#`` starts a comment, on its own line or after the values; blank lines are skipped.
* Comment lines may declare the frame rate (``# framerate: 25.00``) or the unit (``# x/cm y/cm``,
  ``# X,Y,Z: coordinates (in metres)``). A declaration that contradicts the ``fps`` or ``unit``
  argument raises ValueError: the wrong unit would silently scale every density by 10^4.
* Any bad row (too few columns, not a number, NaN/inf, non-integer id or frame, the same person twice
  in one frame) raises ValueError naming its 1-based line number; a file without rows raises too.

Zones (:func:`zone_polygons_from_geojson`)
------------------------------------------
A GeoJSON FeatureCollection in local metres, one Polygon feature per zone keyed by ``properties.code``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import Polygon, shape

from anbao.algorithms.trajectories import Trajectories, ZoneCount

__all__ = ["CSV_HEADER", "UNIT_TO_M", "load_trajectories", "parse_trajectories", "to_csv_rows",
           "zone_polygons_from_geojson"]

#: metres per unit of the trajectory file
UNIT_TO_M: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001}

_FRAMERATE = re.compile(r"frame\s*rate\s*[:=]?\s*([0-9]+(?:\.[0-9]*)?)", re.IGNORECASE)
_UNIT_SLASH = re.compile(r"\bx\s*/\s*(mm|cm|m)\b", re.IGNORECASE)
_UNIT_WORDS = re.compile(r"\bin\s+(millimet(?:re|er)s?|centimet(?:re|er)s?|met(?:re|er)s?|mm|cm|m)\b",
                         re.IGNORECASE)


def _positive_area(code: str, polygon: Polygon) -> None:
    area = float(polygon.area)
    if not (math.isfinite(area) and area > 0):
        raise ValueError(f"zone {code!r} must have a positive area, got {area}")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"{text!r} is not an integer") from None
        return int(value)


def _header_unit(word: str) -> str:
    word = word.lower()
    if word.startswith("milli") or word == "mm":
        return "mm"
    if word.startswith("centi") or word == "cm":
        return "cm"
    return "m"


def _check_header(comment: str, number: int, unit: str, fps: float) -> None:
    rate = _FRAMERATE.search(comment)
    if rate and not math.isclose(float(rate.group(1)), fps, rel_tol=1e-6):
        raise ValueError(f"line {number}: the file declares a frame rate of {rate.group(1)} fps "
                         f"but fps={fps:g} was given")
    declared = _UNIT_SLASH.search(comment) or _UNIT_WORDS.search(comment)
    if declared and _header_unit(declared.group(1)) != unit:
        raise ValueError(f"line {number}: the file declares unit {_header_unit(declared.group(1))!r} "
                         f"but unit={unit!r} was given")


def parse_trajectories(lines: str | Iterable[str], unit: str = "cm", fps: float = 16) -> Trajectories:
    """Parse trajectory text (the whole text or its lines) in the format of the module docstring.

    unit: the unit of x, y and z in the text, ``"m"``, ``"cm"`` or ``"mm"``; positions are
    converted to metres. fps: frames per second of the recording.

    Raises ValueError for an unknown unit, a bad fps, a bad row (naming its 1-based line number),
    a header that declares another unit or frame rate, or text without rows.
    """
    if unit not in UNIT_TO_M:
        raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNIT_TO_M)}")
    if not math.isfinite(fps):
        raise ValueError(f"fps must be a finite number, got {fps!r}")
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    scale = UNIT_TO_M[unit]
    if isinstance(lines, str):
        lines = lines.splitlines()
    person: list[int] = []
    frame: list[int] = []
    xyz: list[tuple[float, float, float]] = []
    seen: dict[tuple[int, int], int] = {}
    for number, raw in enumerate(lines, start=1):
        data, _, comment = raw.partition("#")
        if not data.strip():
            if comment:
                _check_header(comment, number, unit, fps)
            continue
        fields = data.split()
        if len(fields) < 4:
            raise ValueError(f"line {number}: expected the columns id frame x y [z], got {len(fields)} "
                             f"value(s): {raw.strip()!r}")
        try:
            pid, fr = _integer(fields[0]), _integer(fields[1])
            x, y = float(fields[2]), float(fields[3])
            z = float(fields[4]) if len(fields) > 4 else math.nan
        except ValueError as exc:
            raise ValueError(f"line {number}: not a valid row ({exc}): {raw.strip()!r}") from None
        if not (math.isfinite(x) and math.isfinite(y)) or (len(fields) > 4 and not math.isfinite(z)):
            raise ValueError(f"line {number}: positions must be finite numbers: {raw.strip()!r}")
        if (pid, fr) in seen:
            raise ValueError(f"line {number}: person {pid} already has a position in frame {fr} "
                             f"(line {seen[(pid, fr)]})")
        seen[(pid, fr)] = number
        person.append(pid)
        frame.append(fr)
        xyz.append((x * scale, y * scale, z * scale))
    if not person:
        raise ValueError("no trajectory rows found")
    columns = np.array(xyz, dtype=np.float64)
    return Trajectories(person=np.array(person, dtype=np.int64), frame=np.array(frame, dtype=np.int64),
                        x=columns[:, 0], y=columns[:, 1], z=columns[:, 2], fps=float(fps))


def load_trajectories(path: str | os.PathLike[str], unit: str = "cm", fps: float = 16) -> Trajectories:
    """Read a trajectory text file (UTF-8, optional BOM) and parse it with :func:`parse_trajectories`.

    The file is read whole, nothing is written.
    """
    with open(path, encoding="utf-8-sig") as handle:
        return parse_trajectories(handle, unit=unit, fps=fps)


def zone_polygons_from_geojson(fc: Mapping[str, Any]) -> dict[str, Polygon]:
    """Zone polygons by ``properties.code`` from a GeoJSON FeatureCollection in local metres.

    Every feature must have a Polygon geometry (holes allowed) that is valid with positive area, and
    a unique non-empty string ``properties.code``. Coordinates are taken as metres in the trajectories'
    frame as they stand (no projection). Returns the polygons in feature order.

    Raises ValueError naming the offending feature (by index) otherwise.
    """
    if not isinstance(fc, Mapping) or fc.get("type") != "FeatureCollection":
        raise ValueError("expected a GeoJSON FeatureCollection")
    features = fc.get("features")
    if not isinstance(features, Sequence) or isinstance(features, str | bytes):
        raise ValueError("the FeatureCollection has no features list")
    zones: dict[str, Polygon] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise ValueError(f"feature {index}: not a GeoJSON Feature")
        properties = feature.get("properties") or {}
        code = properties.get("code") if isinstance(properties, Mapping) else None
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"feature {index}: properties.code must be a non-empty string")
        if code in zones:
            raise ValueError(f"feature {index}: duplicate zone code {code!r}")
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping) or geometry.get("type") != "Polygon":
            raise ValueError(f"feature {index} ({code}): geometry must be a Polygon")
        try:
            polygon = shape(geometry)
        except (ValueError, TypeError, AttributeError, IndexError, ShapelyError) as exc:
            raise ValueError(f"feature {index} ({code}): bad Polygon coordinates ({exc})") from None
        if not polygon.is_valid:
            raise ValueError(f"feature {index} ({code}): invalid polygon ({shapely.is_valid_reason(polygon)})")
        _positive_area(code, polygon)
        zones[code] = polygon
    return zones


CSV_HEADER: tuple[str, ...] = ("time_s", "zone", "count", "density")


def to_csv_rows(counts: Iterable[ZoneCount]) -> list[list[str]]:
    """CSV rows for ``counts``: the header ``time_s, zone, count, density`` first, then one row per count.

    time_s with 3 decimals (seconds), count as an integer, density with 4 decimals (persons/m2),
    in the order given. Ready for ``csv.writer(...).writerows``.
    """
    rows = [list(CSV_HEADER)]
    rows += [[f"{c.time_s:.3f}", c.zone, str(c.count), f"{c.density:.4f}"] for c in counts]
    return rows
