from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Out, Stamped
from anbao.core.vocab import IncidentGradeIn, IncidentTypeIn, PlanKindIn, ZoneKindIn


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


#: the nine items a security work plan 安全工作方案 must contain (大型群众性活动安全管理条例 第六条)
ART6_ITEMS: dict[str, tuple[str, str]] = {
    "overview": ("（一）", "活动的时间、地点、内容及组织方式"),
    "staffing": ("（二）", "安全工作人员的数量、任务分配和识别标志"),
    "fire": ("（三）", "活动场所消防安全措施"),
    "capacity": ("（四）", "活动场所可容纳的人员数量以及活动预计参加人数"),
    "buffer": ("（五）", "治安缓冲区域的设定及其标识"),
    "screening": ("（六）", "入场人员的票证查验和安全检查措施"),
    "traffic": ("（七）", "车辆停放、疏导措施"),
    "order": ("（八）", "现场秩序维护、人员疏导措施"),
    "emergency": ("（九）", "应急救援预案"),
}
#: text a template leaves for the planner to write; a section that still holds it is not written yet
TO_FILL = "【待填写】"
Art6Item = Literal["overview", "staffing", "fire", "capacity", "buffer", "screening", "traffic", "order", "emergency"]


class Equipment(In):
    name: str = Field(min_length=1, max_length=200, description="装备物资, e.g. 防暴盾牌, 担架, 灭火器")
    quantity: int = Field(default=1, ge=0, le=100_000)
    note: str = Field(default="", max_length=500)


class Partner(In):
    name: str = Field(min_length=1, max_length=200, description="协作单位, e.g. 市急救中心 120, 消防救援支队")
    role: str = Field(default="", max_length=500, description="职责")
    contact: str = Field(default="", max_length=200, description="联系人及电话")


Line = Annotated[list[tuple[float, float]], Field(min_length=2, max_length=2000,
                                                  description="[[lon, lat], ...] (or local metres)")]


class RouteRef(In):
    name: str = Field(min_length=1, max_length=200, description="e.g. 救护车专用通道")
    line: Line | None = None
    note: str = Field(default="", max_length=500)


class MapRefs(In):
    zones: list[str] = Field(default_factory=list, max_length=200, description="Zone codes the plan concerns")
    routes: list[RouteRef] = Field(default_factory=list, max_length=50, description="Routes drawn on the map")


class EvacuationRoute(In):
    name: str = Field(min_length=1, max_length=200, description="e.g. 北看台经 B01 出口至北广场")
    from_zones: list[str] = Field(default_factory=list, max_length=100, description="Zone codes evacuated")
    exits: list[str] = Field(default_factory=list, max_length=100, description="Exit/gate codes used")
    to_zone: str | None = Field(default=None, description="Assembly zone 集结区 code")
    line: Line | None = None
    note: str = Field(default="", max_length=500)


class TemplateContent(In):
    """What a plan template holds: the plan without its code and event-specific references."""

    name: str = Field(min_length=1, max_length=200)
    kind: PlanKindIn = Field(default="other", validate_default=True)
    node_code: str | None = Field(default=None, pattern=CODE_PATTERN,
                                  description="Command node code responsible (resolved in the event)")
    description: str = Field(default="", max_length=5000)
    steps: list[PlanStep] = Field(default_factory=list, max_length=100)
    triggers: PlanTriggers = Field(default_factory=PlanTriggers)
    equipment: list[Equipment] = Field(default_factory=list, max_length=200)
    partners: list[Partner] = Field(default_factory=list, max_length=50)
    sections: dict[Art6Item, str] = Field(default_factory=dict, description="Master plan: text per Art. 6 item")


class TemplateIn(In):
    code: str = Field(pattern=CODE_PATTERN)
    content: TemplateContent


class TemplateUpdate(In):
    content: TemplateContent


class TemplateOut(Stamped):
    id: int
    code: str
    name: str
    kind: str
    builtin: bool
    content: dict[str, Any]


class FromTemplate(In):
    template: str = Field(pattern=CODE_PATTERN, description="Template code, e.g. TPL-ZT")
    code: str = Field(pattern=CODE_PATTERN, description="Code of the new plan")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Default: the template's")


class PlanCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="e.g. 大客流应急预案")
    kind: PlanKindIn = Field(default="other", validate_default=True, description="专项预案 type")
    command_node_id: int | None = Field(default=None, description="Responsible command node")
    description: str = Field(default="", max_length=5000)
    steps: list[PlanStep] = Field(default_factory=list, max_length=100)
    triggers: PlanTriggers = Field(default_factory=PlanTriggers)
    unit_ids: list[int] = Field(default_factory=list, max_length=500, description="Units assigned 参战力量")
    equipment: list[Equipment] = Field(default_factory=list, max_length=200)
    partners: list[Partner] = Field(default_factory=list, max_length=50, description="Outside partners 协作单位")
    map_refs: MapRefs = Field(default_factory=MapRefs)
    evacuation_routes: list[EvacuationRoute] = Field(default_factory=list, max_length=50)
    sections: dict[Art6Item, str] = Field(default_factory=dict,
                                          description="Master plan 总体安保方案: text per Art. 6 item")


class PlanUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: PlanKindIn | None = None
    command_node_id: int | None = None
    description: str | None = Field(default=None, max_length=5000)
    steps: list[PlanStep] | None = Field(default=None, max_length=100)
    triggers: PlanTriggers | None = None
    unit_ids: list[int] | None = Field(default=None, max_length=500)
    equipment: list[Equipment] | None = Field(default=None, max_length=200)
    partners: list[Partner] | None = Field(default=None, max_length=50)
    map_refs: MapRefs | None = None
    evacuation_routes: list[EvacuationRoute] | None = Field(default=None, max_length=50)
    sections: dict[Art6Item, str] | None = None


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
    unit_ids: list[int] = Field(default_factory=list)
    equipment: list[dict[str, Any]] = Field(default_factory=list)
    partners: list[dict[str, Any]] = Field(default_factory=list)
    map_refs: dict[str, Any] = Field(default_factory=dict)
    evacuation_routes: list[dict[str, Any]] = Field(default_factory=list)
    sections: dict[str, str] = Field(default_factory=dict)
    template: str = Field(default="", description="Code of the template the plan started from")






























class FindingOut(Out):
    code: str = Field(description="e.g. art6.fire, art12.authority, art13.filing, art7.tickets")
    article: str = Field(description="条例条款, e.g. 第六条第（三）项")
    severity: str = Field(description="error | warning | info | ok")
    message: str
    hint: str = ""


class CheckOut(Out):
    ok: bool = Field(description="No finding is an error")
    counts: dict[str, int] = Field(description="Findings per severity")
    findings: list[FindingOut]






