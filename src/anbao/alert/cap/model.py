"""The CAP 1.2 message as frozen dataclasses checked on construction, and builders and tests of messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from anbao.alert.cap.checks import (
    _LANGUAGE,
    _aware,
    _check_reference,
    _enum,
    _enums,
    _number,
    _pairs,
    _position,
    _text,
    _token,
    format_datetime,
)
from anbao.alert.cap.vocab import (
    Category,
    Certainty,
    Level,
    MsgType,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    default_certainty,
)
from anbao.core.errors import Invalid


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
    strings. Unless ``parameters`` already names them, two parameters give the colour level itself, not only
    the CAP severity: ``level`` in words a Chinese reader understands (``橙色预警（二级）``) and ``level_code``,
    the machine code (``orange``).
    """
    level = _enum(Level, level, "level")
    params = _pairs(parameters, "parameter")
    names = {name for name, _ in params}
    if "level" not in names:
        params.append(("level", level.warning_title))
    if LEVEL_CODE not in names:
        params.append((LEVEL_CODE, level.value))
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


#: the parameter with the machine code of the level (blue | yellow | orange | red)
LEVEL_CODE = "level_code"


def level_of(info: CapInfo) -> Level | None:
    """The warning level of an info: its ``level_code`` parameter, else its ``level`` parameter (a code, a
    colour, a grade or a title like 橙色预警（二级）), when valid; else from its CAP severity."""
    params = dict(reversed(info.parameters))  # the first of each name
    for name in (LEVEL_CODE, "level"):
        value = params.get(name)
        if value is None:
            continue
        try:
            return Level.parse(value)
        except Invalid:
            continue
    return Level.from_severity(info.severity)


def is_active(alert: CapAlert, at: datetime) -> bool:
    """Whether ``alert`` still stands at ``at`` (aware): not a draft, an Alert or Update, and with no
    info, or at least one info that has not expired (an info without ``expires`` does not expire)."""
    moment = _aware(at, "at")
    assert moment is not None
    if alert.status == Status.draft or alert.msg_type not in (MsgType.alert, MsgType.update):
        return False
    return not alert.infos or any(i.expires is None or i.expires > moment for i in alert.infos)
