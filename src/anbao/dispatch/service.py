"""Road networks and traffic control of an event: storing files, closures, the graph, the corridor check.

Files are stored under ``<var_dir>/roads/`` named by the first 16 hex digits of their SHA-256 and
their cleaned file name, so the same file uploaded twice (to any event) is kept once. The row's
``path`` is the file's absolute path; when that is gone (the state directory moved), the file of
the same name under the current ``<var_dir>/roads/`` is used (:func:`stored_file`). A file is
removed when the last row naming it is deleted, once the deletion commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
from shapely.geometry import shape
from sqlalchemy import Connection, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, object_session

from anbao.algorithms.routing import EARTH_RADIUS_M, Mode, RoutingError, boundary_nodes, corridor_check, snap
from anbao.core import crud
from anbao.core.errors import AnBaoError, Conflict, Invalid
from anbao.core.geo import check_geometry
from anbao.dispatch import graphs
from anbao.dispatch.models import EXEMPTIONS, RoadClosure, RoadNetwork, default_exempt
from anbao.dispatch.roadnet import ImportReport, RoadNetError, load
from anbao.venue.models import Venue, Zone

#: the largest road file accepted, bytes
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SUFFIXES = {".osm": "osm", ".osm.pbf": "osm", ".pbf": "osm", ".osm.bz2": "osm", ".osm.gz": "osm",
            ".geojson": "geojson", ".json": "geojson"}
CLOSURE_TYPES = ("LineString", "Polygon", "MultiPolygon")
#: a zone more than this far from any road is unreachable by car
CORRIDOR_SNAP_M = 500.0
CORRIDOR_FACTOR = 1.5


class TooLarge(AnBaoError):
    """A file over :data:`MAX_UPLOAD_BYTES`."""

    status = 413


# --------------------------------------------------------------------------- road networks

def kind_of(filename: str) -> tuple[str, str]:
    """(kind, suffix) of a road file name; :class:`Invalid` for anything but OSM or GeoJSON."""
    lower = filename.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return SUFFIXES[suffix], suffix
    raise Invalid(f"{filename!r}: unsupported file type; send OpenStreetMap (.osm, .osm.pbf) or GeoJSON (.geojson)",
                  loc=["body", "file"])


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name).strip("._") or "roads"
    return name[-80:]


def roads_dir(var_dir: Path) -> Path:
    path = var_dir / "roads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def receive(stream: IO[bytes], *, var_dir: Path, filename: str, limit: int | None = None) -> tuple[Path, str, int]:
    """Copy ``stream`` to a temporary file under ``var_dir/roads``: (path, sha256, size). Over ``limit``
    (default :data:`MAX_UPLOAD_BYTES`) bytes: :class:`TooLarge`, nothing kept."""
    limit = MAX_UPLOAD_BYTES if limit is None else limit
    _, suffix = kind_of(filename)
    incoming = roads_dir(var_dir) / ".incoming"
    incoming.mkdir(exist_ok=True)
    tmp = incoming / f"{uuid.uuid4().hex}{suffix}"
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"{filename}: larger than the {limit // (1024 * 1024)} MB limit for road files")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def _report_json(report: ImportReport, filename: str) -> dict[str, Any]:
    out = dataclasses.asdict(dataclasses.replace(report, sources=(filename,)))
    out["sources"] = list(out["sources"])
    return out


def _on_end(db: Session, *, commit: Callable[[], None] | None = None,
            rollback: Callable[[], None] | None = None) -> None:
    """Run file work once the session's transaction ends (a file is never lost to a rolled-back row)."""
    if commit is not None:
        sa_event.listen(db, "after_commit", lambda _s: commit(), once=True)
    if rollback is not None:
        sa_event.listen(db, "after_rollback", lambda _s: rollback(), once=True)


