"""GB/T 28181 alarm notifications: parsing, encodings, validation, hostile XML, the response."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import defusedxml.ElementTree as DefusedET
import pytest

from anbao.core.errors import Invalid
from anbao.sensing.gb28181 import (
    CONTENT_TYPE,
    MAX_BYTES,
    UNCERTAIN_TYPES,
    AlarmKind,
    AlarmMethod,
    CameraAlarm,
    alarm_response,
    is_manscdp,
    parse_alarm,
)

CAMERA = "34020000001320000001"  # domain 34020000, type 132 (IPC), serial 0000001

# A crowd-density alarm as a Chinese platform sends it: GB2312 prolog, CRLF, the value in AlarmTypeParam.
DENSITY_GB2312 = """<?xml version="1.0" encoding="GB2312"?>\r
<Notify>\r
<CmdType>Alarm</CmdType>\r
<SN>17430</SN>\r
<DeviceID>34020000001320000001</DeviceID>\r
<AlarmPriority>1</AlarmPriority>\r
<AlarmMethod>5</AlarmMethod>\r
<AlarmTime>2026-12-19T20:15:03</AlarmTime>\r
<AlarmDescription>东广场入口人员密度超限</AlarmDescription>\r
<Longitude>116.397128</Longitude>\r
<Latitude>39.916527</Latitude>\r
<Info>\r
<AlarmType>10</AlarmType>\r
<AlarmTypeParam>\r
<Density>4.5</Density>\r
</AlarmTypeParam>\r
</Info>\r
</Notify>\r
""".encode("gb2312")

# A flow-count alarm in UTF-8 with the count element and no position.
FLOW_UTF8 = """<?xml version="1.0" encoding="UTF-8"?>
<Notify>
  <CmdType>Alarm</CmdType>
  <SN>8</SN>
  <DeviceID>34020000001320000002</DeviceID>
  <AlarmPriority>3</AlarmPriority>
  <AlarmMethod>5</AlarmMethod>
  <AlarmTime>2026-12-19T19:00:00</AlarmTime>
  <AlarmDescription>北门客流量统计</AlarmDescription>
  <Info>
    <AlarmType>9</AlarmType>
    <AlarmTypeParam><Count>1234</Count></AlarmTypeParam>
  </Info>
