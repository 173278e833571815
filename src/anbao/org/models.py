from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base
from anbao.core.models import EventScoped, Timestamps


class CommandNode(Audited, EventScoped, Timestamps, Base):
    """指挥节点: 指挥部 (hq) → 工作组 (hq_group) / 现场分指挥部 (site) → 执勤组 (duty_group)."""

    __tablename__ = "command_node"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("command_node.id", ondelete="CASCADE"),
                                                  nullable=True, index=True)
    leader: Mapped[str] = mapped_column(String(100), default="")
    duties: Mapped[str] = mapped_column(String(500), default="")
    zone_codes: Mapped[list[str]] = mapped_column(default=list)


class Unit(Audited, EventScoped, Timestamps, Base):
    """警力单元: a team with a call sign."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    call_sign: Mapped[str] = mapped_column(String(40))
    police_type: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str] = mapped_column(String(40), default="公安")
    status: Mapped[str] = mapped_column(String(20), default="available")
    equipment: Mapped[list[str]] = mapped_column(default=list)
    skills: Mapped[list[str]] = mapped_column(default=list)
    command_node_id: Mapped[int | None] = mapped_column(ForeignKey("command_node.id", ondelete="SET NULL"),
                                                        nullable=True)
    shared_with: Mapped[list[str]] = mapped_column(default=list)


class Person(Audited, Timestamps, Base):
    """人员: personal data; every read is audited."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("event_id", "badge_no"),)
    __audit_personal__ = True
    __audit_personal_fields__ = ("name", "badge_no", "phone")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    name: Mapped[str] = mapped_column(String(100))
    badge_no: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(40), default="队员")
    phone: Mapped[str] = mapped_column(String(40), default="")
    skills: Mapped[list[str]] = mapped_column(default=list)


class UserUnit(Audited, Base):
    """A login that belongs to a unit: field roles act on the tasks of their own units only."""

    __tablename__ = "user_unit"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True, index=True)
