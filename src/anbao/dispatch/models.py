"""Tables of the dispatch domain 智慧调度: an event's road networks and its traffic control."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import Timestamps
from anbao.core.time import UTCDateTime


class RoadNetwork(Audited, Timestamps, Base):
    """路网: one road or walkway file of an event (OpenStreetMap .osm / .osm.pbf, or GeoJSON lines).

    The file lives under ``<var_dir>/roads/event-<id>/``; ``path`` is where it was stored. ``report``
    is the import report (ways read, used, skipped by reason, nodes in each mode's main network).
    An event's routing graph joins all its networks (see :mod:`anbao.dispatch.graphs`).
    """

    __tablename__ = "road_network"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # osm | geojson
    filename: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(1000))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    nodes: Mapped[int] = mapped_column(Integer)
    edges: Mapped[int] = mapped_column(Integer)
    report: Mapped[Any] = mapped_column(JSONType, default=dict)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(120))


#: vehicle classes a closure may let through 放行: 应急车辆 (fire, medical), 警车 (police), 持证车辆 (accredited)
EXEMPTIONS = ("emergency", "police", "accredited")


def default_exempt(applies_to: str | None) -> list[str]:
    """Who a closure lets through when not told: police and emergency vehicles through a 交通管制 of vehicles
    (as real traffic control does); nobody through a closure of everyone (a place nobody may enter)."""
    return ["emergency", "police"] if (applies_to or "vehicles") == "vehicles" else []


def _exempt_default(context: Any) -> list[str]:
    return default_exempt(context.get_current_parameters().get("applies_to"))


class RoadClosure(Audited, Timestamps, Base):
    """交通管制: a road (LineString) or an area (Polygon / MultiPolygon, WGS-84) closed to vehicles or to everyone.

    Active while ``enabled`` and ``starts_at <= now < ends_at`` (no end: until disabled or deleted).
    ``exempt`` lists the vehicle classes it lets through (:data:`EXEMPTIONS`; default :func:`default_exempt`).
    """

    __tablename__ = "road_closure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict[str, Any]] = mapped_column()
    applies_to: Mapped[str] = mapped_column(String(10), default="vehicles")  # vehicles | everyone
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    exempt: Mapped[list[str]] = mapped_column(default=_exempt_default)
