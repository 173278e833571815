"""OASIS CAP 1.2 (Common Alerting Protocol) messages: build, write, read, and an Atom feed of them.

Pure code: no database, no web. Messages are frozen dataclasses (:class:`CapAlert`, :class:`CapInfo`,
:class:`CapArea`, :class:`CapResource`) checked on construction; bad values raise
:class:`anbao.core.errors.Invalid` naming the field.

- :func:`warning_to_cap` builds a message from an AnBao four-level warning (突发事件应对法: 一级 red
  highest ... 四级 blue lowest; :class:`Level` maps a level to CAP severity and default urgency).
- :func:`to_xml` writes UTF-8 XML in namespace ``urn:oasis:names:tc:emergency:cap:1.2`` with the
  elements in the order of the official schema ``CAP-v1.2.xsd``.
- :func:`from_xml` reads a message with defusedxml: DTDs, entities and external references are
  refused; missing, repeated, unknown or malformed elements raise ``Invalid`` naming the element.
- :func:`feed_xml` writes an Atom feed (RFC 4287) with each alert embedded as entry content.

Conventions:

- Date-times are timezone-aware. CAP writes them as ``2026-12-19T20:15:00+08:00``: whole seconds, an
  explicit offset, never ``Z``; UTC is written ``-00:00`` (CAP 1.2 section 3.3.2; the schema pattern is
  ``\\d\\d\\d\\d-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[-,+]\\d\\d:\\d\\d``). Fractions of a second are dropped
  on construction, so a message equals itself after a round trip; reading accepts only that form.
- Coordinates are stored as AnBao stores them, ``(lon, lat)`` in WGS84 decimal degrees; CAP writes
  ``lat,lon``. A polygon ring that is not closed is closed on construction (its first position is
  appended); it needs at least 3 distinct positions. This also applies to rings read from XML.
- One polygon and one circle per :class:`CapArea`. A CAP ``<area>`` with several polygons or circles
  (allowed by CAP, meaning their union) is read as several ``CapArea`` with the same description: the
  first carries the geocodes, all carry altitude and ceiling, so the union is unchanged.
- Free text (headline, description, ...) is kept exactly; codes, enumerations, numbers and
  date-times are stripped of surrounding white space when read.
- XML signatures (``<ds:Signature>``, allowed at the end of ``<alert>``) are neither verified nor kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

from anbao.core.errors import Invalid

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: media type of a CAP message (IANA registration by OASIS)
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"

# prefix "cap" for CAP elements embedded in an Atom feed (instead of ElementTree's "ns0")
ET.register_namespace("cap", CAP_NS)


class Status(StrEnum):
    """``<status>``: the handling code. Drills 演练 must be sent as ``Exercise``."""

    actual = "Actual"
    exercise = "Exercise"
    system = "System"
    test = "Test"
    draft = "Draft"


class MsgType(StrEnum):
    """``<msgType>``. Every type except ``Alert`` names earlier messages in ``<references>``."""

    alert = "Alert"
    update = "Update"
    cancel = "Cancel"
    ack = "Ack"
    error = "Error"


class Scope(StrEnum):
    """``<scope>``. ``Private`` needs ``<addresses>``; ``Restricted`` is described by ``<restriction>``."""

    public = "Public"
    restricted = "Restricted"
    private = "Private"


class Category(StrEnum):
    geo = "Geo"
    met = "Met"
    safety = "Safety"
    security = "Security"
    rescue = "Rescue"
    fire = "Fire"
    health = "Health"
    env = "Env"
    transport = "Transport"
    infra = "Infra"
    cbrne = "CBRNE"
    other = "Other"


class ResponseType(StrEnum):
    shelter = "Shelter"
    evacuate = "Evacuate"
    prepare = "Prepare"
    execute = "Execute"
    avoid = "Avoid"
    monitor = "Monitor"
    assess = "Assess"
    all_clear = "AllClear"
    none = "None"


class Urgency(StrEnum):
    immediate = "Immediate"
    expected = "Expected"
    future = "Future"
    past = "Past"
    unknown = "Unknown"


class Severity(StrEnum):
    extreme = "Extreme"
    severe = "Severe"
    moderate = "Moderate"
    minor = "Minor"
    unknown = "Unknown"


class Certainty(StrEnum):
    observed = "Observed"
    likely = "Likely"
    possible = "Possible"
    unlikely = "Unlikely"
    unknown = "Unknown"


class Level(StrEnum):
    """Warning level of 突发事件应对法: 一级 red is the highest, 四级 blue the lowest."""

    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def label(self) -> str:
        """Chinese colour name, e.g. ``"橙色"``."""
        return _LEVEL_TABLE[self][0]

    @property
    def grade(self) -> str:
        """Chinese grade, e.g. ``"二级"`` (一级 is the most serious)."""
        return _LEVEL_TABLE[self][1]

    @property
    def rank(self) -> int:
        """1 (blue) .. 4 (red): higher is more serious; use it to compare levels."""
        return _LEVEL_TABLE[self][2]

    @property
    def severity(self) -> Severity:
        """CAP severity (AnBao's mapping): red Extreme, orange Severe, yellow Moderate, blue Minor."""
        return _LEVEL_TABLE[self][3]

    @property
    def urgency(self) -> Urgency:
        """Default CAP urgency: red and orange Immediate, yellow Expected, blue Future."""
        return _LEVEL_TABLE[self][4]

    @property
    def warning_title(self) -> str:
        """E.g. ``"橙色预警（二级）"``."""
        return f"{self.label}预警（{self.grade}）"

    @classmethod
    def parse(cls, value: str) -> Level:
        """A level from its code (``"orange"``), colour (``"橙色"``, ``"橙色预警"``) or grade (``"二级"``)."""
        text = str(value).strip()
        for level, (label, grade, *_rest) in _LEVEL_TABLE.items():
            if text in (level.value, label, grade, f"{label}预警", f"{grade}预警"):
                return level
        raise Invalid(f"unknown warning level {value!r}; expected one of blue/yellow/orange/red, "
                      "蓝色/黄色/橙色/红色 or 四级/三级/二级/一级")

    @classmethod
    def from_severity(cls, severity: Severity | str) -> Level | None:
        """The level whose CAP severity this is; ``None`` for ``Unknown``."""
        sev = _enum(Severity, severity, "severity")
        return next((level for level in cls if level.severity == sev), None)


_LEVEL_TABLE: dict[Level, tuple[str, str, int, Severity, Urgency]] = {
    Level.blue: ("蓝色", "四级", 1, Severity.minor, Urgency.future),
    Level.yellow: ("黄色", "三级", 2, Severity.moderate, Urgency.expected),
    Level.orange: ("橙色", "二级", 3, Severity.severe, Urgency.immediate),
    Level.red: ("红色", "一级", 4, Severity.extreme, Urgency.immediate),
}


def default_certainty(*, forecast: bool) -> Certainty:
    """CAP certainty of a warning: ``Likely`` when forecast, ``Observed`` when measured."""
    return Certainty.likely if forecast else Certainty.observed


# ----------------------------------------------------------------------------------------------------------------
# checks shared by the dataclasses

E = TypeVar("E", bound=StrEnum)

_CAP_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
_LANGUAGE = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")  # xs:language
_XML_BAD_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TOKEN_BAD_CHAR = re.compile(r"[\s,<&]")


def _enum(kind: type[E], value: Any, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise Invalid(f"{what}: {value!r} is not one of {', '.join(kind)}") from None


def _enums(kind: type[E], values: Iterable[Any], what: str) -> list[E]:
    if isinstance(values, str):
        raise Invalid(f"{what}: expected a list, got the string {values!r}")
    return [_enum(kind, v, what) for v in values]


def _token(value: Any, what: str) -> str:
    """CAP identifier or sender: no spaces, commas, ``<`` or ``&`` (CAP 1.2 section 3.2.1)."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"{what}: a non-empty string is required")
    bad = _TOKEN_BAD_CHAR.search(value)
    if bad:
        raise Invalid(f"{what}: {value!r} must not contain spaces, commas, '<' or '&' (found {bad.group()!r})")
    return value


def _text(value: Any, what: str, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what}: a string is required, got {type(value).__name__}")
    if not optional and not value.strip():
        raise Invalid(f"{what}: must not be empty")
    return value


def _pairs(values: Iterable[Any], what: str) -> list[tuple[str, str]]:
    """``(valueName, value)`` pairs of parameters, event codes and geocodes."""
    out = []
    for item in values:
        if not isinstance(item, tuple | list) or len(item) != 2 or not all(isinstance(v, str) for v in item):
            raise Invalid(f"{what}: expected (name, value) string pairs, got {item!r}")
        if not item[0].strip():
            raise Invalid(f"{what}: a name must not be empty")
        out.append((item[0], item[1]))
    return out


def _aware(value: Any, what: str, *, optional: bool = False) -> datetime | None:
    """An aware datetime with whole seconds (fractions dropped) and a whole-minute UTC offset."""
    if value is None and optional:
        return None
    if not isinstance(value, datetime):
        raise Invalid(f"{what}: a datetime is required, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise Invalid(f"{what}: naive datetime; CAP needs an explicit UTC offset")
    if offset % timedelta(minutes=1):
        raise Invalid(f"{what}: UTC offset {offset} has seconds; CAP offsets are whole minutes")
    return value.replace(microsecond=0)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not math.isfinite(value):
        raise Invalid(f"{what}: a finite number is required, got {value!r}")
    return float(value)


def _position(value: Any, what: str) -> tuple[float, float]:
    """A ``(lon, lat)`` WGS84 position in degrees."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise Invalid(f"{what}: a position is (lon, lat), got {value!r}")
    lon, lat = _number(value[0], what), _number(value[1], what)
    if not -90 <= lat <= 90:
        hint = " (lat/lon swapped? positions are (lon, lat))" if -90 <= lon <= 90 else ""
        raise Invalid(f"{what}: latitude {lat} out of range [-90, 90]{hint}")
    if not -180 <= lon <= 180:
        raise Invalid(f"{what}: longitude {lon} out of range [-180, 180]")
    return lon, lat


def format_datetime(value: datetime) -> str:
    """CAP form of an aware datetime: ``2026-12-19T20:15:00+08:00``; UTC as ``-00:00``, never ``Z``."""
    checked = _aware(value, "datetime")
    assert checked is not None
    text = checked.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def parse_datetime(text: str, what: str = "datetime") -> datetime:
    """Read a CAP date-time (exactly ``YYYY-MM-DDThh:mm:ss+hh:mm`` or ``-hh:mm``)."""
    value = text.strip()
    if not _CAP_DATETIME.fullmatch(value):
        raise Invalid(f"{what}: {text!r} is not a CAP date-time like 2026-12-19T20:15:00+08:00 "
                      "(whole seconds, explicit offset, no 'Z')")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{what}: {text!r} is not a valid date-time ({exc})") from None


def _check_reference(value: Any, what: str) -> str:
    """One ``sender,identifier,sent`` triple."""
    if not isinstance(value, str):
        raise Invalid(f"{what}: a 'sender,identifier,sent' string is required, got {value!r}")
    parts = value.split(",")
    if len(parts) != 3:
        raise Invalid(f"{what}: {value!r} is not a 'sender,identifier,sent' triple")
    _token(parts[0], f"{what} sender")
    _token(parts[1], f"{what} identifier")
    parse_datetime(parts[2], f"{what} sent")
    return value


# ----------------------------------------------------------------------------------------------------------------
# the message


@dataclass(frozen=True)
class CapArea:
    """``<area>``: where the warning applies.

    ``polygon``: ``(lon, lat)`` WGS84 degrees; an open ring is closed on construction.
    ``circle``: ``(lon, lat, radius_km)``, centre in WGS84 degrees, radius in kilometres.
    ``geocodes``: ``(valueName, value)`` pairs, e.g. ``("GB/T 2260", "330106")``.
    ``altitude`` and ``ceiling``: feet above mean sea level (CAP's unit); ``ceiling`` needs ``altitude``.
    """

    desc: str
    polygon: list[tuple[float, float]] | None = None
    circle: tuple[float, float, float] | None = None
    geocodes: list[tuple[str, str]] = field(default_factory=list)
    altitude: float | None = None
    ceiling: float | None = None

    def __post_init__(self) -> None:
        _text(self.desc, "areaDesc", optional=False)
        if self.polygon is not None:
            if isinstance(self.polygon, str) or not isinstance(self.polygon, Sequence):
                raise Invalid(f"polygon: a list of (lon, lat) positions is required, got {self.polygon!r}")
            ring = [_position(p, f"polygon position {i}") for i, p in enumerate(self.polygon)]
            if len(set(ring)) < 3:
                raise Invalid(f"polygon: needs at least 3 distinct positions, got {len(set(ring))}")
            if ring[0] != ring[-1]:
                ring.append(ring[0])
            object.__setattr__(self, "polygon", ring)
        if self.circle is not None:
            if not isinstance(self.circle, tuple | list) or len(self.circle) != 3:
                raise Invalid(f"circle: (lon, lat, radius_km) is required, got {self.circle!r}")
            lon, lat = _position(self.circle[:2], "circle centre")
            radius = _number(self.circle[2], "circle radius_km")
            if radius < 0:
                raise Invalid(f"circle radius_km: must not be negative, got {radius}")
            object.__setattr__(self, "circle", (lon, lat, radius))
        object.__setattr__(self, "geocodes", _pairs(self.geocodes, "geocode"))
        if self.altitude is not None:
            object.__setattr__(self, "altitude", _number(self.altitude, "altitude"))
        if self.ceiling is not None:
            if self.altitude is None:
                raise Invalid("ceiling: may only be given together with altitude")
            object.__setattr__(self, "ceiling", _number(self.ceiling, "ceiling"))


@dataclass(frozen=True)
class CapResource:
    """``<resource>``: a file that goes with the message. ``size`` in bytes; ``digest`` SHA-1 hex (CAP)."""

    desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        _text(self.desc, "resourceDesc", optional=False)
        _text(self.mime_type, "mimeType", optional=False)
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int)
                                      or self.size < 0):
            raise Invalid(f"resource size: a byte count >= 0 is required, got {self.size!r}")
        for name in ("uri", "deref_uri", "digest"):
            _text(getattr(self, name), f"resource {name}")


