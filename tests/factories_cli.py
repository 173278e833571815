"""A tiny venue FeatureCollection near Hangzhou for CLI tests."""

from anbao.core.geo import LocalProjection

LON, LAT = 120.2290, 30.2297


def _poly(proj: LocalProjection, x0: float, y0: float, w: float, h: float) -> dict:
    pts = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0)]
    return {"type": "Polygon", "coordinates": [[list(proj.inverse(x, y)) for x, y in pts]]}


def small_collection() -> dict:
    proj = LocalProjection(LON, LAT)

    def pt(x: float, y: float) -> dict:
        return {"type": "Point", "coordinates": list(proj.inverse(x, y))}

    return {
        "type": "FeatureCollection",
        "venue": {"code": "V", "name": "测试场馆", "crs": "wgs84", "ref": [LON, LAT]},
        "features": [
            {"type": "Feature", "geometry": _poly(proj, -100, -100, 200, 200),
             "properties": {"kind": "zone", "code": "Z1", "name": "场馆", "zone_kind": "核心区", "ring": 1}},
            {"type": "Feature", "geometry": _poly(proj, -50, -50, 100, 100),
             "properties": {"kind": "zone", "code": "Z2", "name": "内场", "zone_kind": "standing", "ring": 1,
                            "parent": "Z1", "standing_capacity": 20000}},
            {"type": "Feature", "geometry": pt(0, -100),
             "properties": {"kind": "gate", "code": "G1", "name": "南门", "zone": "Z1", "lanes": 8, "width_m": 12}},
            {"type": "Feature", "geometry": pt(10, 10),
             "properties": {"kind": "post", "code": "P1", "name": "内场岗", "zone": "Z2", "police_type": "治安",
                            "min_staff": 4}},
            {"type": "Feature", "geometry": pt(0, 0),
             "properties": {"kind": "camera", "code": "C1", "name": "内场摄像机", "zone": "Z2"}},
        ],
    }
