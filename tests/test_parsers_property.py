"""Property tests of every parser of outside input: whatever comes in, the parser answers with its result or
its documented error type (a 4xx at the edge), never another exception (a 500).

Parsers: GeoJSON geometry (core/geo.py), GeoJSON and OpenStreetMap road files (dispatch/roadnet.py, error
RoadNetError), GB/T 28181 MANSCDP alarms (sensing/gb28181.py), CAP 1.2 (alert/cap), readings bodies
(sensing/decode.py), the OSM maxspeed tag, and the input models' limits (core/schemas.py). Inputs are
both arbitrary values and valid samples with one part replaced by a drawn value, so that the search reaches
past the first check. No XLSX import exists yet: its parser gets its property here when it comes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from anbao.alert import cap
from anbao.core.errors import Invalid
from anbao.core.geo import check_geometry
from anbao.core.schemas import In
from anbao.dispatch import roadnet
from anbao.sensing import decode, gb28181

DATA = Path(__file__).parent / "data"
CAP_EXAMPLE = (DATA / "cap" / "cap_amber_alert_example.xml").read_text(encoding="utf-8")
RUNS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])

# JSON values, numbers at their extremes included
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | \
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6) |
                           st.dictionaries(st.text(max_size=10), inner, max_size=6), max_leaves=40)
numbers = st.integers(min_value=-(2**66), max_value=2**66) | st.floats(allow_nan=True, allow_infinity=True)
position = st.lists(numbers, min_size=0, max_size=4)
GEOMETRY_TYPES = ["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString", "MultiPoint", "Circle", 3]


# -- GeoJSON geometry -----------------------------------------------------------------------------

@RUNS
@given(st.one_of(
    json_values,
    st.fixed_dictionaries({"type": st.sampled_from(GEOMETRY_TYPES), "coordinates": json_values}),
    st.fixed_dictionaries({"type": st.sampled_from(GEOMETRY_TYPES),
                           "coordinates": st.lists(st.lists(position, max_size=8), max_size=3)}),
    st.fixed_dictionaries({"type": st.just("Polygon"),
                           "coordinates": st.lists(st.lists(st.tuples(st.floats(-200, 200), st.floats(-100, 100)),
                                                            min_size=3, max_size=12), min_size=1, max_size=2)}),
), st.sampled_from(["wgs84", "local"]), st.sampled_from([None, (120.2, 30.2)]))
def test_geometry_check_raises_only_invalid(geojson: Any, crs: Any, reference: Any) -> None:
    allowed = ("Polygon", "MultiPolygon", "LineString", "Point")
    try:
        checked = check_geometry(geojson, crs=crs, allowed=allowed, reference=reference)
    except Invalid:
        return
    assert checked.geometry.is_valid and not checked.geometry.is_empty


# -- road files: GeoJSON and OpenStreetMap --------------------------------------------------------

def _line_feature(coords: Any, props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props}


@RUNS
@given(st.one_of(
    json_values,
    st.builds(lambda fs: {"type": "FeatureCollection", "features": fs}, st.lists(json_values, max_size=4)),
    st.builds(lambda fs: {"type": "FeatureCollection", "features": fs}, st.lists(st.builds(
        _line_feature,
        st.lists(st.lists(st.floats(-181, 181, allow_nan=False) | numbers, min_size=0, max_size=3), max_size=5),
        st.dictionaries(st.sampled_from(["highway", "oneway", "maxspeed", "access", "foot", "name", "lanes"]),
                        scalars, max_size=5)), max_size=4)),
))
def test_road_geojson_raises_only_roadnet_error(tmp_path_factory: pytest.TempPathFactory, data: Any) -> None:
    path = tmp_path_factory.mktemp("roads") / "roads.geojson"
    try:
        path.write_text(json.dumps(data), encoding="utf-8")
    except ValueError:  # a value JSON cannot carry: not a file anyone can send
        return
    try:
        roadnet.load_geojson(path)
    except roadnet.RoadNetError:
        pass


OSM_HEAD = '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
osm_tag = st.tuples(st.sampled_from(["highway", "oneway", "maxspeed", "access", "foot", "junction", "area"]),
                    st.text(alphabet=st.characters(codec="utf-8", exclude_characters='<>&"'), max_size=12))


def _osm(nodes: list[tuple[int, float, float]], ways: list[tuple[int, list[int], list[tuple[str, str]]]]) -> str:
    out = [OSM_HEAD]
    out += [f'<node id="{i}" lat="{lat}" lon="{lon}"/>' for i, lat, lon in nodes]
    for wid, refs, tags in ways:
        out.append(f'<way id="{wid}">' + "".join(f'<nd ref="{r}"/>' for r in refs)
                   + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags) + "</way>")
    return "".join(out) + "</osm>"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=200),
    st.builds(_osm,
              st.lists(st.tuples(st.integers(1, 8), st.floats(-91, 91, allow_nan=False),
                                 st.floats(-181, 181, allow_nan=False)), max_size=8),
              st.lists(st.tuples(st.integers(1, 5), st.lists(st.integers(1, 9), max_size=5),
                                 st.lists(osm_tag, max_size=4)), max_size=4)).map(str.encode),
))
def test_osm_raises_only_roadnet_error(tmp_path_factory: pytest.TempPathFactory, body: bytes) -> None:
    path = tmp_path_factory.mktemp("osm") / "roads.osm"
    path.write_bytes(body)
    try:
        roadnet.load_osm(path)
    except roadnet.RoadNetError:
        pass


@RUNS
@given(st.text(max_size=20))
def test_maxspeed_is_a_speed_or_none(value: str) -> None:
    speed = roadnet.parse_maxspeed(value)
    assert speed is None or speed > 0


# -- GB/T 28181 MANSCDP alarms --------------------------------------------------------------------

FIELDS = ("CmdType", "SN", "DeviceID", "AlarmPriority", "AlarmMethod", "AlarmTime", "Longitude", "Latitude")
GOOD = {"CmdType": "Alarm", "SN": "1", "DeviceID": "34020000001320000001", "AlarmPriority": "2",
        "AlarmMethod": "5", "AlarmTime": "2026-12-19T20:15:03", "Longitude": "116.39", "Latitude": "39.91"}
xml_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<>&"), max_size=30)


def _notify(values: dict[str, str], info: str) -> bytes:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in values.items())
    return f'<?xml version="1.0" encoding="UTF-8"?><Notify>{body}{info}</Notify>'.encode()


@RUNS
@given(st.one_of(
    st.binary(max_size=300),
    st.builds(lambda field, value, info: _notify({**GOOD, field: value}, info), st.sampled_from(FIELDS),
              xml_text | st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59", "-1", "1e999", "NaN",
                                          "99999999999999999999999"]),
              st.sampled_from(["", "<Info><AlarmType>10</AlarmType><AlarmTypeParam><Density>4.5</Density>"
                                   "</AlarmTypeParam></Info>", "<Info><AlarmType>9</AlarmType></Info>"])
              | xml_text.map(lambda t: f"<Info><AlarmType>{t}</AlarmType><AlarmTypeParam><Density>{t}</Density>"
                                       "</AlarmTypeParam></Info>")),
), st.sampled_from(["Asia/Shanghai", "Pacific/Kiritimati", "Etc/GMT+12"]))
def test_manscdp_alarm_raises_only_invalid(body: bytes, tz: str) -> None:
    try:
        alarm = gb28181.parse_alarm(body, tz=tz)
    except Invalid:
        return
    assert alarm.device_id.isdigit()


# -- CAP 1.2 --------------------------------------------------------------------------------------

CAP_FIELDS = ("identifier", "sender", "sent", "status", "msgType", "scope", "severity", "urgency", "certainty",
              "effective", "expires", "onset", "areaDesc", "event", "category", "headline", "language")


def _cap_with(field: str, value: str) -> bytes:
    start, end = CAP_EXAMPLE.find(f"<{field}>"), CAP_EXAMPLE.find(f"</{field}>")
    if start < 0 or end < 0:
        return CAP_EXAMPLE.replace("</alert>", f"<{field}>{value}</{field}></alert>").encode()
    return (CAP_EXAMPLE[:start + len(field) + 2] + value + CAP_EXAMPLE[end:]).encode()


@RUNS
@given(st.one_of(
    st.binary(max_size=300),
    st.builds(_cap_with, st.sampled_from(CAP_FIELDS),
              xml_text | st.sampled_from(["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-05:00",
                                          "2026-02-30T00:00:00+08:00", "2026-12-19T20:15:00+24:00", "Unknown"])),
))
def test_cap_raises_only_invalid(body: bytes) -> None:
    try:
        alert = cap.from_xml(body)
    except Invalid:
        return
    assert alert.identifier and alert.sent.utcoffset() is not None
    cap.to_xml(alert)  # what was read can be written back


# -- readings bodies ------------------------------------------------------------------------------

reading = st.fixed_dictionaries({"sensor": st.text(max_size=8) | scalars, "at": st.sampled_from([
    "2026-12-19T20:15:03+08:00", "0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-05:00", "2026-12-19T20:15:03",
    "nonsense"]) | scalars, "value": scalars}, optional={"values": json_values, "idempotency_key": scalars})


@RUNS
@given(st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(reading, max_size=5).map(lambda v: json.dumps(v).encode()),
    st.lists(reading, max_size=5).map(lambda v: b"\n".join(json.dumps(x).encode() for x in v)),
), st.sampled_from(["application/json", "application/x-ndjson"]))
def test_readings_decode_raises_only_invalid(body: bytes, content_type: str) -> None:
    try:
        decoded = decode.decode_body(body, content_type)
    except Invalid:
        return
    assert decoded.size == len(decoded.items) + len(decoded.rejected)


def test_stored_time_of_a_reading_at_the_ends_of_the_calendar_is_refused() -> None:
    from anbao.sensing.service import _stamp

    for at in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-05:00"):
        stamp, why = _stamp(at)
        assert stamp is None and "outside the accepted range" in why
    assert _stamp(datetime.fromisoformat("2026-12-19T20:15:03+08:00"))[0] == "2026-12-19 12:15:03.000000"


# -- input models ---------------------------------------------------------------------------------

class Sample(In):
    name: str = ""
    count: int = 0
    tags: list[str] = []
    extra: dict[str, Any] = {}
    at: datetime | None = None


@RUNS
@given(st.dictionaries(st.sampled_from(["name", "count", "tags", "extra", "at"]),
                       json_values | st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()), max_size=5))
def test_input_models_raise_only_validation_errors(body: dict[str, Any]) -> None:
    try:
        Sample.model_validate(body)
    except ValidationError:
        pass