@dataclass(frozen=True, kw_only=True)
class CapInfo:
    """``<info>``: one language version of the warning. Fields are in schema order.

    ``effective``/``onset``/``expires``: aware datetimes (whole seconds kept).
    ``parameters``, ``event_codes``: ``(valueName, value)`` pairs, e.g. ``("density_p_m2", "4.6")``.
    """

    language: str = "zh-CN"
    categories: list[Category]
    event: str
    response_types: list[ResponseType] = field(default_factory=list)
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    audience: str | None = None
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)
    resources: list[CapResource] = field(default_factory=list)
    areas: list[CapArea] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            raise Invalid(f"language: {self.language!r} is not a language tag like zh-CN")
        categories = _enums(Category, self.categories, "category")
        if not categories:
            raise Invalid("category: at least one category is required")
        object.__setattr__(self, "categories", categories)
        _text(self.event, "event", optional=False)
        object.__setattr__(self, "response_types", _enums(ResponseType, self.response_types, "responseType"))
        object.__setattr__(self, "urgency", _enum(Urgency, self.urgency, "urgency"))
        object.__setattr__(self, "severity", _enum(Severity, self.severity, "severity"))
        object.__setattr__(self, "certainty", _enum(Certainty, self.certainty, "certainty"))
        for name in ("audience", "sender_name", "headline", "description", "instruction", "contact"):
            _text(getattr(self, name), name)
        if _text(self.web, "web") is not None and (not self.web or re.search(r"\s", self.web)):
            raise Invalid(f"web: {self.web!r} is not a URI")
        object.__setattr__(self, "event_codes", _pairs(self.event_codes, "eventCode"))
        object.__setattr__(self, "parameters", _pairs(self.parameters, "parameter"))
        for name in ("effective", "onset", "expires"):
            object.__setattr__(self, name, _aware(getattr(self, name), name, optional=True))
        if self.expires is not None:
            for name in ("effective", "onset"):
                start = getattr(self, name)
                if start is not None and self.expires < start:
                    raise Invalid(f"expires: {format_datetime(self.expires)} is before {name} "
                                  f"{format_datetime(start)}")
        for name, kind in (("resources", CapResource), ("areas", CapArea)):
            items = list(getattr(self, name))
            if not all(isinstance(item, kind) for item in items):
                raise Invalid(f"{name}: {kind.__name__} objects are required")
            object.__setattr__(self, name, items)