</Notify>
""".encode()


def notify(*, encoding: str | None = "UTF-8", root: str = "Notify", cmd: str | None = "Alarm",
           sn: str | None = "1", device: str | None = CAMERA, priority: str | None = "2", method: str | None = "5",
           time: str | None = "2026-12-19T20:15:03", description: str | None = None, lon: str | None = None,
           lat: str | None = None, info: str | None = None, extra: str = "") -> str:
    """One alarm notification as text; None leaves an element out."""
    parts = [f'<?xml version="1.0" encoding="{encoding}"?>'] if encoding else []
    parts.append(f"<{root}>")
    for tag, value in (("CmdType", cmd), ("SN", sn), ("DeviceID", device), ("AlarmPriority", priority),
                       ("AlarmMethod", method), ("AlarmTime", time), ("AlarmDescription", description),
                       ("Longitude", lon), ("Latitude", lat)):
        if value is not None:
            parts.append(f"<{tag}>{value}</{tag}>")
    if info is not None:
        parts.append(f"<Info>{info}</Info>")
    parts.append(extra)
    parts.append(f"</{root}>")
    return "\n".join(parts)


def video(alarm_type: int, params: str = "", **kw: str | None) -> bytes:
    return notify(info=f"<AlarmType>{alarm_type}</AlarmType>{params}", **kw).encode()  # type: ignore[arg-type]


def invalid(data: bytes, match: str) -> Invalid:
    with pytest.raises(Invalid, match=match) as caught:
        parse_alarm(data)
    return caught.value


# --- readings: density and flow count ---------------------------------------------------------------------------

def test_density_alarm_in_gb2312_becomes_a_reading_in_persons_per_m2():
    alarm = parse_alarm(DENSITY_GB2312)
    assert alarm.kind is AlarmKind.crowd_density and alarm.is_reading
    assert (alarm.value, alarm.unit) == (4.5, "persons/m2")
    assert alarm.device_id == CAMERA and alarm.sn == 17430
    assert alarm.priority == 1 and alarm.method is AlarmMethod.video and alarm.alarm_type == 10
    assert alarm.at == datetime(2026, 12, 19, 12, 15, 3, tzinfo=UTC)  # 20:15:03 in Beijing is UTC+8
    assert (alarm.lon, alarm.lat) == (116.397128, 39.916527)
    assert alarm.description == "东广场入口人员密度超限"
    assert alarm.raw_type_label == "密度检测报警"


def test_flow_count_alarm_in_utf8_without_position():
    alarm = parse_alarm(FLOW_UTF8)
    assert alarm.kind is AlarmKind.flow_count and alarm.is_reading
    assert (alarm.value, alarm.unit) == (1234.0, "persons")
    assert alarm.lon is None and alarm.lat is None
    assert alarm.priority == 3 and alarm.sn == 8
    assert alarm.at == datetime(2026, 12, 19, 11, 0, tzinfo=UTC)
    assert alarm.raw_type_label == "流量统计报警" and alarm.description == "北门客流量统计"


def test_flow_count_value_read_from_a_gb2312_description():
    data = notify(encoding="GB2312", description="北门 人数:123 超过阈值", info="<AlarmType>9</AlarmType>")
    alarm = parse_alarm(data.encode("gb2312"))
    assert (alarm.value, alarm.unit) == (123.0, "persons")
    assert alarm.description == "北门 人数:123 超过阈值"


def test_density_value_read_from_a_gbk_description_with_full_width_colon():
    data = notify(encoding="GBK", description="区域密度：4.5人/㎡", info="<AlarmType>10</AlarmType>")  # ㎡ is GBK only
    alarm = parse_alarm(data.encode("gbk"))
    assert (alarm.value, alarm.unit) == (4.5, "persons/m2")
    assert alarm.description == "区域密度：4.5人/㎡"


def test_density_alarm_reporting_a_head_count_keeps_the_persons_unit():
    alarm = parse_alarm(video(10, description="人数=87"))
    assert (alarm.value, alarm.unit) == (87.0, "persons")


def test_each_reading_kind_prefers_its_own_measure_and_elements_beat_description():
    params = "<AlarmTypeParam><Count>300</Count><Density>2.5</Density></AlarmTypeParam>"
    assert (parse_alarm(video(10, params)).value, parse_alarm(video(10, params)).unit) == (2.5, "persons/m2")
    assert (parse_alarm(video(9, params)).value, parse_alarm(video(9, params)).unit) == (300.0, "persons")
    from_element = parse_alarm(video(9, "<AlarmTypeParam><Count>40</Count></AlarmTypeParam>", description="人数:99"))
    assert from_element.value == 40.0


def test_reading_without_a_value_has_none():
    alarm = parse_alarm(video(10, description="人员密度超限"))
    assert alarm.is_reading and alarm.value is None and alarm.unit is None


def test_percentage_in_description_is_not_a_density():
    assert parse_alarm(video(10, description="密度:80%")).value is None
    assert parse_alarm(video(10, description="密度: 80 ％")).value is None


@pytest.mark.parametrize("params, match", [
    ("<Density>45</Density>", r"^Info/AlarmTypeParam/Density: density 45.0 persons/m2 is over 12.0"),
    ("<Density>-1</Density>", r"^Info/AlarmTypeParam/Density: must not be negative, got -1.0$"),
    ("<Count>many</Count>", r"^Info/AlarmTypeParam/Count: must be a number, got 'many'$"),
    ("<Count>nan</Count>", r"^Info/AlarmTypeParam/Count: must be a number, got 'nan'$"),
])
def test_bad_measured_values_are_rejected(params, match):
    invalid(video(10, f"<AlarmTypeParam>{params}</AlarmTypeParam>"), match)


def test_implausible_density_in_description_is_rejected():
    invalid(video(10, description="密度:60"), r"^AlarmDescription: density 60.0 persons/m2")


# --- camera events ---------------------------------------------------------------------------------------------

def test_intrusion_with_event_type_and_position_is_an_event_without_value():
    data = notify(encoding="GB2312", priority="2", description="西侧围栏区域入侵 人数:3", lon="121.4737", lat="31.2304",
                  info="<AlarmType>6</AlarmType><AlarmTypeParam><EventType>1</EventType></AlarmTypeParam>")
    alarm = parse_alarm(data.encode("gb2312"))
    assert alarm.kind is AlarmKind.intrusion and not alarm.is_reading
    assert alarm.value is None and alarm.unit is None  # counts in event descriptions are not readings
    assert alarm.event_type == 1 and alarm.raw_type_label == "入侵检测报警"
    assert (alarm.lon, alarm.lat) == (121.4737, 31.2304)


def test_tripwire():
    alarm = parse_alarm(video(5, priority="2"))
    assert (alarm.kind, alarm.is_reading, alarm.raw_type_label) == (AlarmKind.tripwire, False, "绊线检测报警")


def test_loitering():
    alarm = parse_alarm(video(8, priority="4"))
    assert (alarm.kind, alarm.priority, alarm.raw_type_label) == (AlarmKind.loitering, 4, "徘徊检测报警")


def test_device_fault_method_6():
    alarm = parse_alarm(notify(method="6", info="<AlarmType>1</AlarmType>").encode())
    assert alarm.kind is AlarmKind.device_fault and alarm.method is AlarmMethod.device_fault
    assert alarm.raw_type_label == "存储设备磁盘故障报警" and not alarm.is_reading
    bare = parse_alarm(notify(method="6").encode())
    assert bare.alarm_type is None and bare.raw_type_label == "设备故障报警" and bare.kind is AlarmKind.device_fault


@pytest.mark.parametrize("alarm_type, kind, label", [
    ("<AlarmType>1</AlarmType>", AlarmKind.device_fault, "视频丢失报警"),
    ("<AlarmType>2</AlarmType>", AlarmKind.other, "设备防拆报警"),
    (None, AlarmKind.other, "设备报警"),
])
def test_device_alarms_method_2(alarm_type, kind, label):
    alarm = parse_alarm(notify(method="2", info=alarm_type).encode())
    assert (alarm.kind, alarm.raw_type_label) == (kind, label)


@pytest.mark.parametrize("alarm_type, label", [
    (7, "逆行检测报警"), (1, "人工视频报警"), (12, "快速移动报警"), (13, "图像遮挡报警"), (99, "视频报警(类型99)"),
])
def test_other_video_alarms(alarm_type, label):
    alarm = parse_alarm(video(alarm_type))
    assert (alarm.kind, alarm.is_reading, alarm.raw_type_label) == (AlarmKind.other_video, False, label)


def test_uncertain_codes_are_declared():
    assert (5, 13) in UNCERTAIN_TYPES and (5, 10) not in UNCERTAIN_TYPES


def test_non_video_methods_are_other():
    alarm = parse_alarm(notify(method="1", info=None).encode())
    assert (alarm.kind, alarm.method, alarm.raw_type_label) == (AlarmKind.other, AlarmMethod.phone, "电话报警")


def test_alarm_type_directly_under_notify_is_accepted():
    alarm = parse_alarm(notify(extra="<AlarmType>10</AlarmType>").encode())
    assert alarm.kind is AlarmKind.crowd_density


# --- encodings and tolerated variants ---------------------------------------------------------------------------

def test_utf8_body_mislabelled_gb2312_is_read_as_utf8():
    data = notify(encoding="GB2312", description="南门人员密度", info="<AlarmType>10</AlarmType>").encode()
    assert parse_alarm(data).description == "南门人员密度"


def test_gbk_body_without_prolog_is_read_as_gb18030():
    data = notify(encoding=None, description="南门人员密度").encode("gbk")
    assert parse_alarm(data).description == "南门人员密度"


def test_utf8_byte_order_mark():
    assert parse_alarm(b"\xef\xbb\xbf" + FLOW_UTF8).value == 1234.0


def test_namespaced_notify_is_accepted():
    data = FLOW_UTF8.replace(b"<Notify>", b'<Notify xmlns="urn:example">')
    assert parse_alarm(data).kind is AlarmKind.flow_count


def test_zero_position_means_not_set():
    alarm = parse_alarm(notify(lon="0.000000", lat="0.000000").encode())
    assert alarm.lon is None and alarm.lat is None


@pytest.mark.parametrize("raw, tz, expected", [
    ("2026-12-19T20:15:03", "Asia/Shanghai", datetime(2026, 12, 19, 12, 15, 3, tzinfo=UTC)),
    ("2026-12-19 20:15:03", "Asia/Shanghai", datetime(2026, 12, 19, 12, 15, 3, tzinfo=UTC)),
    ("2026-12-19T20:15:03.250", "Asia/Shanghai", datetime(2026, 12, 19, 12, 15, 3, 250000, tzinfo=UTC)),
    ("2026-12-19T20:15:03", "Europe/Berlin", datetime(2026, 12, 19, 19, 15, 3, tzinfo=UTC)),
    ("2026-12-19T20:15:03+09:00", "Asia/Shanghai", datetime(2026, 12, 19, 11, 15, 3, tzinfo=UTC)),
    ("2026-12-19T20:15:03Z", "Asia/Shanghai", datetime(2026, 12, 19, 20, 15, 3, tzinfo=UTC)),
])
def test_alarm_time_is_local_to_the_given_zone_and_returned_in_utc(raw, tz, expected):
    at = parse_alarm(notify(time=raw).encode(), tz=tz).at
    assert at == expected and at.utcoffset() is not None and at.tzinfo is UTC


def test_camera_alarm_is_frozen_and_is_reading_follows_kind():
    alarm = parse_alarm(FLOW_UTF8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        alarm.value = 1.0  # type: ignore[misc]
    assert "is_reading" not in {f.name for f in dataclasses.fields(CameraAlarm) if f.init}
    assert not dataclasses.replace(alarm, kind=AlarmKind.intrusion).is_reading


# --- errors -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, match", [
    (b"", r"^XML: empty body$"),
    (b"hello, this is not xml", r"^XML: not well-formed"),
    (b"<Notify><CmdType>Alarm</CmdType>", r"^XML: not well-formed"),
    (b'{"CmdType": "Alarm"}', r"^XML: not well-formed"),
])
def test_not_xml(data, match):
    invalid(data, match)


def test_wrong_root():
    invalid(notify(root="Response").encode(), r"^XML: root element must be Notify, got 'Response'$")


@pytest.mark.parametrize("cmd, match", [
    ("Keepalive", r"^CmdType: must be Alarm, got 'Keepalive'$"),
    (None, r"^CmdType: required$"),
])
def test_cmd_type_must_be_alarm(cmd, match):
    invalid(notify(cmd=cmd).encode(), match)


@pytest.mark.parametrize("element", ["DeviceID", "AlarmTime", "AlarmMethod", "AlarmPriority", "SN"])
def test_missing_required_elements(element):
    key = {"DeviceID": "device", "AlarmTime": "time", "AlarmMethod": "method", "AlarmPriority": "priority",
           "SN": "sn"}[element]
    error = invalid(notify(**{key: None}).encode(), rf"^{element}: required$")  # type: ignore[arg-type]
    assert error.loc == ["body", element]


def test_empty_required_element_counts_as_missing():
    invalid(notify(device="  ").encode(), r"^DeviceID: required$")


@pytest.mark.parametrize("device", ["3402000000132000000", "3402000000132000000X", "340200000013200000011"])
def test_device_id_must_have_20_digits(device):
    invalid(notify(device=device).encode(), r"^DeviceID: must be a 20-digit code")


@pytest.mark.parametrize("priority, match", [
    ("high", r"^AlarmPriority: must be an integer, got 'high'$"),
    ("1.5", r"^AlarmPriority: must be an integer, got '1.5'$"),
    ("7", r"^AlarmPriority: must be 1-4, got 7$"),
    ("0", r"^AlarmPriority: must be 1-4, got 0$"),
])
def test_priority(priority, match):
    error = invalid(notify(priority=priority).encode(), match)
    assert error.loc == ["body", "AlarmPriority"]


@pytest.mark.parametrize("method, match", [
    ("video", r"^AlarmMethod: must be an integer, got 'video'$"),
    ("8", r"^AlarmMethod: must be 1-7, got 8$"),
])
def test_method(method, match):
    invalid(notify(method=method).encode(), match)


@pytest.mark.parametrize("raw", ["2026-13-40T25:00:00", "20261219T201503", "2026-12-19", "19/12/2026 20:15", "now"])
def test_bad_alarm_time(raw):
    invalid(notify(time=raw).encode(), r"^AlarmTime: must be a date-time like 2026-12-19T20:15:03, got ")


@pytest.mark.parametrize("lon, lat, match", [
    ("200.5", "39.9", r"^Longitude: must be -180 to 180, got 200.5$"),
    ("116.4", "95", r"^Latitude: must be -90 to 90, got 95.0$"),
    ("39.9", "116.4", r"^Latitude: must be -90 to 90, got 116.4 \(Longitude and Latitude swapped\?\)$"),
    ("east", "39.9", r"^Longitude: must be a number, got 'east'$"),
    ("116.4", None, r"^Latitude: required when Longitude is given$"),
])
def test_bad_position(lon, lat, match):
    invalid(notify(lon=lon, lat=lat).encode(), match)


def test_non_numeric_alarm_type_and_event_type():
    invalid(notify(info="<AlarmType>density</AlarmType>").encode(), r"^Info/AlarmType: must be an integer")
    invalid(video(6, "<AlarmTypeParam><EventType>in</EventType></AlarmTypeParam>"),
            r"^Info/AlarmTypeParam/EventType: must be an integer")


def test_unsupported_encoding_and_bad_bytes():
    invalid(notify(encoding="Shift_JIS").encode(), r"^XML: unsupported encoding 'Shift_JIS'")
    invalid(b"\xef\xbb\xbf" + "<Notify>南</Notify>".encode("gbk"), r"^XML: invalid utf-8 bytes")


def test_oversized_body():
    invalid(notify(description="x" * MAX_BYTES).encode(), r"^XML: body of \d+ bytes is over the 65536-byte limit$")


# --- hostile XML ------------------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Notify [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>34020000001320000001</DeviceID>
<AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-12-19T20:15:03</AlarmTime>
<AlarmDescription>&lol3;</AlarmDescription></Notify>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="GB2312"?>
<!DOCTYPE Notify [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>34020000001320000001</DeviceID>
<AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-12-19T20:15:03</AlarmTime>
<AlarmDescription>&xxe;</AlarmDescription></Notify>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Notify SYSTEM "http://attacker.example/evil.dtd">
<Notify><CmdType>Alarm</CmdType></Notify>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
                         ids=["billion-laughs", "external-entity", "external-dtd"])
def test_dtds_and_entities_are_rejected(payload):
    invalid(payload, r"^XML: DTDs, entities and external references are not allowed")


# --- response and content type ----------------------------------------------------------------------------------

def test_response_parses_and_echoes_sn_and_device():
    alarm = parse_alarm(DENSITY_GB2312)
    body = alarm_response(alarm.sn, alarm.device_id)
    assert body.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
    root = DefusedET.fromstring(body.decode("ascii").split("?>", 1)[1])
    assert root.tag == "Response"
    assert [(child.tag, child.text) for child in root] == [
        ("CmdType", "Alarm"), ("SN", "17430"), ("DeviceID", CAMERA), ("Result", "OK")]


@pytest.mark.parametrize("sn, device, match", [
    (-1, CAMERA, r"^SN: must be a non-negative integer"),
    (True, CAMERA, r"^SN: must be a non-negative integer"),
    (1, "<x/>", r"^DeviceID: must be a 20-digit code"),
])
def test_response_rejects_values_that_would_break_the_xml(sn, device, match):
    with pytest.raises(Invalid, match=match):
        alarm_response(sn, device)


@pytest.mark.parametrize("content_type, expected", [
    (CONTENT_TYPE, True),
    ("application/manscdp+xml", True),
    ("APPLICATION/MANSCDP+XML; charset=GB2312", True),
    (" Application/MANSCDP+xml ;charset=UTF-8", True),
    ("application/xml", False),
    ("text/xml; profile=Application/MANSCDP+xml", False),
    ("", False),
])
def test_is_manscdp(content_type, expected):
    assert is_manscdp(content_type) is expected
