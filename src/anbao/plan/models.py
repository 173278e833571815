from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import EventScoped, Timestamps


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
