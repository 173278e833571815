"""Road networks from files: OpenStreetMap (.osm XML, .osm.pbf) and GeoJSON walkways, into a routing graph.

:func:`load_osm` reads with pyosmium; :func:`load_geojson` reads a FeatureCollection of LineString /
MultiLineString features (a venue's walkways); :func:`load_network` reads a road file and joins
walkway files to it. Each returns ``(graph, report)``: :class:`ImportReport` counts the ways used
and the ways skipped by reason, so a partly broken file still imports while its faults are shown.

How ways are read (tags as in OSM; GeoJSON properties ``highway``, ``oneway``, ``maxspeed``,
``foot``, ``motor_vehicle`` read the same way, ``highway`` defaulting to ``footway``):
- roads (motorway ... residential, service, living_street, road, links) carry vehicles and
  pedestrians (no pedestrians on motorways); footway, path, steps, cycleway, pedestrian, track,
  corridor, platform, bridleway carry pedestrians only, but pedestrian streets and tracks take
  vehicles when ``motor_vehicle``/``motorcar``/``vehicle`` says so. Police and ambulances may use
  private and destination-only roads: only ``no`` shuts a road to them (``emergency=yes`` reopens it).
  ``foot=no`` or ``foot=use_sidepath`` (a sidewalk mapped on its own) shuts it to pedestrians.
- ``oneway`` yes/1/true or -1/reverse (implied by ``junction=roundabout`` and motorways); reversible
  or alternating ways are closed to vehicles; any other value skips the way (``bad_oneway``).
- ``maxspeed``: "50", "50 km/h", "30 mph", "10 knots", "walk", "FI:zone30", lists "30;50" (the lowest);
  anything else ("RU:urban", "signals", "none") leaves the road-class default (``maxspeed_unparsed``
  counts the unparsable ones in ``notes``).
- A way whose node references are partly missing (as at the edge of an extract) is cut at the
  missing nodes and its pieces of two or more nodes are kept (``cut_at_missing_nodes`` in ``notes``);
  a way with no such piece is skipped (``missing_nodes``). Other skip reasons: ``unknown_highway``,
  ``not_routable`` (construction, proposed, elevator...), ``too_few_nodes``, ``no_access``,
  ``bad_coordinates``, ``not_a_line``.
Connected parts: the graph keeps every usable edge; the report gives, per mode, the nodes in its main
(largest strongly connected) network and the nodes outside it. Snapping only picks main-network nodes
(:func:`anbao.algorithms.routing.snap`), so the parts cut off stay visible but are never routed to.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from anbao.algorithms.routing import Mode, RoadGraph, RoutingError, Way, build_graph, join_graphs, main_component

ROAD_KINDS = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link",
    "tertiary", "tertiary_link", "unclassified", "residential", "living_street", "service", "road",
})
FOOT_KINDS = frozenset({"footway", "path", "steps", "cycleway", "pedestrian", "track", "corridor", "platform",
                        "bridleway"})
ALIASES = {"trail": "path", "sidewalk": "footway"}
NOT_ROUTABLE = frozenset({"construction", "proposed", "planned", "abandoned", "disused", "razed", "elevator",
                          "raceway", "bus_guideway", "escape", "rest_area", "services", "emergency_bay", "busway"})
MAYBE_VEHICLE = frozenset({"pedestrian", "track"})  # no vehicles unless tagged
NO_FOOT_KINDS = frozenset({"motorway", "motorway_link"})
DENY_VEHICLE = frozenset({"no"})
DENY_FOOT = frozenset({"no", "use_sidepath"})
ALLOW = frozenset({"yes", "designated", "permissive", "destination", "private", "customers", "delivery",
                   "official", "permit", "discouraged", "agricultural", "forestry"})
ONEWAY = {"yes": 1, "true": 1, "1": 1, "-1": -1, "reverse": -1, "no": 0, "false": 0, "0": 0}
UNITS_KMH = {"": 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}
_SPEED = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?$")
_ZONE = re.compile(r"^[a-z]{2}:(?:zone:?|rural:?|urban:?)?(\d+)$")


PROGRESS_EVERY = 5_000  # ways between two progress calls of load_osm


class RoadNetError(ValueError):
    """A road file that cannot be read, is not a road network, or gives no usable edge."""


@dataclass(frozen=True)
class ImportReport:
    """What an import found. Ways: highway-tagged OSM ways or GeoJSON features.

    skipped: reason -> ways left out. notes: things fixed or defaulted (``cut_at_missing_nodes``,
    ``maxspeed_unparsed``, ``access_unparsed``, ``connectors`` added when joining). main_nodes /
    isolated_nodes: mode -> nodes in its main network / nodes with that mode's edges outside it.
    """

    sources: tuple[str, ...]
    ways_read: int
    ways_used: int
    skipped: Mapping[str, int]
    notes: Mapping[str, int]
    nodes: int
    edges: int
    main_nodes: Mapping[str, int] = field(default_factory=dict)
    isolated_nodes: Mapping[str, int] = field(default_factory=dict)


def parse_maxspeed(value: str) -> float | None:
    """A posted speed limit in km/h, or None when it cannot be read as one (the class default applies)."""
    speeds = []
    for part in value.lower().split(";"):
        text = part.strip()
        if text == "walk":
            speeds.append(6.0)
            continue
        m, zone = _SPEED.match(text), _ZONE.match(text)
        if m:
            speeds.append(float(m.group(1).replace(",", ".")) * UNITS_KMH[m.group(2) or ""])
        elif zone:
            speeds.append(float(zone.group(1)))
        else:
            return None
    good = [s for s in speeds if 0 < s <= 300]
    return min(good) if good and len(good) == len(speeds) else None


def way_from_tags(way_id: int, nodes: tuple[int, ...], tags: Mapping[str, str], notes: Counter[str]) -> Way | str:
    """A :class:`Way` from OSM-style tags, or the reason (a string) to skip it. Defaults are counted in ``notes``."""
    kind = ALIASES.get(str(tags.get("highway", "")).strip(), str(tags.get("highway", "")).strip())
    if kind in NOT_ROUTABLE:
        return "not_routable"
    if kind not in ROAD_KINDS and kind not in FOOT_KINDS:
        return "unknown_highway"
    if len(set(nodes)) < 2:
        return "too_few_nodes"
    oneway_tag = _value(tags, "oneway")
    if oneway_tag is None:
        oneway = 1 if kind == "motorway" or _value(tags, "junction") in ("roundabout", "circular") else 0
    elif oneway_tag in ONEWAY:
        oneway = ONEWAY[oneway_tag]
    elif oneway_tag in ("reversible", "alternating"):
        oneway = 2  # never matches a direction: no vehicles
    else:
        return "bad_oneway"
    car = kind in ROAD_KINDS
    chain = _value(tags, "motorcar") or _value(tags, "motor_vehicle") or _value(tags, "vehicle") \
        or _value(tags, "access")
    if _value(tags, "emergency") in ("yes", "designated"):
        chain = "yes"
    if chain in DENY_VEHICLE:
        car = False
    elif chain in ALLOW and kind in MAYBE_VEHICLE:
        car = True
    elif chain is not None and chain not in ALLOW:
        notes["access_unparsed"] += 1
    foot_tag = _value(tags, "foot") or _value(tags, "access")
    foot = kind not in NO_FOOT_KINDS and foot_tag not in DENY_FOOT
    if not (car or foot):
        return "no_access"
    speed = None
    if "maxspeed" in tags:
        speed = parse_maxspeed(str(tags["maxspeed"]))
        if speed is None and str(tags["maxspeed"]).strip().lower() != "none":
            notes["maxspeed_unparsed"] += 1
    return Way(way_id, nodes, kind, oneway, speed, foot, car)


def _value(tags: Mapping[str, str], key: str) -> str | None:
    raw = tags.get(key)
    if raw is None:
        return None
    return str(raw).split(";")[0].strip().lower()


def _pieces(refs: list[int], located: list[bool]) -> list[tuple[int, ...]]:
    """Runs of consecutive located nodes, two or more long."""
    runs: list[tuple[int, ...]] = []
    current: list[int] = []
    for ref, ok in zip(refs, located, strict=True):
        if ok:
            current.append(ref)
        else:
            if len(current) >= 2:
                runs.append(tuple(current))
            current = []
    if len(current) >= 2:
        runs.append(tuple(current))
    return runs


def load_osm(path: str | Path, *, on_progress: Callable[[int], None] | None = None) -> tuple[RoadGraph, ImportReport]:
    """Read an OpenStreetMap file (.osm XML, .osm.pbf, compressed XML) into a routing graph.

    ``on_progress(ways_read)`` is called every :data:`PROGRESS_EVERY` highway ways (a progress bar)."""
    path = Path(path)
    if not path.is_file():
        raise RoadNetError(f"{path}: no such file")
    coords: dict[int, tuple[float, float]] = {}
    ways: list[Way] = []
    skipped: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    read = 0
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way) or "highway" not in obj.tags:
                continue
            read += 1
            if on_progress is not None and read % PROGRESS_EVERY == 0:
                on_progress(read)
            refs = [n.ref for n in obj.nodes]
            located = [n.location.valid() for n in obj.nodes]
            way = way_from_tags(obj.id, tuple(refs), {t.k: t.v for t in obj.tags}, notes)
            if isinstance(way, str):
                skipped[way] += 1
                continue
            pieces = [way.nodes] if all(located) else _pieces(refs, located)
            if not pieces:
                skipped["missing_nodes"] += 1
                continue
            if not all(located):
                notes["cut_at_missing_nodes"] += 1
            ways.extend(replace(way, nodes=piece) for piece in pieces)
            for n, ok in zip(obj.nodes, located, strict=True):
                if ok:
                    coords[n.ref] = (n.location.lon, n.location.lat)
    except RuntimeError as exc:  # osmium: unreadable file, unknown format, XML or PBF error
        raise RoadNetError(f"{path}: not a readable OpenStreetMap file ({exc})") from exc
    return _finish((str(path),), coords, ways, read, skipped, notes)


def _finish(sources: tuple[str, ...], coords: Mapping[int, tuple[float, float]], ways: list[Way], read: int,
            skipped: Counter[str], notes: Counter[str]) -> tuple[RoadGraph, ImportReport]:
    if not ways:
        raise RoadNetError(f"{', '.join(sources)}: no usable roads or paths "
                           f"({read} ways read, skipped: {dict(skipped) or 'none'})")
    try:
        graph = build_graph(coords, ways)
    except RoutingError as exc:
        raise RoadNetError(f"{', '.join(sources)}: {exc}") from exc
    used = len({w.way_id for w in ways})
    return graph, _report(graph, sources, read, used, skipped, notes)


def _report(graph: RoadGraph, sources: tuple[str, ...], read: int, used: int, skipped: Mapping[str, int],
            notes: Mapping[str, int]) -> ImportReport:
    main, isolated = {}, {}
    for mode in (Mode.FOOT, Mode.CAR):
        allowed = graph.foot if mode is Mode.FOOT else graph.car
        has = np.zeros(graph.n_nodes, dtype=bool)
        has[graph.tails[allowed]] = True
        has[graph.heads[allowed]] = True
        core = main_component(graph, mode)
        main[mode.value] = int(core.sum())
        isolated[mode.value] = int((has & ~core).sum())
    return ImportReport(sources, read, used, dict(skipped), dict(notes), graph.n_nodes, graph.n_edges, main, isolated)


def _coordinate(point: Any) -> tuple[float, float] | None:
    if not isinstance(point, list | tuple) or len(point) < 2:
        return None
    lon, lat = point[0], point[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return float(lon), float(lat)


def load_geojson(path: str | Path, *, default_kind: str = "footway") -> tuple[RoadGraph, ImportReport]:
    """Read a GeoJSON FeatureCollection of LineString / MultiLineString features (WGS84 lon/lat).

    Vertices at the same place (to 1e-7 degree, about 1 cm) become one node, so touching lines
    connect. Nodes get negative ids; a feature's way id is minus its position (1-based).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RoadNetError(f"{path}: not a readable GeoJSON file ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
            data.get("features"), list):
        raise RoadNetError(f"{path}: not a GeoJSON FeatureCollection")
    node_of: dict[tuple[float, float], int] = {}
    coords: dict[int, tuple[float, float]] = {}
    ways: list[Way] = []
    skipped: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    for i, feature in enumerate(data["features"], start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        lines = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if kind not in ("LineString", "MultiLineString") or not isinstance(lines, list):
            skipped["not_a_line"] += 1
            continue
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        tags = {k: ("yes" if v else "no") if isinstance(v, bool) else str(v) for k, v in props.items()
                if isinstance(v, str | int | float)}
        tags.setdefault("highway", default_kind)
        made: list[Way | str] = []
        feature_notes: Counter[str] = Counter()
        for line in lines if kind == "MultiLineString" else [lines]:
            points = [_coordinate(p) for p in line] if isinstance(line, list) else [None]
            if any(p is None for p in points):
                made.append("bad_coordinates")
                continue
            ids = []
            for p in points:
                assert p is not None
                key = (round(p[0], 7), round(p[1], 7))
                if key not in node_of:
                    node_of[key] = -(len(node_of) + 1)
                    coords[node_of[key]] = p
                ids.append(node_of[key])
            made.append(way_from_tags(-i, tuple(ids), tags, feature_notes))
        notes.update(dict.fromkeys(feature_notes, 1))
        good = [w for w in made if isinstance(w, Way)]
        if not good:
            skipped[next((m for m in made if isinstance(m, str)), "too_few_nodes")] += 1
        ways.extend(good)
    return _finish((str(path),), coords, ways, len(data["features"]), skipped, notes)


def load(path: str | Path, *, on_progress: Callable[[int], None] | None = None) -> tuple[RoadGraph, ImportReport]:
    """:func:`load_geojson` for .geojson / .json files, :func:`load_osm` for anything else."""
    name = Path(path).name.lower()
    return load_geojson(path) if name.endswith((".geojson", ".json")) else load_osm(path, on_progress=on_progress)


def load_network(roads: str | Path, walkways: Iterable[str | Path] = (), *,
                 tolerance_m: float = 10.0) -> tuple[RoadGraph, ImportReport]:
    """The road file joined with walkway files; loose ends within ``tolerance_m`` metres are tied
    (:func:`anbao.algorithms.routing.join_graphs`). The report adds up the files' counts."""
    return join_loaded([load(roads), *(load(extra) for extra in walkways)], tolerance_m=tolerance_m)


def join_loaded(loaded: Sequence[tuple[RoadGraph, ImportReport]], *,
                tolerance_m: float = 10.0) -> tuple[RoadGraph, ImportReport]:
    """Graphs already read (with their reports) joined in order, as :func:`load_network` does with files."""
    if not loaded:
        raise RoadNetError("no road network to join")
    graph, report = loaded[0]
    if len(loaded) == 1:
        return graph, report
    for other, _ in loaded[1:]:
        graph = join_graphs(graph, other, tolerance_m=tolerance_m)
    reports = [r for _, r in loaded]
    skipped: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    for r in reports:
        skipped.update(r.skipped)
        notes.update(r.notes)
    notes["connectors"] = int(np.count_nonzero(graph.kind == graph.kinds.index("connector")) // 2)
    sources = tuple(s for r in reports for s in r.sources)
    return graph, _report(graph, sources, sum(r.ways_read for r in reports), sum(r.ways_used for r in reports),
                          skipped, notes)