@dataclass(frozen=True)
class CapAlert:
    """``<alert>``: one CAP 1.2 message.

    ``sent``: aware datetime (whole seconds kept). ``references``: earlier messages as
    ``"sender,identifier,sent"`` strings (see :func:`reference`), required unless ``msg_type`` is Alert.
    ``addresses``: space-separated recipients (quote names with spaces), required for Private scope.
    ``codes``: ``<code>`` handling codes; ``incidents``: space-separated incident identifiers.
    """

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    infos: list[CapInfo]
    references: list[str] = field(default_factory=list)
    addresses: str | None = None
    restriction: str | None = None
    note: str | None = None
    source: str | None = None
    codes: list[str] = field(default_factory=list)
    incidents: str | None = None

    def __post_init__(self) -> None:
        _token(self.identifier, "identifier")
        _token(self.sender, "sender")
        object.__setattr__(self, "sent", _aware(self.sent, "sent"))
        object.__setattr__(self, "status", _enum(Status, self.status, "status"))
        object.__setattr__(self, "msg_type", _enum(MsgType, self.msg_type, "msgType"))
        object.__setattr__(self, "scope", _enum(Scope, self.scope, "scope"))
        for name in ("addresses", "restriction", "note", "source", "incidents"):
            _text(getattr(self, name), name)
        if isinstance(self.references, str) or isinstance(self.codes, str):
            raise Invalid("references and codes are lists of strings, not a single string")
        refs = [_check_reference(r, f"references[{i}]") for i, r in enumerate(self.references)]
        object.__setattr__(self, "references", refs)
        object.__setattr__(self, "codes", [_text(c, "code", optional=False) for c in self.codes])
        if self.scope == Scope.private and not (self.addresses or "").strip():
            raise Invalid("addresses: required when scope is Private")
        if self.msg_type != MsgType.alert and not refs:
            raise Invalid(f"references: a {self.msg_type} message must reference the earlier message(s) "
                          "as 'sender,identifier,sent'")
        infos = list(self.infos)
        if not all(isinstance(i, CapInfo) for i in infos):
            raise Invalid("infos: CapInfo objects are required")
        object.__setattr__(self, "infos", infos)


