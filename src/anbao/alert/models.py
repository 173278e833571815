from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import Timestamps
from anbao.core.time import UTCDateTime


class EarlyWarning(Audited, Timestamps, Base):
    """预警: one warning, from its first level through escalations to its closing.

    ``key`` names what is watched (e.g. ``density:zone:12``); at most one warning per key is open.
    Every change is audited; level changes also go out on the bus.
    """

    __tablename__ = "warning"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    #: a rule kind (density, gas, smoke, queue_wait, device_silence...), camera or external
    kind: Mapped[str] = mapped_column(String(20))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    level: Mapped[str] = mapped_column(String(10))  # blue | yellow | orange | red
    peak_level: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | acknowledged | closed
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(String(300), default="")
    forecast: Mapped[bool] = mapped_column(Boolean, default=False)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("warning_rule.id", ondelete="SET NULL"), nullable=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"), nullable=True)
    #: when the warning becomes due for escalation if nobody acknowledges it (None: not due)
    escalate_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_to: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: the command node responsible for the warning: that of the latest plan started for it (escalation
    #: starts from its parent); set by the response package when it starts a plan
    command_node_id: Mapped[int | None] = mapped_column(ForeignKey("command_node.id", ondelete="SET NULL"),
                                                        nullable=True)
    #: the comment given when it was closed (a CAP Cancel carries it: anbao.alert.cap_export)
    close_comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: what an imported CAP message said that a warning has no column for (scope, restriction, addresses,
    #: event, categories, instruction, sender_name, expires), kept for re-export (anbao.alert.cap_import)
    cap: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class WarningRule(Audited, Timestamps, Base):
    """预警规则: thresholds of one watched quantity for one zone kind ("" = every kind) of one event.

    A level left empty (None) is never raised. ``plans`` maps a level to the code of the plan it
    activates (``{"orange": "YA-DKL", "red": "YA-SS"}``); a warning that jumps to red activates the
    plans of every level up to red once. ``escalate_after_min``: minutes an active warning may stay
    unacknowledged before it goes one step up the command tree (again after each further period).
    """

    __tablename__ = "warning_rule"
    __table_args__ = (UniqueConstraint("event_id", "kind", "zone_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    zone_kind: Mapped[str] = mapped_column(String(20), default="")
    blue: Mapped[float | None] = mapped_column(Float, nullable=True)
    yellow: Mapped[float | None] = mapped_column(Float, nullable=True)
    orange: Mapped[float | None] = mapped_column(Float, nullable=True)
    red: Mapped[float | None] = mapped_column(Float, nullable=True)
    hysteresis: Mapped[float] = mapped_column(Float, default=0.0)
    min_hold_s: Mapped[float] = mapped_column(Float, default=30.0)
    escalate_after_min: Mapped[float | None] = mapped_column(Float, nullable=True)
    plans: Mapped[Any] = mapped_column(JSONType, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(300), default="")
