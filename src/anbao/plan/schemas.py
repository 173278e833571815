from __future__ import annotations

from typing import Annotated, Any, Literal

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


class CapacitySettingsIn(In):
    """容量核定参数 (Green Guide): times, holding density and safety factors."""

    entry_min: float = Field(default=60.0, gt=0, le=600, description="Entry time the event allows, minutes")
    egress_min: float = Field(default=8.0, gt=0, le=60, description="Normal egress time, minutes (Green Guide <= 8)")
    emergency_min: float = Field(default=8.0, gt=0, le=60,
                                 description="Emergency evacuation time, minutes (2.5 to 8 by fire risk)")
    density: float = Field(default=4.7, gt=0, le=10, description="Standing holding density, persons/m2")
    safety_factors: dict[Annotated[str, Field(pattern=CODE_PATTERN)], Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="Safety factor S (0-1) per zone code; 1 where not given")


class CapacitySettingsOut(Out):
    entry_min: float
    egress_min: float
    emergency_min: float
    density: float
    safety_factors: dict[str, float]


class CapacityExit(Out):
    code: str = Field(description="Gate code, or →ZONE for an open boundary towards that zone")
    width_m: float | None = Field(description="Width (open boundary: the width passing the same flow); None: no limit")
    stairs: bool
    kind: str = Field(description="gate | open")
    to: str


class CapacityEntry(Out):
    code: str
    lanes: int


class AreaCapacity(Out):
    code: str
    name: str
    holding: int | None = Field(description="容纳能力, persons")
    entry: int | None = Field(description="入场能力 in the entry time")
    exit: int | None = Field(description="疏散能力 in the egress time")
    emergency: int | None = Field(description="应急疏散能力 in the emergency evacuation time")
    safe_capacity: int | None = Field(description="安全容量 = the least of the above")
    limiting: str | None = Field(description="holding | entry | exit | emergency")
    limiting_zh: str | None
    exit_flow_per_min: float
    evacuation_min: float | None = Field(description="Minutes to empty the holding capacity through the exits")
    steps: list[str] = Field(description="The calculation, step by step (Chinese)")
    exits: list[CapacityExit]
    entries: list[CapacityEntry]
    error: str | None = Field(description="Why no capacity could be given (e.g. a zone without exits)")


class ZoneCapacity(AreaCapacity):
    kind: str
    ring: int
    area_m2: float
    declared: int | None = Field(description="Seated + standing capacity entered for the zone")
    over_declared: bool = Field(description="The declared capacity exceeds the safe capacity")


class VenueCapacity(AreaCapacity):
    exit_bottleneck_pps: float = Field(description="Maximum flow from the seats and floor to the outside, persons/s")
    entry_bottleneck_pps: float
    expected_attendance: int | None
    approved_attendance: int | None
    tickets_issued: int | None
    holding_by_zone: dict[str, int] = Field(default_factory=dict)


class CapacityOut(Out):
    settings: CapacitySettingsOut
    zones: list[ZoneCapacity]
    venue: VenueCapacity


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


class DocumentOut(Out):
    name: str = Field(description="work-plan | plan-CODE | risk-report | assignments")
    title: str
    url: str


class EvacuationIn(In):
    model: Literal["macro", "jupedsim"] = Field(default="macro",
                                                description="macro: zones as a flow network (the venue or one "
                                                "zone); jupedsim: agents in one zone")
    zone: str | None = Field(default=None, pattern=CODE_PATTERN, description="Zone code (empty: the whole venue)")
    people: int | None = Field(default=None, ge=0, le=1_000_000,
                               description="People to evacuate (default: the expected attendance, or the zone's share)")
    agents: int | None = Field(default=None, ge=1, le=5000, description="JuPedSim agents (default: up to 1,000)")
    max_s: float | None = Field(default=None, gt=0, le=7200, description="Time cap, seconds (partial result after)")


class EvacuationRunOut(Out):
    id: str
    status: str = Field(description="running | done | failed")
    progress: float
    model: str
    zone: str | None
    result: dict[str, Any] | None = Field(default=None, description="clearance_s, exits, zones, series, capacity...")
    error: str | None = None