def reference(alert: CapAlert) -> str:
    """The ``sender,identifier,sent`` triple by which later messages reference ``alert``."""
    return f"{alert.sender},{alert.identifier},{format_datetime(alert.sent)}"


def warning_to_cap(
    *,
    identifier: str,
    sender: str,
    sent: datetime,
    level: Level,
    event_type: str,
    headline: str,
    description: str,
    area_desc: str,
    instruction: str | None = None,
    polygon: Sequence[tuple[float, float]] | None = None,
    circle: tuple[float, float, float] | None = None,
    exercise: bool = False,
    msg_type: MsgType = MsgType.alert,
    references: Sequence[str | CapAlert] = (),
    forecast: bool = False,
    parameters: Sequence[tuple[str, str]] = (),
    categories: Sequence[Category] = (Category.safety,),
    urgency: Urgency | None = None,
    response_types: Sequence[ResponseType] = (),
    sender_name: str | None = None,
    effective: datetime | None = None,
    onset: datetime | None = None,
    expires: datetime | None = None,
    web: str | None = None,
    contact: str | None = None,
    language: str = "zh-CN",
    scope: Scope = Scope.public,
    addresses: str | None = None,
    restriction: str | None = None,
    note: str | None = None,
) -> CapAlert:
    """A CAP message with one ``<info>`` and one ``<area>`` from the fields of an AnBao warning.

    ``level`` sets severity and (unless ``urgency`` is given) urgency; ``forecast`` sets certainty
    (``Likely``, else ``Observed``); ``exercise`` (a drill 演练) sends status ``Exercise``, else
    ``Actual``. ``event_type`` is the Chinese warning type, e.g. ``"人群密度预警"``. For Update and
    Cancel pass ``references``: earlier :class:`CapAlert` objects or their ``sender,identifier,sent``
    strings. A ``("level", level)`` parameter is added unless ``parameters`` already names ``level``,
    so receivers see the colour level itself, not only the CAP severity.
    """
    level = _enum(Level, level, "level")
    params = _pairs(parameters, "parameter")
    if not any(name == "level" for name, _ in params):
        params.append(("level", level.value))
    area = CapArea(area_desc, polygon=list(polygon) if polygon is not None else None, circle=circle)
    info = CapInfo(
        language=language,
        categories=list(categories),
        event=event_type,
        response_types=list(response_types),
        urgency=level.urgency if urgency is None else urgency,
        severity=level.severity,
        certainty=default_certainty(forecast=forecast),
        effective=effective,
        onset=onset,
        expires=expires,
        sender_name=sender_name,
        headline=headline,
        description=description,
        instruction=instruction,
        web=web,
        contact=contact,
        parameters=params,
        areas=[area],
    )
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        status=Status.exercise if exercise else Status.actual,
        msg_type=msg_type,
        scope=scope,
        infos=[info],
        references=[reference(r) if isinstance(r, CapAlert) else r for r in references],
        addresses=addresses,
        restriction=restriction,
        note=note,
    )


