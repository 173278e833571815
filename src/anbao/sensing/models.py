"""Append-only store of sensor readings and camera events.

Readings are measurement data at high volume: they are not written to the audit log one by one;
who posted them is kept in ``source``. Indexes are kept to what reads need, since each one costs
every insert: (device, time) for a device's history (a zone's history is its devices'), and a
partial unique index on (event, idempotency key) over keyed readings only. The newest reading of
each device is kept apart, in ``device_latest``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.db import Base, JSONType
from anbao.core.time import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class Reading(Base):
    __tablename__ = "reading"
    __table_args__ = (
        # only keyed readings enter the unique index: unkeyed ones cost no index write there
        Index("ux_reading_event_key", "event_id", "idem_key", unique=True,
              sqlite_where=text("idem_key IS NOT NULL"), postgresql_where=text("idem_key IS NOT NULL")),
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


class DeviceLatest(Base):
    """The newest reading of each device, upserted by every ingest batch.

    Zone states and the warning rules read this one row per device instead of scanning ``reading``.
    A row only moves forward in time: a late-arriving older reading does not replace a newer one. On
    PostgreSQL the table keeps half of each page free (fillfactor 50, migration 0013) so that these
    updates stay on their page and touch no index (HOT).
    """

    __tablename__ = "device_latest"

    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), primary_key=True,
                                           autoincrement=False)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    values: Mapped[Any] = mapped_column(JSONType, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeadLetter(Base):
    """A message the ingest could not (fully) use, kept with the reason: not JSON, unknown event,
    or rejected items (then ``reason`` lists each item's reason; the good items were stored).

    ``event_id`` has no foreign key so that messages for unknown or deleted events are kept too.
    """

    __tablename__ = "dead_letter"
    __table_args__ = (Index("ix_dead_letter_event_time", "event_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
