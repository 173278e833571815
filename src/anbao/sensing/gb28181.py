"""GB/T 28181 camera alarm notifications (MANSCDP XML) parsed into typed, validated alarms.

A video platform (or a camera) posts an alarm as ``<Notify><CmdType>Alarm</CmdType>...`` with
Content-Type ``Application/MANSCDP+xml`` and expects ``<Response>...<Result>OK</Result></Response>``
back (:func:`alarm_response`). :func:`parse_alarm` turns the body into a :class:`CameraAlarm`:
flow-count and crowd-density alarms become sensor readings (``is_reading``), the others camera events.

Elements read (GB/T 28181-2016/2022 annex A, 报警通知)::

    Notify/CmdType            "Alarm" (required)
    Notify/SN                 integer (required; echoed in the response)
    Notify/DeviceID           20-digit code of the alarming device or channel (required)
    Notify/AlarmPriority      1 一级警情 (highest), 2 二级, 3 三级, 4 四级 (required)
    Notify/AlarmMethod        1 电话报警, 2 设备报警, 3 短信报警, 4 GPS报警, 5 视频报警, 6 设备故障报警,
                              7 其他报警 (required)
    Notify/AlarmTime          local time without offset, e.g. 2026-12-19T20:15:03 (required)
    Notify/AlarmDescription   free text (optional)
    Notify/Longitude, Latitude  degrees (optional; both or neither; 0/0 means "not set")
    Notify/Info/AlarmType     type within the method, see the tables below (optional)
    Notify/Info/AlarmTypeParam/EventType   for 入侵检测: 1 进入区域, 2 离开区域 (optional)

AlarmType by AlarmMethod, as the standard lists them (2016 text; 2022 keeps them):

* method 2 设备报警: none = the device's alarm input; 1 视频丢失, 2 设备防拆, 3 存储设备磁盘满, 4 设备高温, 5 设备低温.
* method 5 视频报警: 1 人工视频, 2 运动目标检测, 3 遗留物检测, 4 物体移除检测, 5 绊线检测, 6 入侵检测, 7 逆行检测,
  8 徘徊检测, 9 流量统计, 10 密度检测, 11 视频异常检测, 12 快速移动; 13 图像遮挡 is UNCERTAIN: reported for the
  2022 edition by secondary sources, not checked against the standard's text (see :data:`UNCERTAIN_TYPES`).
* method 6 设备故障报警: 1 存储设备磁盘故障, 2 存储设备风扇故障.

Kinds: method 5 types 9/10/6/5/8 are flow_count/crowd_density/intrusion/tripwire/loitering, other method-5
alarms other_video; method 6, and method 2 types 1, 3, 4, 5 (video loss, disk full, hot, cold: the device
is failing, nothing happened in the scene), are device_fault; everything else (phone, SMS, GPS, tamper,
alarm inputs, 其他) is other.

Measured values are not in the standard; platforms put them in vendor-specific places. Read, for
flow_count and crowd_density only, from (first found wins; the element matching the kind first):

* ``Info/AlarmTypeParam/Count`` -> persons; ``Info/AlarmTypeParam/Density`` -> persons/m2;
* ``AlarmDescription`` text ``人数:123`` / ``客流量:123`` / ``客流:123`` -> persons, ``密度:4.5`` -> persons/m2
  (``:``, ``：`` or ``=``; a number followed by ``%`` is a percentage and is not read).

A density above :data:`MAX_DENSITY` persons/m2 is rejected: no crowd is that dense, so the platform is
sending a percentage or a level, and treating it as persons/m2 would raise false crush alarms.

Encodings: the prolog's declaration (GB2312, GBK, GB18030 — decoded as GB18030, their superset — or
UTF-8), a UTF-8/UTF-16 byte-order mark, or none (UTF-8). Platforms mislabel: a body declared GB* that is
valid UTF-8 is read as UTF-8 (GBK text is almost never valid UTF-8, while UTF-8 text decodes as GBK
mojibake without error); a body declared or defaulting to UTF-8 that is not valid UTF-8 is read as GB18030.
DTDs, entities and external references are rejected (defusedxml), as are bodies over :data:`MAX_BYTES`.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from anbao.core.errors import Invalid
from anbao.core.time import TimeRangeError, in_range

if TYPE_CHECKING:  # parsing goes through defusedxml only
    from xml.etree.ElementTree import Element

CONTENT_TYPE = "Application/MANSCDP+xml"
DEFAULT_TZ = "Asia/Shanghai"
#: an alarm notification is a few hundred bytes; anything this large is not one
MAX_BYTES = 64 * 1024
#: persons/m2; crowds reach about 9 in crush conditions, so more than this is a unit error
MAX_DENSITY = 12.0
UNIT_PERSONS = "persons"
UNIT_DENSITY = "persons/m2"


class AlarmMethod(IntEnum):
    """报警方式 (AlarmMethod)."""

    phone = 1  # 电话报警
    device = 2  # 设备报警
    sms = 3  # 短信报警
    gps = 4  # GPS报警
    video = 5  # 视频报警
    device_fault = 6  # 设备故障报警
    other = 7  # 其他报警


class AlarmKind(StrEnum):
    flow_count = "flow_count"  # 流量统计 (客流量)
    crowd_density = "crowd_density"  # 密度检测 (人员密度)
    intrusion = "intrusion"  # 入侵检测 (区域入侵)
    tripwire = "tripwire"  # 绊线检测
    loitering = "loitering"  # 徘徊检测
    other_video = "other_video"  # any other 视频报警
    device_fault = "device_fault"  # 设备故障, and device alarms that report a failing device
    other = "other"


READING_KINDS = frozenset({AlarmKind.flow_count, AlarmKind.crowd_density})

METHOD_LABELS: dict[int, str] = {
    1: "电话报警", 2: "设备报警", 3: "短信报警", 4: "GPS报警", 5: "视频报警", 6: "设备故障报警", 7: "其他报警",
}
TYPE_LABELS: dict[int, dict[int, str]] = {
    2: {1: "视频丢失报警", 2: "设备防拆报警", 3: "存储设备磁盘满报警", 4: "设备高温报警", 5: "设备低温报警"},
    5: {
        1: "人工视频报警", 2: "运动目标检测报警", 3: "遗留物检测报警", 4: "物体移除检测报警", 5: "绊线检测报警",
        6: "入侵检测报警", 7: "逆行检测报警", 8: "徘徊检测报警", 9: "流量统计报警", 10: "密度检测报警",
        11: "视频异常检测报警", 12: "快速移动报警", 13: "图像遮挡报警",
    },
    6: {1: "存储设备磁盘故障报警", 2: "存储设备风扇故障报警"},
}
#: (AlarmMethod, AlarmType) pairs whose meaning is not confirmed from the standard's own text
UNCERTAIN_TYPES = frozenset({(5, 13)})
#: Info/AlarmTypeParam/EventType of 入侵检测报警
EVENT_TYPE_LABELS: dict[int, str] = {1: "进入区域", 2: "离开区域"}

_VIDEO_KINDS: dict[int, AlarmKind] = {
    9: AlarmKind.flow_count, 10: AlarmKind.crowd_density, 6: AlarmKind.intrusion,
    5: AlarmKind.tripwire, 8: AlarmKind.loitering,
}
_DEVICE_FAULT_TYPES = frozenset({1, 3, 4, 5})  # method 2: 视频丢失, 磁盘满, 高温, 低温

_CODECS: dict[str, str] = {
    "utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8",
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030",
    "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1",
}
_DECL_BYTES = re.compile(rb"\s*<\?xml\s[^>]*?\?>")
_DECL_TEXT = re.compile(r"\s*<\?xml\s[^>]*?\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_DEVICE_ID = re.compile(r"\d{20}")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")
_NUMBER = r"(\d{1,9}(?:\.\d{1,6})?)(?![\d.]|\s*[%％])"
_DESC_COUNT = re.compile(r"(?:人数|客流量|客流)\s*[:：=]\s*" + _NUMBER)
_DESC_DENSITY = re.compile(r"密度\s*[:：=]\s*" + _NUMBER)


@dataclass(frozen=True)
class CameraAlarm:
    """One GB/T 28181 alarm. ``at`` is aware UTC; ``value`` is in ``unit`` (persons or persons/m2).

    ``is_reading`` (flow_count, crowd_density) is derived from ``kind``: such alarms become sensor
    readings, the others camera events. A reading alarm whose platform sent no value has ``value`` None.
    """

    device_id: str
    sn: int
    priority: int  # 1 一级警情 (highest) .. 4 四级
    method: AlarmMethod
    alarm_type: int | None
    kind: AlarmKind
    is_reading: bool = field(init=False)
    value: float | None
    unit: str | None
    at: datetime
    lon: float | None  # degrees, as sent
    lat: float | None
    description: str | None
    raw_type_label: str  # the standard's Chinese label, e.g. 密度检测报警
    event_type: int | None = None  # 入侵检测: 1 进入区域, 2 离开区域

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_reading", self.kind in READING_KINDS)


def is_manscdp(content_type: str) -> bool:
    """True for ``Application/MANSCDP+xml`` in any case, with or without parameters (``; charset=GB2312``)."""
    return content_type.split(";", 1)[0].strip().lower() == CONTENT_TYPE.lower()


def alarm_response(sn: int, device_id: str) -> bytes:
    """The MANSCDP answer to an alarm notification (ASCII, so the GB2312 declaration is also true as UTF-8)."""
    if isinstance(sn, bool) or not isinstance(sn, int) or sn < 0:
        raise Invalid(f"SN: must be a non-negative integer, got {sn!r}")
    if not isinstance(device_id, str) or not _DEVICE_ID.fullmatch(device_id):
        raise Invalid(f"DeviceID: must be a 20-digit code, got {_show(device_id)}")
    return (
        '<?xml version="1.0" encoding="GB2312"?>\n<Response>\n<CmdType>Alarm</CmdType>\n'
        f"<SN>{sn}</SN>\n<DeviceID>{device_id}</DeviceID>\n<Result>OK</Result>\n</Response>\n"
    ).encode("ascii")


def parse_alarm(data: bytes, *, tz: tzinfo | str = DEFAULT_TZ) -> CameraAlarm:
    """Parse and validate one ``<Notify><CmdType>Alarm</CmdType>`` body.

    ``tz`` is the zone AlarmTime is local to (an offset in AlarmTime, rarely sent, wins). Raises
    :class:`Invalid` naming the element at fault.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    root = _parse_xml(data)
    if root.tag != "Notify":
        raise Invalid(f"XML: root element must be Notify, got {_show(root.tag)}", loc=["body"])
    cmd = _required(root, "CmdType")
    if cmd.lower() != "alarm":
        raise Invalid(f"CmdType: must be Alarm, got {_show(cmd)}", loc=["body", "CmdType"])
    sn = _int("SN", _required(root, "SN"))
    if sn < 0:
        raise Invalid(f"SN: must be a non-negative integer, got {sn}", loc=["body", "SN"])
    device_id = _required(root, "DeviceID")
    if not _DEVICE_ID.fullmatch(device_id):
        raise Invalid(f"DeviceID: must be a 20-digit code, got {_show(device_id)}", loc=["body", "DeviceID"])
    priority = _int("AlarmPriority", _required(root, "AlarmPriority"))
    if not 1 <= priority <= 4:
        raise Invalid(f"AlarmPriority: must be 1-4, got {priority}", loc=["body", "AlarmPriority"])
    method_code = _int("AlarmMethod", _required(root, "AlarmMethod"))
    if method_code not in METHOD_LABELS:
        raise Invalid(f"AlarmMethod: must be 1-7, got {method_code}", loc=["body", "AlarmMethod"])
    method = AlarmMethod(method_code)
    at = _time(_required(root, "AlarmTime"), zone)
    description = _text(root, "AlarmDescription")
    lon, lat = _position(root)

    # AlarmType belongs in Info; tolerate platforms that put it directly under Notify
    type_path = "Info/AlarmType" if _text(root, "Info/AlarmType") is not None else "AlarmType"
    raw_type = _text(root, type_path)
    alarm_type = _int(type_path, raw_type) if raw_type is not None else None
    raw_event = _text(root, "Info/AlarmTypeParam/EventType")
    event_type = _int("Info/AlarmTypeParam/EventType", raw_event) if raw_event is not None else None

    kind = _kind(method, alarm_type)
    value, unit = _value(root, kind, description) if kind in READING_KINDS else (None, None)
    return CameraAlarm(
        device_id=device_id, sn=sn, priority=priority, method=method, alarm_type=alarm_type, kind=kind,
        value=value, unit=unit, at=at, lon=lon, lat=lat, description=description,
        raw_type_label=_label(method, alarm_type), event_type=event_type,
    )


