from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import EventScoped, Timestamps
from anbao.core.time import UTCDateTime


class ResponsePlan(Audited, EventScoped, Timestamps, Base):
    """预案: a special plan with the command node responsible and its steps.

    ``steps`` is a list of ``{"title", "detail", "node_code", "due_min"}``; a step without
    ``node_code`` goes to the plan's own command node.
    """

    __tablename__ = "response_plan"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    kind: Mapped[str] = mapped_column(String(30), default="other")
    command_node_id: Mapped[int | None] = mapped_column(ForeignKey("command_node.id", ondelete="SET NULL"),
                                                        nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    steps: Mapped[Any] = mapped_column(JSONType, default=list)
    # when the plan fits an incident: {"incident_types": [...], "min_grade": "...", "zone_kinds": [...],
    # "hours": [from_h, to_h]} (anbao.incident.matching); empty: never matched to incidents
    triggers: Mapped[Any] = mapped_column(JSONType, default=dict)
    # the "1+N" plan elements (anbao.plan.schemas): units assigned (ids), equipment [{name, quantity, note}],
    # outside partners [{name, role, contact}], map references {zones: [codes], routes: [{name, line}]},
    # evacuation routes [{name, from_zones, exits, line, note}], the master plan's sections {item: text}
    unit_ids: Mapped[Any] = mapped_column(JSONType, default=list)
    equipment: Mapped[Any] = mapped_column(JSONType, default=list)
    partners: Mapped[Any] = mapped_column(JSONType, default=list)
    map_refs: Mapped[Any] = mapped_column(JSONType, default=dict)
    evacuation_routes: Mapped[Any] = mapped_column(JSONType, default=list)
    sections: Mapped[Any] = mapped_column(JSONType, default=dict)
    template: Mapped[str] = mapped_column(String(40), default="")


class PlanTemplate(Audited, Timestamps, Base):
    """预案模板: an editable template of a master or special plan, shared by all events.

    ``content`` holds the plan fields a new plan starts from (anbao.plan.schemas.TemplateContent).
    """

    __tablename__ = "plan_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    content: Mapped[Any] = mapped_column(JSONType, default=dict)
    builtin: Mapped[bool] = mapped_column(default=False)


class CapacitySetting(Audited, Timestamps, Base):
    """容量核定参数 of an event: entry and evacuation times, holding density, safety factor per zone code."""

    __tablename__ = "capacity_setting"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    entry_min: Mapped[float] = mapped_column(Float, default=60.0)
    egress_min: Mapped[float] = mapped_column(Float, default=8.0)
    emergency_min: Mapped[float] = mapped_column(Float, default=8.0)
    density: Mapped[float] = mapped_column(Float, default=4.7)
    safety_factors: Mapped[Any] = mapped_column(JSONType, default=dict)


class PlanActivation(Audited, Base):
    """预案启动: one plan started once for one warning or one incident (or by hand, for neither)."""

    __tablename__ = "plan_activation"
    __table_args__ = (UniqueConstraint("plan_id", "warning_id"), UniqueConstraint("plan_id", "incident_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("response_plan.id", ondelete="CASCADE"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id", ondelete="SET NULL"), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"), nullable=True)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(500), default="")


class Task(Audited, Timestamps, Base):
    """任务: one step of an activated plan (or a task given by hand) for a command node or unit."""

    __tablename__ = "task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    activation_id: Mapped[int | None] = mapped_column(ForeignKey("plan_activation.id", ondelete="SET NULL"),
                                                      nullable=True, index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("response_plan.id", ondelete="SET NULL"), nullable=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id", ondelete="SET NULL"), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"), nullable=True)
    command_node_id: Mapped[int | None] = mapped_column(ForeignKey("command_node.id", ondelete="SET NULL"),
                                                        nullable=True, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), nullable=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    changed_by: Mapped[str] = mapped_column(String(120), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
