"""Small builders of valid request bodies for the API tests.

Every builder returns a fresh dict; pass keyword arguments to override or add fields. Geometry is
built in local metres around a reference point and projected to WGS84 with
:class:`anbao.core.geo.LocalProjection`, so sizes and areas are known exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from anbao.core.geo import LocalProjection

#: reference point near the Hangzhou Olympic Sports Centre (lon, lat)
LON, LAT = 120.23, 30.23

API = "/api/v1"

_PROJECTIONS: dict[tuple[float, float], LocalProjection] = {}


def projection(lon: float = LON, lat: float = LAT) -> LocalProjection:
    """A (cached) local projection centred on (lon, lat)."""
    key = (lon, lat)
    if key not in _PROJECTIONS:
        _PROJECTIONS[key] = LocalProjection(lon, lat)
    return _PROJECTIONS[key]


# -- URLs ---------------------------------------------------------------------------------------

def url(event_id: int, resource: str, row_id: int | None = None) -> str:
    """``/api/v1/events/{event_id}/{resource}[/{row_id}]``."""
    base = f"{API}/events/{event_id}/{resource}"
    return base if row_id is None else f"{base}/{row_id}"


# -- events -------------------------------------------------------------------------------------

def session_body(start: str = "2026-05-01T19:00:00+08:00", end: str = "2026-05-01T22:30:00+08:00",
                 label: str = "第一场") -> dict[str, Any]:
    return {"label": label, "start": start, "end": end}


def event_body(code: str = "EV1", **overrides: Any) -> dict[str, Any]:
    """A valid EventCreate body: a concert with one evening session (+08:00)."""
    body: dict[str, Any] = {
        "code": code,
        "name": "西湖音乐节",
        "kind": "演唱会",
        "organiser": "杭州文旅",
        "expected_attendance": 40000,
        "timezone": "Asia/Shanghai",
        "sessions": [session_body()],
    }
    body.update(overrides)
    return body


# -- geometry -----------------------------------------------------------------------------------

def rect_local(x0: float, y0: float, width: float, height: float) -> list[list[float]]:
    """A closed counter-clockwise ring in local metres, lower-left corner at (x0, y0)."""
    pts = [(x0, y0), (x0 + width, y0), (x0 + width, y0 + height), (x0, y0 + height), (x0, y0)]
    return [[float(x), float(y)] for x, y in pts]


def polygon_local(width: float, height: float | None = None, *, x0: float | None = None,
                  y0: float | None = None) -> dict[str, Any]:
    """A rectangle in local metres (for ``crs="local"`` venues), centred on the origin by default."""
    height = width if height is None else height
    x0 = -width / 2 if x0 is None else x0
    y0 = -height / 2 if y0 is None else y0
    return {"type": "Polygon", "coordinates": [rect_local(x0, y0, width, height)]}


def square_zone(size_m: float, *, lon: float = LON, lat: float = LAT, height_m: float | None = None,
                dx: float = 0.0, dy: float = 0.0) -> dict[str, Any]:
    """A WGS84 Polygon: a ``size_m`` x ``height_m`` (default square) rectangle in local metres, centred
    ``dx`` m east and ``dy`` m north of (lon, lat), projected to lon/lat."""
    height = size_m if height_m is None else height_m
    proj = projection(lon, lat)
    ring = rect_local(dx - size_m / 2, dy - height / 2, size_m, height)
    coords = [list(proj.inverse(x, y)) for x, y in ring]
    coords[-1] = list(coords[0])  # exactly closed
    return {"type": "Polygon", "coordinates": [coords]}


def point(x: float = 0.0, y: float = 0.0, *, lon: float = LON, lat: float = LAT) -> list[float]:
    """[lon, lat] of the spot ``x`` m east and ``y`` m north of (lon, lat)."""
    return list(projection(lon, lat).inverse(x, y))


def point_geometry(x: float = 0.0, y: float = 0.0, *, lon: float = LON, lat: float = LAT) -> dict[str, Any]:
    return {"type": "Point", "coordinates": point(x, y, lon=lon, lat=lat)}


# -- venue rows ---------------------------------------------------------------------------------

def venue_body(code: str = "V1", *, lon: float = LON, lat: float = LAT, **overrides: Any) -> dict[str, Any]:
    """A WGS84 venue with its reference point at (lon, lat)."""
    body: dict[str, Any] = {"code": code, "name": "奥体中心体育场", "crs": "wgs84", "address": "杭州市滨江区",
                            "ref_lon": lon, "ref_lat": lat}
    body.update(overrides)
    return body


def local_venue_body(code: str = "VL", **overrides: Any) -> dict[str, Any]:
    """A venue drawn on a site plan in local metres (no reference point)."""
    body: dict[str, Any] = {"code": code, "name": "展馆平面图", "crs": "local"}
    body.update(overrides)
    return body


def zone_body(venue_id: int, code: str = "Z1", *, size_m: float = 100.0, geometry: dict[str, Any] | None = None,
              **overrides: Any) -> dict[str, Any]:
    """A core zone: a ``size_m`` square around the reference point unless ``geometry`` is given."""
    body: dict[str, Any] = {"venue_id": venue_id, "code": code, "name": f"区域{code}", "kind": "core", "ring": 1,
                            "geometry": geometry if geometry is not None else square_zone(size_m)}
    body.update(overrides)
    return body


def gate_body(venue_id: int, code: str = "G1", *, x: float = 0.0, y: float = -50.0, **overrides: Any) -> dict[str, Any]:
    lon, lat = point(x, y)
    body: dict[str, Any] = {"venue_id": venue_id, "code": code, "name": f"出入口{code}", "kind": "gate",
                            "lon": lon, "lat": lat, "lanes": 4, "width_m": 6.0}
    body.update(overrides)
    return body


def post_body(venue_id: int, code: str = "P1", *, x: float = 10.0, y: float = 10.0, **overrides: Any) -> dict[str, Any]:
    lon, lat = point(x, y)
    body: dict[str, Any] = {"venue_id": venue_id, "code": code, "name": f"岗位{code}", "lon": lon, "lat": lat,
                            "police_type": "治安", "min_staff": 2}
    body.update(overrides)
    return body


def device_body(venue_id: int, code: str = "C1", *, x: float = 0.0, y: float = 0.0,
                **overrides: Any) -> dict[str, Any]:
    lon, lat = point(x, y)
    body: dict[str, Any] = {"venue_id": venue_id, "code": code, "name": f"设备{code}", "kind": "camera",
                            "lon": lon, "lat": lat}
    body.update(overrides)
    return body


# -- GeoJSON import -----------------------------------------------------------------------------

def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def feature_collection(features: list[dict[str, Any]] | None = None, *, venue_code: str = "V1",
                       lon: float = LON, lat: float = LAT) -> dict[str, Any]:
    """A valid venue FeatureCollection (see :func:`venue_features` for the default features)."""
    return {
        "type": "FeatureCollection",
        "venue": {"code": venue_code, "name": "奥体中心体育场", "crs": "wgs84", "address": "杭州市滨江区",
                  "ref": [lon, lat]},
        "features": venue_features(lon=lon, lat=lat) if features is None else features,
    }


#: how many rows of each kind :func:`venue_features` describes
VENUE_FEATURE_COUNTS = {"zone": 3, "gate": 3, "post": 2, "device": 2}


def venue_features(*, lon: float = LON, lat: float = LAT) -> list[dict[str, Any]]:
    """Ten features: three zones (Z2 and Z3 inside Z1), a gate, a checkpoint and an exit, two posts, a
    camera and a smoke sensor. Index 5 is the exit (a Point), index 4 a checkpoint."""

    def pt(x: float, y: float) -> dict[str, Any]:
        return point_geometry(x, y, lon=lon, lat=lat)

    return [
        feature(square_zone(400, lon=lon, lat=lat), kind="zone", code="Z1", name="场馆", zone_kind="核心区",
                ring=1),
        feature(square_zone(100, lon=lon, lat=lat, height_m=50), kind="zone", code="Z2", name="内场",
                zone_kind="standing", ring=1, parent="Z1", standing_capacity=20000),
        feature(square_zone(80, lon=lon, lat=lat, dy=120), kind="zone", code="Z3", name="北看台",
                zone_kind="看台", ring=1, parent="Z1", seated_capacity=8000),
        feature(pt(0, -200), kind="gate", code="G1", name="南门", zone="Z1", lanes=8, width_m=12.0),
        feature(pt(0, -150), kind="checkpoint", code="K1", name="南安检口", zone="Z1", lanes=10, width_m=15.0,
                direction="in"),
        feature(pt(200, 0), kind="exit", code="E1", name="东疏散口", zone="Z1", width_m=8.0, stair=True,
                direction="out"),
        feature(pt(10, 10), kind="post", code="P1", name="内场岗", zone="Z2", police_type="治安", min_staff=4,
                critical=True),
        feature(pt(0, -190), kind="post", code="P2", name="南门岗", zone="Z1", police_type="traffic",
                skills=["疏导"]),
        feature(pt(0, 0), kind="camera", code="C1", name="内场摄像机", zone="Z2"),
        feature(pt(5, 120), kind="smoke", code="S1", name="看台烟感", zone="Z3", unit_of_measure="ppm"),
    ]


# -- org ----------------------------------------------------------------------------------------

def node_body(code: str, level: str, parent_id: int | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": f"节点{code}", "level": level, "parent_id": parent_id}
    body.update(overrides)
    return body


def unit_body(code: str = "U1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": f"单元{code}", "call_sign": f"呼号{code}", "police_type": "治安"}
    body.update(overrides)
    return body


def person_body(badge_no: str = "A1001", unit_id: int | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"unit_id": unit_id, "name": "张三", "badge_no": badge_no, "role": "队员",
                            "phone": "+86 138-0000-0000"}
    body.update(overrides)
    return body


# -- database checks ----------------------------------------------------------------------------

def count_rows(sessions: Any, model: type, **where: Any) -> int:
    """How many rows of ``model`` match ``where`` (column == value), read in a fresh session."""
    with sessions() as s:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(s.execute(stmt).scalar_one())


# -- API calls that must succeed --------------------------------------------------------------------

def created(client: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """POST ``body`` to ``path`` (under /api/v1 unless it already starts with it); assert 201; the JSON."""
    full = path if path.startswith(API) else API + path
    r = client.post(full, json=body, headers=headers)
    assert r.status_code == 201, f"POST {full} -> {r.status_code}: {r.text}"
    return r.json()


def make_event(client: Any, headers: dict[str, str], code: str = "EV1", **overrides: Any) -> int:
    """Create an event; its id."""
    return int(created(client, "/events", event_body(code, **overrides), headers)["id"])


def make_venue(client: Any, headers: dict[str, str], event_id: int, code: str = "V1", **overrides: Any) -> int:
    """Create a WGS84 venue (reference point at LON, LAT unless overridden) in ``event_id``; its id."""
    return int(created(client, url(event_id, "venues"), venue_body(code, **overrides), headers)["id"])


def link_user(client: Any, user: dict[str, str], unit_id: int, by: dict[str, str]) -> None:
    """Link the login whose Authorization header is ``user`` to a unit (``by``: a caller with org:write)."""
    uid = client.get("/api/v1/auth/me", headers=user).json()["id"]
    r = client.put(f"/api/v1/users/{uid}/units/{unit_id}", headers=by)
    assert r.status_code == 200, r.text