def level_of(info: CapInfo) -> Level | None:
    """The warning level of an info: its ``level`` parameter if valid, else from its CAP severity."""
    for name, value in info.parameters:
        if name == "level":
            try:
                return Level.parse(value)
            except Invalid:
                break
    return Level.from_severity(info.severity)


def is_active(alert: CapAlert, at: datetime) -> bool:
    """Whether ``alert`` still stands at ``at`` (aware): not a draft, an Alert or Update, and with no
    info, or at least one info that has not expired (an info without ``expires`` does not expire)."""
    moment = _aware(at, "at")
    assert moment is not None
    if alert.status == Status.draft or alert.msg_type not in (MsgType.alert, MsgType.update):
        return False
    return not alert.infos or any(i.expires is None or i.expires > moment for i in alert.infos)


# ----------------------------------------------------------------------------------------------------------------
# writing


def _c(name: str) -> str:
    return f"{{{CAP_NS}}}{name}"


def _num(value: float) -> str:
    """Shortest decimal text that reads back as the same float, never in exponent form."""
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def _put(parent: ET.Element, name: str, value: str | None, *, where: str = "") -> None:
    if value is None:
        return
    bad = _XML_BAD_CHAR.search(value)
    if bad:
        raise Invalid(f"{where or parent.tag.split('}')[-1]}/{name}: character U+{ord(bad.group()):04X} "
                      "cannot be written in XML")
    ET.SubElement(parent, _c(name)).text = value


def _put_pairs(parent: ET.Element, name: str, pairs: list[tuple[str, str]]) -> None:
    for value_name, value in pairs:
        elem = ET.SubElement(parent, _c(name))
        _put(elem, "valueName", value_name, where=name)
        _put(elem, "value", value, where=name)


def _area_element(parent: ET.Element, area: CapArea) -> None:
    elem = ET.SubElement(parent, _c("area"))
    _put(elem, "areaDesc", area.desc)
    if area.polygon is not None:
        _put(elem, "polygon", " ".join(f"{_num(lat)},{_num(lon)}" for lon, lat in area.polygon))
    if area.circle is not None:
        lon, lat, radius = area.circle
        _put(elem, "circle", f"{_num(lat)},{_num(lon)} {_num(radius)}")
    _put_pairs(elem, "geocode", area.geocodes)
    if area.altitude is not None:
        _put(elem, "altitude", _num(area.altitude))
    if area.ceiling is not None:
        _put(elem, "ceiling", _num(area.ceiling))


