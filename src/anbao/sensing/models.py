"""Append-only store of sensor readings and camera events.

Readings are measurement data at high volume: they are not written to the audit log one by one;
who posted them is kept in ``source``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.db import Base, JSONType
from anbao.core.time import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class Reading(Base):
    __tablename__ = "reading"
    __table_args__ = (
        UniqueConstraint("event_id", "idem_key"),
        Index("ix_reading_zone_time", "event_id", "zone_id", "at"),
        Index("ix_reading_device_time", "device_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    values: Mapped[Any] = mapped_column(JSONType, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(80), default="")
    idem_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