def _show(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 42 else text[:40] + "…"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8):], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16")
    decl = _DECL_BYTES.match(data)
    found = _ENCODING.search(decl.group()) if decl else None
    declared = found.group(1).decode("ascii") if found else "utf-8"
    codec = _CODECS.get(declared.lower())
    if codec is None:
        raise Invalid(f"XML: unsupported encoding {_show(declared)} (use UTF-8 or GB2312/GBK/GB18030)",
                      loc=["body"])
    if codec == "latin-1":
        return data.decode("latin-1")
    for name in ("utf-8", "gb18030"):  # UTF-8 first whatever the declaration says: see the module docstring
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    raise Invalid("XML: bytes are neither UTF-8 nor GB18030", loc=["body"])


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise Invalid(f"XML: invalid {codec} bytes at offset {exc.start}", loc=["body"]) from None


def _parse_xml(data: bytes) -> Element:
    if not isinstance(data, bytes | bytearray):
        raise Invalid(f"XML: expected bytes, got {type(data).__name__}", loc=["body"])
    if len(data) > MAX_BYTES:
        raise Invalid(f"XML: body of {len(data)} bytes is over the {MAX_BYTES}-byte limit", loc=["body"])
    text = _DECL_TEXT.sub("", _decode(bytes(data)), count=1).strip()
    if not text:
        raise Invalid("XML: empty body", loc=["body"])
    try:
        root = DefusedET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Invalid(f"XML: DTDs, entities and external references are not allowed ({type(exc).__name__})",
                      loc=["body"]) from None
    except DefusedET.ParseError as exc:
        raise Invalid(f"XML: not well-formed ({exc})", loc=["body"]) from None
    for element in root.iter():  # MANSCDP has no namespace; tolerate one anyway
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    return root


