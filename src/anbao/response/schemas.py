"""Response schemas: plan activations and tasks."""

from __future__ import annotations

from pydantic import Field

from anbao.core.schemas import In, Out, Stamped, UTCTime
from anbao.core.vocab import TaskStatusIn


class ActivateIn(In):
    warning_id: int | None = Field(default=None, description="The warning the plan answers, if any")
    reason: str = Field(default="", max_length=500, description="启动理由")


class ActivationOut(Out):
    id: int
    event_id: int
    plan_id: int
    warning_id: int | None
    incident_id: int | None = None
    level: str | None
    at: UTCTime
    by: str
    reason: str


class TaskOut(Stamped):
    id: int
    event_id: int
    activation_id: int | None
    plan_id: int | None
    warning_id: int | None
    incident_id: int | None = None
    command_node_id: int | None
    unit_id: int | None
    zone_id: int | None
    title: str
    detail: str
    status: str = Field(description="open 待接收 | accepted 已接收 | arrived 已到场 | done 已完成 | cancelled 已取消")
    due_at: UTCTime | None
    done_at: UTCTime | None
    changed_by: str
    note: str


class TaskCreate(In):
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=2000)
    command_node_id: int | None = None
    unit_id: int | None = None
    zone_id: int | None = None
    warning_id: int | None = None
    due_min: float | None = Field(default=None, ge=0, le=1440)


class TaskStatusChange(In):
    status: TaskStatusIn
    note: str = Field(default="", max_length=2000)


class ActivationResult(Out):
    activation: ActivationOut
    tasks: list[TaskOut]
