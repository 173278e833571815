"""Geometry at the edges: GeoJSON in, validated shapely out, areas in square metres.

Coordinates are either WGS84 lon/lat (``crs="wgs84"``) or local metres (``crs="local"``,
x east, y north, for venues drawn on a site plan). Areas of WGS84 shapes are geodesic (pyproj.Geod
on the WGS84 ellipsoid); local shapes are already metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import shapely
from pyproj import Geod, Transformer
from shapely import validation
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from anbao.core.errors import Invalid

CRS = Literal["wgs84", "local"]
_GEOD = Geod(ellps="WGS84")
#: a WGS84 feature more than this far from its venue's reference point is rejected (swapped axes?)
MAX_VENUE_SPAN_M = 50_000.0
#: positions in one geometry at most (docs/limits.md): a surveyed stadium outline has a few hundred; shapely's
#: validity check and the capacity network grow faster than linearly with more
MAX_VERTICES = 10_000

POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Checked:
    geometry: BaseGeometry
    geojson: dict[str, Any]


def _positions(geom_type: str, coords: Any) -> list[Any]:
    """All positions of a GeoJSON coordinates array, flattened."""
    depth = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}
    level = [coords]
    for _ in range(depth[geom_type]):
        nxt: list[Any] = []
        for item in level:
            if not isinstance(item, list | tuple):
                raise Invalid("coordinates are nested wrongly for " + geom_type)
            nxt.extend(item)
        level = nxt
    return level


def _check_position(pos: Any, crs: CRS, where: str) -> None:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in pos
    ):
        raise Invalid(f"{where}: a position must be [x, y] numbers, got {pos!r}")
    if crs == "wgs84":
        lon, lat = pos[0], pos[1]
        if not -90 <= lat <= 90:
            hint = " (lat/lon swapped? GeoJSON order is [longitude, latitude])" if -90 <= lon <= 90 else ""
            raise Invalid(f"{where}: latitude {lat} out of range [-90, 90]{hint}")
        if not -180 <= lon <= 180:
            raise Invalid(f"{where}: longitude {lon} out of range [-180, 180]")


def _check_rings(geom_type: str, coords: Any) -> None:
    polygons = [coords] if geom_type == "Polygon" else coords
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise Invalid("a polygon needs at least one ring")
        for r, ring in enumerate(rings):
            where = f"polygon {p} ring {r}" if geom_type == "MultiPolygon" else f"ring {r}"
            if len(ring) < 4:
                raise Invalid(f"{where}: a ring needs at least 4 positions, got {len(ring)}")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise Invalid(f"{where}: ring is not closed (first position {ring[0]} != last {ring[-1]})")


def _as_lists(value: Any) -> Any:
    return [_as_lists(v) for v in value] if isinstance(value, list | tuple) else value


def check_geometry(
    geojson: Any,
    *,
    crs: CRS = "wgs84",
    allowed: tuple[str, ...] = POLYGONAL,
    reference: tuple[float, float] | None = None,
) -> Checked:
    """Validate a GeoJSON geometry object and return it as shapely.

    Raises :class:`Invalid` with a message that names the problem: wrong type, bad or
    out-of-range positions, unclosed rings, self-intersections, or a WGS84 shape more than
    ``MAX_VENUE_SPAN_M`` metres from ``reference`` (lon, lat).
    """
    if not isinstance(geojson, dict):
        raise Invalid("geometry must be a GeoJSON object")
    geom_type = geojson.get("type")
    if geom_type not in allowed:
        raise Invalid(f"geometry type must be one of {', '.join(allowed)}, got {geom_type!r}")
    coords = geojson.get("coordinates")
    if isinstance(coords, tuple):  # shapely's mapping() gives tuples
        coords = _as_lists(coords)
    if not isinstance(coords, list):
        raise Invalid("geometry.coordinates must be an array")
    positions = _positions(geom_type, coords)
    if not positions:
        raise Invalid("geometry has no positions")
    if len(positions) > MAX_VERTICES:
        raise Invalid(f"geometry has {len(positions)} positions: at most {MAX_VERTICES} (limit 'geometry vertices'; "
                      "simplify the outline)")
    for i, pos in enumerate(positions):
        _check_position(pos, crs, f"position {i}")
    if geom_type in POLYGONAL:
        _check_rings(geom_type, coords)
    geom = shape({"type": geom_type, "coordinates": coords})
    if geom.is_empty:
        raise Invalid("geometry is empty")
    if not geom.is_valid:
        raise Invalid(f"invalid geometry: {validation.explain_validity(geom)}")
    if geom_type in POLYGONAL and geom.area <= 0:
        raise Invalid("polygon has zero area")
    if crs == "wgs84" and reference is not None:
        c = geom.centroid
        _, _, dist = _GEOD.inv(reference[0], reference[1], c.x, c.y)
        if dist > MAX_VENUE_SPAN_M:
            raise Invalid(
                f"geometry lies {dist / 1000:.0f} km from the venue's reference point "
                f"{list(reference)}; lat/lon swapped or wrong venue?"
            )
    return Checked(geometry=geom, geojson={"type": geom_type, "coordinates": coords})


def area_m2(geom: BaseGeometry, *, crs: CRS = "wgs84") -> float:
    """Area in square metres: geodesic for WGS84, planar for local metres."""
    if crs == "local":
        return float(geom.area)
    # pyproj sums signed ring areas: orient every ring first (GeoJSON readers must accept either winding)
    area, _ = _GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
    return abs(float(area))


class LocalProjection:
    """A transverse Mercator projection centred on a venue: metres east/north of (lon0, lat0)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        proj = f"+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m"
        self.to_metres = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
        self.to_lonlat = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)

    def forward(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.to_metres.transform(lon, lat)
        return float(x), float(y)

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self.to_lonlat.transform(x, y)
        return float(lon), float(lat)
