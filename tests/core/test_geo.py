import math

import pytest
from shapely.geometry import box

from anbao.core.errors import Invalid
from anbao.core.geo import LocalProjection, area_m2, check_geometry

REF = (120.2290, 30.2297)


def square(lon0: float, lat0: float, size_m: float) -> dict:
    proj = LocalProjection(lon0, lat0)
    pts = [proj.inverse(x, y) for x, y in [(0, 0), (size_m, 0), (size_m, size_m), (0, size_m), (0, 0)]]
    return {"type": "Polygon", "coordinates": [[list(p) for p in pts]]}


def test_geodesic_area_of_projected_square_matches_metres():
    checked = check_geometry(square(*REF, 200.0), reference=REF)
    assert area_m2(checked.geometry) == pytest.approx(40_000, rel=2e-3)


def test_local_area_is_planar():
    checked = check_geometry({"type": "Polygon", "coordinates": [[[0, 0], [30, 0], [30, 20], [0, 20], [0, 0]]]},
                             crs="local")
    assert area_m2(checked.geometry, crs="local") == 600.0
    assert area_m2(box(0, 0, 10, 10), crs="local") == 100.0


@pytest.mark.parametrize(
    ("geometry", "fragment"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[30.2, 120.2], [30.3, 120.2], [30.3, 120.3], [30.2, 120.2]]]},
         "swapped"),
        ({"type": "Polygon", "coordinates": [[[190, 0], [191, 0], [191, 1], [190, 0]]]}, "longitude"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "geometry type"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}, "position"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [float("nan"), 0], [1, 1], [0, 0]]]}, "position"),
        ({"type": "Polygon"}, "coordinates"),
        ("not a dict", "GeoJSON object"),
    ],
)
def test_bad_geometries_are_named(geometry, fragment):
    with pytest.raises(Invalid) as info:
        check_geometry(geometry)
    assert fragment in info.value.message


def test_far_from_venue_is_rejected_with_distance():
    far = square(121.47, 31.23, 50.0)  # Shanghai, ~160 km from Hangzhou
    with pytest.raises(Invalid) as info:
        check_geometry(far, reference=REF)
    assert "km from the venue" in info.value.message


def test_projection_round_trip_is_sub_millimetre():
    proj = LocalProjection(*REF)
    x, y = proj.forward(120.2350, 30.2250)
    lon, lat = proj.inverse(x, y)
    assert math.isclose(lon, 120.2350, abs_tol=1e-9) and math.isclose(lat, 30.2250, abs_tol=1e-9)
    assert 560 < x < 590 and -530 < y < -510  # ~577 m east, ~521 m south


def test_shapely_mapping_with_tuples_is_accepted_and_stored_as_lists():
    from shapely.geometry import mapping

    checked = check_geometry(mapping(box(0, 0, 10, 10)), crs="local")
    assert isinstance(checked.geojson["coordinates"][0][0], list)
    assert area_m2(checked.geometry, crs="local") == 100.0
