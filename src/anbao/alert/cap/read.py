"""Reading a CAP 1.2 message with defusedxml: DTDs, entities and external references are refused;
missing, repeated, unknown or malformed elements raise ``Invalid`` naming the element."""

from __future__ import annotations

import math
import re
from datetime import datetime
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

from anbao.alert.cap.checks import E, _enum, parse_datetime
from anbao.alert.cap.model import CapAlert, CapArea, CapInfo, CapResource
from anbao.alert.cap.vocab import CAP_NS, Category, Certainty, MsgType, ResponseType, Scope, Severity, Status, Urgency
from anbao.core.errors import Invalid

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
