from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Out, Stamped, UTCTime
from anbao.core.vocab import IncidentGradeIn, IncidentTypeIn, PlanKindIn, TaskStatusIn, ZoneKindIn


class PlanStep(In):
    title: str = Field(min_length=1, max_length=200, description="e.g. 暂停相关入口放行")
    detail: str = Field(default="", max_length=2000)
    node_code: str | None = Field(default=None, pattern=CODE_PATTERN,
                                  description="Command node that carries out the step (default: the plan's node)")
    due_min: float | None = Field(default=None, ge=0, le=1440, description="Minutes after activation")


Hour = Annotated[int, Field(ge=0, le=24)]


class PlanTriggers(In):
    """When the plan fits an incident (专项预案智能匹配); every condition given must hold."""

    incident_types: list[IncidentTypeIn] = Field(default_factory=list, max_length=20,
                                                 description="Incident types the plan answers (required to match)")
    min_grade: IncidentGradeIn | None = Field(default=None,
                                              description="Lowest incident grade (一般 < 较大 < 重大 < 特别重大)")
    zone_kinds: list[ZoneKindIn] = Field(default_factory=list, max_length=30,
                                         description="Only incidents in zones of these kinds (empty: anywhere)")
    hours: tuple[Hour, Hour] | None = Field(default=None, description="Local hours [from, to) the plan applies; "
                                          "from > to wraps midnight, e.g. [22, 6]")


class PlanCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="e.g. 大客流应急预案")
    kind: PlanKindIn = Field(default="other", validate_default=True, description="专项预案 type")
    command_node_id: int | None = Field(default=None, description="Responsible command node")
    description: str = Field(default="", max_length=5000)
    steps: list[PlanStep] = Field(default_factory=list, max_length=100)
    triggers: PlanTriggers = Field(default_factory=PlanTriggers)


class PlanUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: PlanKindIn | None = None
    command_node_id: int | None = None
    description: str | None = Field(default=None, max_length=5000)
    steps: list[PlanStep] | None = Field(default=None, max_length=100)
    triggers: PlanTriggers | None = None


class PlanStepOut(Out):
    title: str
    detail: str = ""
    node_code: str | None = None
    due_min: float | None = None


class PlanOut(Stamped):
    id: int
    event_id: int
    code: str
    name: str
    kind: str
    command_node_id: int | None
    description: str
    steps: list[PlanStepOut]
    triggers: dict[str, Any] = Field(default_factory=dict)


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
