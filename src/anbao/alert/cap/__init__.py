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

Modules: :mod:`.vocab` (namespaces, code lists, :class:`Level`), :mod:`.checks` (field checks, date-times),
:mod:`.model` (the dataclasses, :func:`warning_to_cap`, :func:`level_of`, :func:`is_active`), :mod:`.write`
(:func:`to_xml`), :mod:`.read` (:func:`from_xml`), :mod:`.feed` (:func:`feed_xml`). Import from the package:
``from anbao.alert import cap; cap.to_xml(...)``.
"""

from __future__ import annotations

from anbao.alert.cap.checks import format_datetime, parse_datetime
from anbao.alert.cap.feed import entry_id, feed_xml
from anbao.alert.cap.model import (
    LEVEL_CODE,
    CapAlert,
    CapArea,
    CapInfo,
    CapResource,
    is_active,
    level_of,
    reference,
    warning_to_cap,
)
from anbao.alert.cap.read import alert_from_element, from_xml
from anbao.alert.cap.vocab import (
    ATOM_MEDIA_TYPE,
    ATOM_NS,
    CAP_MEDIA_TYPE,
    CAP_NS,
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
from anbao.alert.cap.write import alert_element, to_xml

__all__ = [
    "ATOM_MEDIA_TYPE",
    "ATOM_NS",
    "CAP_MEDIA_TYPE",
    "CAP_NS",
    "LEVEL_CODE",
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapResource",
    "Category",
    "Certainty",
    "Level",
    "MsgType",
    "ResponseType",
    "Scope",
    "Severity",
    "Status",
    "Urgency",
    "alert_element",
    "alert_from_element",
    "default_certainty",
    "entry_id",
    "feed_xml",
    "format_datetime",
    "from_xml",
    "is_active",
    "level_of",
    "parse_datetime",
    "reference",
    "to_xml",
    "warning_to_cap",
]
