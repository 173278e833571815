"""An Atom feed (RFC 4287) of CAP 1.2 messages, each embedded as entry content."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import quote
from xml.etree import ElementTree as ET

from anbao.alert.cap.checks import _XML_BAD_CHAR, _aware
from anbao.alert.cap.model import CapAlert
from anbao.alert.cap.vocab import ATOM_MEDIA_TYPE, ATOM_NS, CAP_MEDIA_TYPE
from anbao.alert.cap.write import alert_element
from anbao.core.errors import Invalid


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