def add_network(*, db: Session, event_id: int, received: tuple[Path, str, int], filename: str, name: str | None,
                var_dir: Path, by: str, now: datetime,
                on_progress: Callable[[int], None] | None = None) -> RoadNetwork:
    """Read a received file (see :func:`receive`), keep it under ``var_dir/roads`` and add the row.

    An unreadable file or one without usable roads is :class:`Invalid` naming the file (422)."""
    tmp, sha256, size = received
    kind, _ = kind_of(filename)
    try:
        graph, report = load(tmp, on_progress=on_progress)
    except RoadNetError as exc:
        tmp.unlink(missing_ok=True)
        raise Invalid(str(exc).replace(str(tmp), filename), loc=["body", "file"]) from exc
    final = (roads_dir(var_dir) / f"{sha256[:16]}-{_safe_name(filename)}").resolve()
    if final.exists():
        tmp.unlink()
    else:
        tmp.replace(final)
        _on_end(db, rollback=lambda: _unlink_unused(db, final))
    graphs.remember_file(sha256, (graph, report))
    row = RoadNetwork(event_id=event_id, name=(name or Path(filename).name)[:200], kind=kind,
                      filename=Path(filename).name[:200], path=str(final), size_bytes=size, sha256=sha256,
                      nodes=graph.n_nodes, edges=graph.n_edges, report=_report_json(report, Path(filename).name),
                      uploaded_at=now, by=by[:120])
    db.add(row)
    db.flush()
    return row


def add_network_file(*, db: Session, event_id: int, source: Path, name: str | None, var_dir: Path, by: str,
                     now: datetime, on_progress: Callable[[int], None] | None = None) -> RoadNetwork:
    """:func:`add_network` from a file on disk (the CLI, the demo)."""
    if not source.is_file():
        raise Invalid(f"{source}: no such file", loc=["file"])
    with source.open("rb") as stream:
        received = receive(stream, var_dir=var_dir, filename=source.name)
    return add_network(db=db, event_id=event_id, received=received, filename=source.name, name=name, var_dir=var_dir,
                       by=by, now=now, on_progress=on_progress)


def stored_file(path: str, var_dir: Path) -> Path:
    """Where a row's file is: its path, else the file of that name under ``var_dir/roads``."""
    stored = Path(path)
    if stored.is_absolute() and stored.exists():
        return stored
    return var_dir / "roads" / stored.name


def _unlink_unused(db: Session, path: Path) -> None:
    """Remove a stored file no row names any more (checked in a fresh connection after the commit)."""
    bind = db.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with engine.connect() as conn:
        used = conn.execute(select(func.count()).select_from(RoadNetwork)
                            .where(RoadNetwork.path == str(path))).scalar_one()
    if not used:
        path.unlink(missing_ok=True)


def list_networks(*, db: Session, event_id: int) -> Sequence[RoadNetwork]:
    return db.execute(select(RoadNetwork).where(RoadNetwork.event_id == event_id)
                      .order_by(RoadNetwork.id)).scalars().all()


def get_network(*, db: Session, event_id: int, network_id: int) -> RoadNetwork | None:
    row = db.get(RoadNetwork, network_id)
    return row if row is not None and row.event_id == event_id else None


def delete_network(*, db: Session, row: RoadNetwork) -> None:
    """Delete a network; its file goes once the deletion commits, if no other row names it."""
    db.delete(row)
    db.flush()


@sa_event.listens_for(RoadNetwork, "after_delete")
def _drop_file_later(_mapper: Any, _connection: Any, target: RoadNetwork) -> None:
    """Any deletion of a network row (also with its event) removes the file after the commit, if unused."""
    db = object_session(target)
    if db is not None:
        path = Path(target.path)
        _on_end(db, commit=lambda: _unlink_unused(db, path))