def _info_element(parent: ET.Element, info: CapInfo) -> None:
    elem = ET.SubElement(parent, _c("info"))
    _put(elem, "language", info.language)
    for category in info.categories:
        _put(elem, "category", category.value)
    _put(elem, "event", info.event)
    for response in info.response_types:
        _put(elem, "responseType", response.value)
    _put(elem, "urgency", info.urgency.value)
    _put(elem, "severity", info.severity.value)
    _put(elem, "certainty", info.certainty.value)
    _put(elem, "audience", info.audience)
    _put_pairs(elem, "eventCode", info.event_codes)
    for name in ("effective", "onset", "expires"):
        value = getattr(info, name)
        if value is not None:
            _put(elem, name, format_datetime(value))
    _put(elem, "senderName", info.sender_name)
    _put(elem, "headline", info.headline)
    _put(elem, "description", info.description)
    _put(elem, "instruction", info.instruction)
    _put(elem, "web", info.web)
    _put(elem, "contact", info.contact)
    _put_pairs(elem, "parameter", info.parameters)
    for resource in info.resources:
        res = ET.SubElement(elem, _c("resource"))
        _put(res, "resourceDesc", resource.desc)
        _put(res, "mimeType", resource.mime_type)
        _put(res, "size", None if resource.size is None else str(resource.size))
        _put(res, "uri", resource.uri)
        _put(res, "derefUri", resource.deref_uri)
        _put(res, "digest", resource.digest)
    for area in info.areas:
        _area_element(elem, area)


def alert_element(alert: CapAlert) -> ET.Element:
    """The ``<alert>`` element of a message, children in the order of CAP-v1.2.xsd."""
    root = ET.Element(_c("alert"))
    _put(root, "identifier", alert.identifier)
    _put(root, "sender", alert.sender)
    _put(root, "sent", format_datetime(alert.sent))
    _put(root, "status", alert.status.value)
    _put(root, "msgType", alert.msg_type.value)
    _put(root, "source", alert.source)
    _put(root, "scope", alert.scope.value)
    _put(root, "restriction", alert.restriction)
    _put(root, "addresses", alert.addresses)
    for code in alert.codes:
        _put(root, "code", code)
    _put(root, "note", alert.note)
    _put(root, "references", " ".join(alert.references) if alert.references else None)
    _put(root, "incidents", alert.incidents)
    for info in alert.infos:
        _info_element(root, info)
    return root


def to_xml(alert: CapAlert) -> bytes:
    """The message as an indented UTF-8 XML document (media type ``application/cap+xml``)."""
    root = alert_element(alert)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NS) + b"\n"


# ----------------------------------------------------------------------------------------------------------------
# reading

_ALERT_CHILDREN = ("identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction",
                   "addresses", "code", "note", "references", "incidents", "info")
_INFO_CHILDREN = ("language", "category", "event", "responseType", "urgency", "severity", "certainty",
                  "audience", "eventCode", "effective", "onset", "expires", "senderName", "headline",
                  "description", "instruction", "web", "contact", "parameter", "resource", "area")
_AREA_CHILDREN = ("areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling")
_RESOURCE_CHILDREN = ("resourceDesc", "mimeType", "size", "uri", "derefUri", "digest")
_PAIR_CHILDREN = ("valueName", "value")


