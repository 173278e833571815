"""Venue import and export as one GeoJSON FeatureCollection.

Every feature names what it is in ``properties.kind``: ``zone`` (Polygon/MultiPolygon; its
category in ``zone_kind``), ``gate``/``checkpoint``/``exit``, ``post``, or a device kind
(``camera``, ``drone``, ``wifi_probe``, ``smoke``...; all Points). References between features
use codes (``zone``, ``parent``). The collection's ``venue`` member names the venue
(``code``, ``name``, ``crs``, ``address``, ``ref``). An import is all or nothing: a bad feature
rejects the whole file with its index and reason, and nothing is written. Features whose
code already exists are updated, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.core.vocab import DEVICE_KINDS, GATE_KINDS
from anbao.venue import service
from anbao.venue.models import Device, Gate, Post, Venue, Zone
from anbao.venue.schemas import (
    DeviceCreate,
    DeviceUpdate,
    GateCreate,
    GateUpdate,
    PostCreate,
    PostUpdate,
    VenueCreate,
    ZoneCreate,
    ZoneUpdate,
)

POINT_KINDS = {**{k: "gate" for k in GATE_KINDS}, "post": "post", **{k: "device" for k in DEVICE_KINDS}}
#: Chinese names accepted for a feature's kind (出入口 is a gate here; a zone's own category is zone_kind)
KIND_ALIASES = {"区域": "zone", "岗位": "post",
                **{zh: code for code, (zh, _en) in {**GATE_KINDS, **DEVICE_KINDS}.items()}}
_KINDS = {"gate": service.GATES, "post": service.POSTS, "device": service.DEVICES}
_SCHEMAS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "zone": (ZoneCreate, ZoneUpdate), "gate": (GateCreate, GateUpdate), "post": (PostCreate, PostUpdate),
    "device": (DeviceCreate, DeviceUpdate),
}


def _fail(index: int | None, code: Any, message: str, loc: list[str | int] | None = None) -> Invalid:
    where = "venue" if index is None else f"feature {index}" + (f" ({code})" if code else "")
    path: list[str | int] = ["body"]
    path += ["venue"] if index is None else ["features", index]
    path += loc or []
    return Invalid(f"{where}: {message}", loc=path)


def _feature_loc(group: str, field: Any) -> list[str | int]:
    """Where in a feature a schema field came from: zone kind is ``zone_kind``, positions are the geometry."""
    if field in ("geometry", "lon", "lat"):
        return ["geometry"]
    names = {"parent_id": "parent", "zone_id": "zone"}
    if group == "zone":
        names["kind"] = "zone_kind"
    return ["properties", names.get(field, field)]


def _validated(schema: type[BaseModel], group: str, data: dict[str, Any], index: int, code: Any) -> dict[str, Any]:
    try:
        return schema.model_validate(data).model_dump(exclude_unset=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: list[str | int] = ["properties"]
        if err["loc"]:
            loc = _feature_loc(group, err["loc"][0]) + list(err["loc"][1:])
        raise _fail(index, code, f"{'.'.join(str(p) for p in loc)}: {err['msg']}", loc) from exc


def _upsert_venue(db: Session, event_id: int, spec: Any) -> Venue:
    if not isinstance(spec, dict):
        raise _fail(None, None, "the collection needs a 'venue' object with code and name")
    ref = spec.get("ref")
    data = {k: v for k, v in spec.items() if k != "ref"}
    if ref is not None:
        if not (isinstance(ref, list) and len(ref) == 2):
            raise _fail(None, None, "ref must be [lon, lat]", ["ref"])
        data["ref_lon"], data["ref_lat"] = ref
    try:
        venue_in = VenueCreate.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise _fail(None, None, f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}", list(err["loc"])) from exc
    existing = crud.by_unique(db=db, kind=service.VENUES, event_id=event_id, value=venue_in.code)
    if existing is None:
        return crud.create_row(db=db, kind=service.VENUES, event_id=event_id, data=venue_in.model_dump())
    if existing.crs != venue_in.crs:
        raise _fail(None, None, f"venue {venue_in.code!r} uses crs {existing.crs}, the file says {venue_in.crs}")
    fields = venue_in.model_dump(exclude={"code", "crs"})
    return crud.update_row(db=db, kind=service.VENUES, row=existing, data=fields)


def _zone_order(features: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Zones with their in-file parents first; a cycle is an error."""
    by_code: dict[Any, tuple[int, dict[str, Any]]] = {f["properties"].get("code"): (i, f) for i, f in features}
    done: set[Any] = set()
    out: list[tuple[int, dict[str, Any]]] = []

    def visit(code: Any, trail: tuple[Any, ...]) -> None:
        if code in done or code not in by_code:
            return
        if code in trail:
            i, _ = by_code[code]
            raise _fail(i, code, "zone parents form a cycle", ["properties", "parent"])
        parent = by_code[code][1]["properties"].get("parent")
        visit(parent, (*trail, code))
        done.add(code)
        out.append(by_code[code])

    for _i, f in features:
        visit(f["properties"].get("code"), ())
    return out