def event_graph(*, db: Session, event_id: int, var_dir: Path) -> graphs.EventGraph | None:
    """The event's joined graph (cached), None without road networks; :class:`Conflict` if a file is gone."""
    try:
        return graphs.event_graph(event_id, list_networks(db=db, event_id=event_id),
                                  lambda r: stored_file(r.path, var_dir))
    except RoadNetError as exc:
        raise Conflict(str(exc)) from exc


# --------------------------------------------------------------------------- closures

def prepare_closure(*, db: Session, event_id: int, data: dict[str, Any], current: RoadClosure | None) -> dict[str, Any]:
    out = dict(data)
    for key in ("name", "geometry", "applies_to", "starts_at", "enabled", "reason"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    if "geometry" in data:
        try:
            checked = check_geometry(data["geometry"], crs="wgs84", allowed=CLOSURE_TYPES)
        except Invalid as exc:
            raise Invalid(exc.message, loc=["body", "geometry"]) from exc
        out["geometry"] = checked.geojson
    if data.get("exempt") is not None:
        out["exempt"] = [e for e in EXEMPTIONS if e in data["exempt"]]
    elif current is None:
        out["exempt"] = default_exempt(data.get("applies_to"))
    else:
        out.pop("exempt", None)
    starts = data.get("starts_at", current.starts_at if current is not None else None)
    ends = data["ends_at"] if "ends_at" in data else (current.ends_at if current is not None else None)
    if starts is not None and ends is not None and ends <= starts:
        raise Invalid(f"ends_at ({ends.isoformat()}) must be after starts_at ({starts.isoformat()})",
                      loc=["body", "ends_at"])
    return out


#: names need not be unique; ``unique="id"`` only tells crud there is no code to check
CLOSURES = crud.Kind(model=RoadClosure, label="road closure", unique="id", prepare=prepare_closure)


#: police types whose vehicles pass closures as emergency vehicles 应急车辆, and as police 警车
EMERGENCY_TYPES = frozenset({"fire", "medical"})
POLICE_TYPES = frozenset({"public_order", "traffic", "special", "armed", "criminal", "cyber"})
#: an item of equipment naming a vehicle pass 通行证 makes any other unit an accredited vehicle 持证车辆
PASS_WORD = "通行证"  # nosec B105 - a word looked for in equipment names, not a password
#: how a route that uses this exemption is explained
EXEMPT_NOTE = {"emergency": "经管制路段（应急车辆放行）", "police": "经管制路段（警车放行）",
               "accredited": "经管制路段（持证车辆放行）"}


def exempt_as(police_type: str | None, equipment: Sequence[str] | None = ()) -> str | None:
    """The class a unit's vehicle passes closures as: emergency, police, accredited, or None (civilian)."""
    if police_type in EMERGENCY_TYPES:
        return "emergency"
    if police_type in POLICE_TYPES:
        return "police"
    if any(PASS_WORD in str(e) for e in equipment or ()):
        return "accredited"
    return None


def binding(closures: Sequence[RoadClosure], vehicle: str | None) -> list[RoadClosure]:
    """The closures that stop ``vehicle`` (a class of :data:`EXEMPTIONS`, or None / civilian: all of them).

    An exemption lets vehicles through; a closure of everyone still stops pedestrians whoever is exempt,
    so it binds people on foot in any case (see :func:`anbao.dispatch.recommend.travel`)."""
    return [c for c in closures if vehicle is None or vehicle not in (c.exempt or [])]


def active_closures(*, db: Session, event_id: int, now: datetime) -> Sequence[RoadClosure]:
    """Closures in force at ``now``: enabled, started, not yet ended."""
    return db.execute(select(RoadClosure).where(
        RoadClosure.event_id == event_id, RoadClosure.enabled.is_(True), RoadClosure.starts_at <= now,
        (RoadClosure.ends_at.is_(None)) | (RoadClosure.ends_at > now)).order_by(RoadClosure.id)).scalars().all()


# --------------------------------------------------------------------------- zones, corridors

def zone_point(geometry: dict[str, Any]) -> tuple[float, float]:
    """The point a zone is routed to: its centroid when inside it, else a point on its surface (rings, Cs)."""
    geom = shape(geometry)
    c = geom.centroid
    p = c if geom.contains(c) else geom.point_on_surface()
    return float(p.x), float(p.y)


def wgs84_zones(*, db: Session, event_id: int) -> list[Zone]:
    """The event's zones drawn in WGS-84 (zones of local-metre venues cannot meet a road network)."""
    return list(db.execute(select(Zone).join(Venue, Zone.venue_id == Venue.id)
                           .where(Zone.event_id == event_id, Venue.crs == "wgs84").order_by(Zone.code)).scalars())


def _seconds(v: float) -> float | None:
    return round(v, 1) if math.isfinite(v) else None


def corridors(*, db: Session, event_id: int, var_dir: Path, now: datetime,
              factor: float = CORRIDOR_FACTOR, vehicle: str = "emergency") -> dict[str, Any]:
    """应急通道: can a car get into and out of every zone from the map edge, open roads vs the closures now?

    ``vehicle``: the class checked (emergency by default: fire engines and ambulances); closures that
    exempt it are ignored, ``civilian`` is stopped by all.

    Access points are the car network's boundary nodes (within 100 m of the edge of its extent). A
    zone is reached at the car node nearest its centre (within :data:`CORRIDOR_SNAP_M`). Zones that
    are not ok come first (unreachable, then slower), then by code. :class:`Conflict` without a network.
    """
    eg = event_graph(db=db, event_id=event_id, var_dir=var_dir)
    if eg is None:
        raise Conflict(f"event {event_id} has no road network: upload one (POST /events/{event_id}/road-networks)")
    active = active_closures(db=db, event_id=event_id, now=now)
    binds = binding(active, None if vehicle == "civilian" else vehicle)
    closures = eg.closures(binds)
    zones = wgs84_zones(db=db, event_id=event_id)
    try:
        access = boundary_nodes(eg.graph, Mode.CAR)
    except RoutingError as exc:
        raise Conflict(f"the road network has no roads for cars: {exc}") from exc
    points = np.array([zone_point(z.geometry) for z in zones]).reshape(-1, 2)
    nodes = snap(eg.graph, Mode.CAR, points, max_distance_m=CORRIDOR_SNAP_M) if len(zones) else np.zeros(0, int)
    ok = nodes >= 0
    checked = iter(corridor_check(eg.graph, nodes[ok], access, closures=closures, factor=factor)) if ok.any() \
        else iter(())
    rows: list[dict[str, Any]] = []
    for zone, node, point in zip(zones, nodes.tolist(), points, strict=True):
        if node < 0:
            rows.append({"zone_id": zone.id, "zone_code": zone.code, "zone_name": zone.name, "status": "unreachable",
                         "in_open_s": None, "in_closed_s": None, "out_open_s": None, "out_closed_s": None,
                         "snap_m": None, "note": f"no road within {CORRIDOR_SNAP_M:.0f} m"})
            continue
        a = next(checked)
        snap_m = distance_m(point, eg.graph.xy[node])
        rows.append({"zone_id": zone.id, "zone_code": zone.code, "zone_name": zone.name, "status": a.status,
                     "in_open_s": _seconds(a.in_open_s), "in_closed_s": _seconds(a.in_closed_s),
                     "out_open_s": _seconds(a.out_open_s), "out_closed_s": _seconds(a.out_closed_s),
                     "snap_m": round(snap_m, 1), "note": ""})
    rank = {"unreachable": 0, "slower": 1, "ok": 2}
    rows.sort(key=lambda r: (rank[str(r["status"])], str(r["zone_code"])))
    return {"network": "road", "vehicle": vehicle, "closures": len(active), "exempted": len(active) - len(binds),
            "access_points": len(access), "factor": factor,
            "zones": rows}


def distance_m(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Great-circle metres between two lon/lat points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))