class _Node:
    """The CAP children of one element, by local name, with a path for error messages."""

    def __init__(self, elem: ET.Element, path: str, allowed: tuple[str, ...], *, foreign_ok: bool = False) -> None:
        self.path = path
        self.children: dict[str, list[ET.Element]] = {name: [] for name in allowed}
        for child in elem:
            if not isinstance(child.tag, str):  # comment or processing instruction
                continue
            ns, local = _split(child.tag)
            if ns != CAP_NS:
                if foreign_ok and ns:  # e.g. an XML signature: not verified, not kept
                    continue
                raise Invalid(f"{path}: unexpected element <{local}> in namespace {ns or '(none)'!r}")
            if local not in self.children:
                raise Invalid(f"{path}: unknown CAP 1.2 element <{local}>")
            self.children[local].append(child)

    def elements(self, name: str) -> list[ET.Element]:
        return self.children[name]

    def texts(self, name: str, *, strip: bool = True) -> list[str]:
        out = []
        for elem in self.children[name]:
            if len(elem):
                raise Invalid(f"{self.path}/{name}: must hold text, not child elements")
            text = elem.text or ""
            out.append(text.strip() if strip else text)
        return out

    def optional(self, name: str, *, strip: bool = True) -> str | None:
        values = self.texts(name, strip=strip)
        if len(values) > 1:
            raise Invalid(f"{self.path}: <{name}> appears {len(values)} times; at most once is allowed")
        return values[0] if values else None

    def required(self, name: str, *, strip: bool = True) -> str:
        value = self.optional(name, strip=strip)
        if value is None:
            raise Invalid(f"{self.path}: missing required element <{name}>")
        if strip and not value:
            raise Invalid(f"{self.path}/{name}: must not be empty")
        return value

    def enum(self, kind: type[E], name: str) -> E:
        return _enum(kind, self.required(name), f"{self.path}/{name}")

    def when(self, name: str) -> datetime | None:
        value = self.optional(name)
        return None if value is None else parse_datetime(value, f"{self.path}/{name}")

    def number(self, name: str) -> float | None:
        value = self.optional(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise Invalid(f"{self.path}/{name}: {value!r} is not a decimal number")
        return number

    def pairs(self, name: str) -> list[tuple[str, str]]:
        out = []
        for i, elem in enumerate(self.children[name]):
            node = _Node(elem, f"{self.path}/{name}[{i}]", _PAIR_CHILDREN)
            out.append((node.required("valueName", strip=False), node.required("value", strip=False)))
        return out


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _coordinates(text: str, where: str) -> list[tuple[float, float]]:
    """CAP ``lat,lon`` pairs separated by white space, as ``(lon, lat)``."""
    out = []
    for pair in text.split():
        parts = pair.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise Invalid(f"{where}: {pair!r} is not a 'lat,lon' pair") from None
        out.append((lon, lat))
    return out


def _read_area(elem: ET.Element, path: str) -> list[CapArea]:
    node = _Node(elem, path, _AREA_CHILDREN)
    desc = node.required("areaDesc", strip=False)
    polygons = [_coordinates(t, f"{path}/polygon") for t in node.texts("polygon")]
    circles: list[tuple[float, float, float]] = []
    for text in node.texts("circle"):
        parts = text.split()
        centre = _coordinates(parts[0], f"{path}/circle") if parts else []
        try:
            if len(parts) != 2 or len(centre) != 1:
                raise ValueError
            circles.append((centre[0][0], centre[0][1], float(parts[1])))
        except ValueError:
            raise Invalid(f"{path}/circle: {text!r} is not 'lat,lon radius_km'") from None
    geocodes, altitude, ceiling = node.pairs("geocode"), node.number("altitude"), node.number("ceiling")
    count = max(1, len(polygons), len(circles))
    try:
        return [
            CapArea(
                desc,
                polygon=polygons[i] if i < len(polygons) else None,
                circle=circles[i] if i < len(circles) else None,
                geocodes=geocodes if i == 0 else [],
                altitude=altitude,
                ceiling=ceiling,
            )
            for i in range(count)
        ]
    except Invalid as exc:
        raise Invalid(f"{path}: {exc.message}") from None


def _read_resource(elem: ET.Element, path: str) -> CapResource:
    node = _Node(elem, path, _RESOURCE_CHILDREN)
    size_text = node.optional("size")
    if size_text is not None and not re.fullmatch(r"\+?\d+", size_text):
        raise Invalid(f"{path}/size: {size_text!r} is not a whole number of bytes")
    try:
        return CapResource(
            desc=node.required("resourceDesc", strip=False),
            mime_type=node.required("mimeType"),
            size=None if size_text is None else int(size_text),
            uri=node.optional("uri"),
            deref_uri=node.optional("derefUri"),
            digest=node.optional("digest"),
        )
    except Invalid as exc:
        raise Invalid(f"{path}: {exc.message}") from None


def _read_info(elem: ET.Element, path: str) -> CapInfo:
    node = _Node(elem, path, _INFO_CHILDREN)
    categories = node.texts("category")
    if not categories:
        raise Invalid(f"{path}: missing required element <category>")
    areas = [a for i, e in enumerate(node.elements("area")) for a in _read_area(e, f"{path}/area[{i}]")]
    resources = [_read_resource(e, f"{path}/resource[{i}]") for i, e in enumerate(node.elements("resource"))]
    try:
        return CapInfo(
            language=node.optional("language") or "en-US",  # the schema's default
            categories=[_enum(Category, c, f"{path}/category") for c in categories],
            event=node.required("event", strip=False),
            response_types=[_enum(ResponseType, r, f"{path}/responseType") for r in node.texts("responseType")],
            urgency=node.enum(Urgency, "urgency"),
            severity=node.enum(Severity, "severity"),
            certainty=node.enum(Certainty, "certainty"),
            audience=node.optional("audience", strip=False),
            event_codes=node.pairs("eventCode"),
            effective=node.when("effective"),
            onset=node.when("onset"),
            expires=node.when("expires"),
            sender_name=node.optional("senderName", strip=False),
            headline=node.optional("headline", strip=False),
            description=node.optional("description", strip=False),
            instruction=node.optional("instruction", strip=False),
            web=node.optional("web"),
            contact=node.optional("contact", strip=False),
            parameters=node.pairs("parameter"),
            resources=resources,
            areas=areas,
        )
    except Invalid as exc:
        if exc.message.startswith(path):
            raise
        raise Invalid(f"{path}: {exc.message}") from None


def alert_from_element(root: ET.Element) -> CapAlert:
    """A message from a parsed ``<alert>`` element (e.g. one embedded in a feed)."""
    ns, local = _split(root.tag) if isinstance(root.tag, str) else ("", "")
    if (ns, local) != (CAP_NS, "alert"):
        raise Invalid(f"the root element must be <alert> in namespace {CAP_NS!r}, "
                      f"got <{local}> in {ns or '(no namespace)'!r}")
    node = _Node(root, "alert", _ALERT_CHILDREN, foreign_ok=True)
    references = node.optional("references")
    infos = [_read_info(e, f"alert/info[{i}]") for i, e in enumerate(node.elements("info"))]
    sent = parse_datetime(node.required("sent"), "alert/sent")
    try:
        return CapAlert(
            identifier=node.required("identifier"),
            sender=node.required("sender"),
            sent=sent,
            status=node.enum(Status, "status"),
            msg_type=node.enum(MsgType, "msgType"),
            scope=node.enum(Scope, "scope"),
            infos=infos,
            references=references.split() if references else [],
            addresses=node.optional("addresses", strip=False),
            restriction=node.optional("restriction", strip=False),
            note=node.optional("note", strip=False),
            source=node.optional("source", strip=False),
            codes=node.texts("code"),
            incidents=node.optional("incidents", strip=False),
        )
    except Invalid as exc:
        if exc.message.startswith("alert"):
            raise
        raise Invalid(f"alert: {exc.message}") from None


def from_xml(data: bytes | str) -> CapAlert:
    """Read a CAP 1.2 message. DTDs, entity declarations and external references are refused;
    anything malformed raises ``Invalid`` naming the element."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise Invalid(f"CAP XML refused: {exc!r}; DTDs and entities are not allowed") from None
    except ET.ParseError as exc:
        raise Invalid(f"CAP XML is not well-formed: {exc}") from None
    return alert_from_element(root)


# ----------------------------------------------------------------------------------------------------------------
# Atom feed


def _a(name: str) -> str:
    """Atom elements are written without a prefix: the feed root declares Atom as default namespace
    (ElementTree's ``default_namespace`` option refuses the unqualified attributes Atom uses)."""
    return name


def _atom_text(parent: ET.Element, name: str, value: str) -> ET.Element:
    bad = _XML_BAD_CHAR.search(value)
    if bad:
        raise Invalid(f"feed {name}: character U+{ord(bad.group()):04X} cannot be written in XML")
    elem = ET.SubElement(parent, _a(name))
    elem.text = value
    return elem


def _atom_time(value: datetime, what: str) -> str:
    checked = _aware(value, what)
    assert checked is not None
    return checked.isoformat()  # RFC 3339


def entry_id(alert: CapAlert) -> str:
    """Atom entry id of a message: ``urn:anbao:cap:<sender>:<identifier>`` (percent-encoded)."""
    return f"urn:anbao:cap:{quote(alert.sender, safe='@.-_')}:{quote(alert.identifier, safe='@.-_')}"


def feed_xml(
    alerts: Iterable[CapAlert],
    title: str,
    updated: datetime,
    *,
    feed_id: str = "urn:anbao:cap:feed",
    self_link: str | None = None,
    alert_link: Callable[[CapAlert], str] | None = None,
    author: str = "AnBao 安保",
) -> bytes:
    """An Atom feed (``application/atom+xml``) of ``alerts``, newest ``sent`` first.

    Pass the alerts that stand now (see :func:`is_active`); the feed shows exactly those given.
    Each entry: id (:func:`entry_id`), title (first headline, else event, else identifier), updated
    (``sent``), author (first senderName, else sender), summary (first headline), the whole CAP
    message embedded as ``<content type="application/cap+xml">``, and, when ``alert_link`` is given,
    ``<link rel="alternate" type="application/cap+xml">`` to the message's own URL.
    """
    feed = ET.Element(_a("feed"), xmlns=ATOM_NS)
    _atom_text(feed, "id", feed_id)
    _atom_text(feed, "title", title)
    _atom_text(feed, "updated", _atom_time(updated, "updated"))
    _atom_text(ET.SubElement(feed, _a("author")), "name", author)
    if self_link is not None:
        ET.SubElement(feed, _a("link"), rel="self", type=ATOM_MEDIA_TYPE, href=self_link)
    for alert in sorted(alerts, key=lambda a: a.sent, reverse=True):
        first = alert.infos[0] if alert.infos else None
        entry = ET.SubElement(feed, _a("entry"))
        _atom_text(entry, "id", entry_id(alert))
        headline = first.headline if first is not None and first.headline else None
        _atom_text(entry, "title", headline or (first.event if first else f"CAP {alert.msg_type} {alert.identifier}"))
        _atom_text(entry, "updated", _atom_time(alert.sent, "sent"))
        _atom_text(ET.SubElement(entry, _a("author")), "name",
                   (first.sender_name if first is not None and first.sender_name else None) or alert.sender)
        if headline:
            _atom_text(entry, "summary", headline)
        if alert_link is not None:
            ET.SubElement(entry, _a("link"), rel="alternate", type=CAP_MEDIA_TYPE, href=alert_link(alert))
        content = ET.SubElement(entry, _a("content"), type=CAP_MEDIA_TYPE)
        content.append(alert_element(alert))
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