def import_venue(*, db: Session, event_id: int, collection: Any) -> dict[str, Any]:
    """Import a FeatureCollection into an event; returns counts. A bad feature raises Invalid naming its
    index (zones are checked before points, as points refer to them); nothing is written then."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise Invalid("body must be a GeoJSON FeatureCollection", loc=["body", "type"])
    features = collection.get("features")
    if not isinstance(features, list):
        raise Invalid("FeatureCollection.features must be an array", loc=["body", "features"])
    venue = _upsert_venue(db, event_id, collection.get("venue"))
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {"zone": [], "gate": [], "post": [], "device": []}
    seen: Counter[tuple[str, Any]] = Counter()
    for i, f in enumerate(features):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise _fail(i, None, "not a GeoJSON Feature")
        props = f.get("properties")
        if not isinstance(props, dict):
            raise _fail(i, None, "properties must be an object", ["properties"])
        kind, code = props.get("kind"), props.get("code")
        if isinstance(kind, str) and kind in KIND_ALIASES:
            kind = KIND_ALIASES[kind]
            f = {**f, "properties": {**props, "kind": kind}}
        group = "zone" if kind == "zone" else POINT_KINDS.get(str(kind))
        if group is None:
            allowed = ["zone", *POINT_KINDS]
            raise _fail(i, code, f"unknown kind {kind!r}; one of {', '.join(allowed)}", ["properties", "kind"])
        seen[(group, code)] += 1
        if seen[(group, code)] > 1:
            raise _fail(i, code, f"duplicate code {code!r} in this file", ["properties", "code"])
        groups[group].append((i, f))
    created: Counter[str] = Counter()
    updated: Counter[str] = Counter()
    zone_ids = {z.code: z.id for z in crud.list_rows(db=db, kind=service.ZONES, event_id=event_id, limit=100_000)}

    def zone_ref(i: int, code: Any, props: dict[str, Any], key: str) -> int | None:
        ref = props.get(key)
        if ref is None:
            return None
        if ref not in zone_ids:
            raise _fail(i, code, f"{key} {ref!r}: no such zone", ["properties", key])
        return zone_ids[ref]

    def store(group: str, kind: crud.Kind, i: int, code: Any, data: dict[str, Any]) -> Any:
        create_schema, update_schema = _SCHEMAS[group]
        existing = crud.by_unique(db=db, kind=kind, event_id=event_id, value=code) if code else None
        try:
            if existing is None:
                row = crud.create_row(db=db, kind=kind, event_id=event_id,
                                      data=_validated(create_schema, group, data, i, code))
                created[group] += 1
            else:
                if existing.venue_id != venue.id:
                    raise _fail(i, code, f"code {code!r} belongs to another venue", ["properties", "code"])
                fields = {k: v for k, v in data.items() if k not in ("code", "venue_id")}
                if group != "zone":
                    fields.pop("kind", None)
                row = crud.update_row(db=db, kind=kind, row=existing,
                                      data=_validated(update_schema, group, fields, i, code))
                updated[group] += 1
        except Invalid as exc:
            if exc.message.startswith("feature "):
                raise
            raise _fail(i, code, exc.message, _feature_loc(group, exc.loc[-1] if exc.loc else "geometry")) from exc
        return row

    for i, f in _zone_order(groups["zone"]):
        props = dict(f["properties"])
        code = props.get("code")
        data = {k: v for k, v in props.items() if k not in ("kind", "zone_kind", "parent", "area_m2")}
        data.update(venue_id=venue.id, kind=props.get("zone_kind"), geometry=f.get("geometry"),
                    parent_id=zone_ref(i, code, props, "parent"))
        row = store("zone", service.ZONES, i, code, data)
        zone_ids[row.code] = row.id

    for group in ("gate", "post", "device"):
        for i, f in groups[group]:
            props = dict(f["properties"])
            code = props.get("code")
            geom = f.get("geometry")
            if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(
                    geom.get("coordinates"), list) or len(geom["coordinates"]) < 2:
                raise _fail(i, code, "geometry must be a Point [lon, lat]", ["geometry"])
            data = {k: v for k, v in props.items() if k != "zone"}
            data.update(venue_id=venue.id, lon=geom["coordinates"][0], lat=geom["coordinates"][1],
                        zone_id=zone_ref(i, code, props, "zone"))
            if group == "post":
                data.pop("kind")
            store(group, _KINDS[group], i, code, data)
    return {"venue_id": venue.id, "created": dict(created), "updated": dict(updated)}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def export_venue(*, db: Session, event_id: int, venue_id: int) -> dict[str, Any]:
    """The venue as a FeatureCollection that :func:`import_venue` reads back unchanged."""
    venue = crud.require_row(db=db, kind=service.VENUES, event_id=event_id, row_id=venue_id)
    zones: list[Zone] = [z for z in crud.list_rows(db=db, kind=service.ZONES, event_id=event_id, limit=100_000)
                         if z.venue_id == venue.id]
    code_of = {z.id: z.code for z in zones}
    features: list[dict[str, Any]] = []
    for z in zones:
        features.append({"type": "Feature", "geometry": z.geometry, "properties": {
            "kind": "zone", "code": z.code, "name": z.name, "zone_kind": z.kind, "ring": z.ring,
            "area_m2": z.area_m2, "standing_capacity": z.standing_capacity, "seated_capacity": z.seated_capacity,
            "parent": code_of.get(z.parent_id) if z.parent_id else None}})
    gates: list[Gate] = list(crud.list_rows(db=db, kind=service.GATES, event_id=event_id, limit=100_000))
    for g in gates:
        if g.venue_id == venue.id:
            features.append({"type": "Feature", "geometry": _point(g.lon, g.lat), "properties": {
                "kind": g.kind, "code": g.code, "name": g.name, "zone": code_of.get(g.zone_id or -1),
                "lanes": g.lanes, "width_m": g.width_m, "stair": g.stair, "direction": g.direction}})
    posts: list[Post] = list(crud.list_rows(db=db, kind=service.POSTS, event_id=event_id, limit=100_000))
    for p in posts:
        if p.venue_id == venue.id:
            features.append({"type": "Feature", "geometry": _point(p.lon, p.lat), "properties": {
                "kind": "post", "code": p.code, "name": p.name, "zone": code_of.get(p.zone_id or -1),
                "police_type": p.police_type, "skills": p.skills, "min_staff": p.min_staff,
                "critical": p.critical}})
    devices: list[Device] = list(crud.list_rows(db=db, kind=service.DEVICES, event_id=event_id, limit=100_000))
    for d in devices:
        if d.venue_id == venue.id:
            features.append({"type": "Feature", "geometry": _point(d.lon, d.lat), "properties": {
                "kind": d.kind, "code": d.code, "name": d.name, "zone": code_of.get(d.zone_id or -1),
                "unit_of_measure": d.unit_of_measure, "status": d.status, "properties": d.properties}})
    ref = [venue.ref_lon, venue.ref_lat] if venue.ref_lon is not None and venue.ref_lat is not None else None
    return {"type": "FeatureCollection",
            "venue": {"code": venue.code, "name": venue.name, "crs": venue.crs, "address": venue.address, "ref": ref},
            "features": features}
