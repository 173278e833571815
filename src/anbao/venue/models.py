from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base
from anbao.core.models import EventScoped, Timestamps


class Venue(Audited, EventScoped, Timestamps, Base):
    __tablename__ = "venue"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    crs: Mapped[str] = mapped_column(String(10), default="wgs84")
    address: Mapped[str] = mapped_column(String(300), default="")
    ref_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    ref_lat: Mapped[float | None] = mapped_column(Float, nullable=True)


class Zone(Audited, EventScoped, Timestamps, Base):
    """An area of a venue 区域 with its ring 圈层 and capacity."""

    __tablename__ = "zone"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ring: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any]] = mapped_column()
    area_m2: Mapped[float] = mapped_column(Float)
    standing_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seated_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)


class Gate(Audited, EventScoped, Timestamps, Base):
    """出入口 (gate), 安检口 (checkpoint) or 疏散出口 (exit): a point with lanes and a width."""

    __tablename__ = "gate"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # gate | checkpoint | exit
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(Integer, default=1)
    width_m: Mapped[float] = mapped_column(Float)
    stair: Mapped[bool] = mapped_column(default=False)  # exits: stairs (66/m/min) or level (82/m/min)
    direction: Mapped[str] = mapped_column(String(10), default="both")  # in | out | both


class Post(Audited, EventScoped, Timestamps, Base):
    """岗位: a place that must be staffed."""

    __tablename__ = "post"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    police_type: Mapped[str] = mapped_column(String(20))
    skills: Mapped[list[str]] = mapped_column(default=list)
    min_staff: Mapped[int] = mapped_column(Integer, default=1)
    critical: Mapped[bool] = mapped_column(default=False)


class Device(Audited, EventScoped, Timestamps, Base):
    """Camera, drone or sensor. Cameras watch ``zone_id``; sensors measure it."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    unit_of_measure: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(20), default="online")
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