def _text(root: Element, path: str) -> str | None:
    element = root.find(path)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _required(root: Element, path: str) -> str:
    value = _text(root, path)
    if value is None:
        raise Invalid(f"{path}: required", loc=["body", *path.split("/")])
    return value


def _int(path: str, raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise Invalid(f"{path}: must be an integer, got {_show(raw)}", loc=["body", *path.split("/")])
    return int(raw)


def _float(path: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Invalid(f"{path}: must be a number, got {_show(raw)}", loc=["body", *path.split("/")])
    return value


def _time(raw: str, zone: tzinfo) -> datetime:
    problem = f"AlarmTime: must be a date-time like 2026-12-19T20:15:03, got {_show(raw)}"
    if not _TIME.fullmatch(raw):
        raise Invalid(problem, loc=["body", "AlarmTime"])
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(problem, loc=["body", "AlarmTime"]) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    try:
        return in_range(at)  # year 1 in Beijing time is not a time in UTC (OverflowError)
    except TimeRangeError as exc:
        raise Invalid(f"AlarmTime: {exc}", loc=["body", "AlarmTime"]) from None


def _position(root: Element) -> tuple[float | None, float | None]:
    raw_lon, raw_lat = _text(root, "Longitude"), _text(root, "Latitude")
    if raw_lon is None and raw_lat is None:
        return None, None
    if raw_lon is None or raw_lat is None:
        missing = "Longitude" if raw_lon is None else "Latitude"
        raise Invalid(f"{missing}: required when {'Latitude' if raw_lon is None else 'Longitude'} is given",
                      loc=["body", missing])
    lon, lat = _float("Longitude", raw_lon), _float("Latitude", raw_lat)
    if lon == 0 and lat == 0:  # devices without a configured position send 0/0
        return None, None
    if not -90 <= lat <= 90:
        hint = " (Longitude and Latitude swapped?)" if -90 <= lon <= 90 else ""
        raise Invalid(f"Latitude: must be -90 to 90, got {lat}{hint}", loc=["body", "Latitude"])
    if not -180 <= lon <= 180:
        raise Invalid(f"Longitude: must be -180 to 180, got {lon}", loc=["body", "Longitude"])
    return lon, lat


def _kind(method: AlarmMethod, alarm_type: int | None) -> AlarmKind:
    if method is AlarmMethod.video:
        return _VIDEO_KINDS.get(alarm_type, AlarmKind.other_video) if alarm_type is not None else AlarmKind.other_video
    if method is AlarmMethod.device_fault:
        return AlarmKind.device_fault
    if method is AlarmMethod.device and alarm_type in _DEVICE_FAULT_TYPES:
        return AlarmKind.device_fault
    return AlarmKind.other


def _label(method: AlarmMethod, alarm_type: int | None) -> str:
    method_label = METHOD_LABELS[method]
    if alarm_type is None:
        return method_label
    return TYPE_LABELS.get(method, {}).get(alarm_type, f"{method_label}(类型{alarm_type})")


def _value(root: Element, kind: AlarmKind, description: str | None) -> tuple[float | None, str | None]:
    """The measured value of a reading alarm: elements before description text, the kind's own measure first."""
    elements = [("Info/AlarmTypeParam/Count", UNIT_PERSONS), ("Info/AlarmTypeParam/Density", UNIT_DENSITY)]
    patterns = [(_DESC_COUNT, UNIT_PERSONS), (_DESC_DENSITY, UNIT_DENSITY)]
    if kind is AlarmKind.crowd_density:
        elements.reverse()
        patterns.reverse()
    for path, unit in elements:
        raw = _text(root, path)
        if raw is not None:
            return _measure(path, raw, unit), unit
    for pattern, unit in patterns:
        found = pattern.search(description) if description is not None else None
        if found:
            return _measure("AlarmDescription", found.group(1), unit), unit
    return None, None


def _measure(path: str, raw: str, unit: str) -> float:
    value = _float(path, raw)
    if value < 0:
        raise Invalid(f"{path}: must not be negative, got {value}", loc=["body", *path.split("/")])
    if unit == UNIT_DENSITY and value > MAX_DENSITY:
        raise Invalid(f"{path}: density {value} persons/m2 is over {MAX_DENSITY}, not a crowd density "
                      "(a percentage or a level?)", loc=["body", *path.split("/")])
    return value
