"""Writing a CAP 1.2 message as XML, elements in the order of the official schema ``CAP-v1.2.xsd``."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree as ET

from anbao.alert.cap.checks import _XML_BAD_CHAR, format_datetime
from anbao.alert.cap.model import CapAlert, CapArea, CapInfo
from anbao.alert.cap.vocab import CAP_NS
from anbao.core.errors import Invalid


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
