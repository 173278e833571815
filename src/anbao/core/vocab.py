"""Controlled vocabularies: stored codes (English) with Chinese and English labels.

Input accepts the code or the Chinese label (``"核心区"`` and ``"core"`` are the same zone kind);
output is always the code. ``GET /api/v1/meta/vocab`` serves these tables to the UI.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator

EVENT_KINDS: dict[str, tuple[str, str]] = {
    "sports": ("体育赛事", "Sports event"), "concert": ("演唱会", "Concert"), "expo": ("展会", "Exhibition"),
    "festival": ("节庆", "Festival"), "marathon": ("马拉松", "Marathon"), "other": ("其他", "Other"),
}
EVENT_STATUSES: dict[str, tuple[str, str]] = {
    "preparing": ("筹备", "Preparing"), "approval": ("审批", "Approval"), "active": ("执行", "Active"),
    "ended": ("结束", "Ended"), "review": ("总结", "Review"),
}
ZONE_KINDS: dict[str, tuple[str, str]] = {
    "core": ("核心区", "Core area"), "buffer": ("缓冲区", "Buffer area"), "outer": ("外围区", "Outer area"),
    "passage": ("通道", "Passage"), "entrance": ("出入口", "Entrance area"), "parking": ("停车场", "Parking"),
    "stage": ("舞台", "Stage"), "stand": ("看台", "Stand"), "standing": ("内场站席", "Standing floor"),
    "plaza": ("广场", "Plaza"), "road": ("道路", "Road"), "concourse": ("环廊", "Concourse"),
    "transit": ("公交地铁", "Transit stop"), "screening": ("安检区", "Screening area"),
    "service": ("保障区", "Service area"), "other": ("其他", "Other"),
}
GATE_KINDS: dict[str, tuple[str, str]] = {
    "gate": ("出入口", "Gate"), "checkpoint": ("安检口", "Checkpoint"), "exit": ("疏散出口", "Exit"),
}
DEVICE_KINDS: dict[str, tuple[str, str]] = {
    "camera": ("摄像机", "Camera"), "drone": ("无人机", "Drone"), "wifi_probe": ("WiFi探针", "WiFi probe"),
    "bluetooth": ("蓝牙探针", "Bluetooth probe"), "video_count": ("视频计数", "Video counter"),
    "gate_counter": ("闸机计数", "Gate counter"), "gas": ("燃气探测", "Gas detector"),
    "smoke": ("烟感", "Smoke detector"), "temperature": ("温度", "Temperature"),
}
POLICE_TYPES: dict[str, tuple[str, str]] = {
    "public_order": ("治安", "Public order"), "traffic": ("交警", "Traffic police"),
    "special": ("特警", "Special police"), "armed": ("武警", "Armed police"),
    "criminal": ("刑侦", "Criminal investigation"), "cyber": ("网安", "Cyber security"),
    "fire": ("消防", "Fire and rescue"), "medical": ("医疗", "Medical"), "volunteer": ("志愿者", "Volunteer"),
    "security": ("保安", "Security guard"),
}
UNIT_STATUSES: dict[str, tuple[str, str]] = {
    "available": ("待命", "Available"), "assigned": ("已派", "Assigned"), "busy": ("处置中", "Busy"),
    "off_duty": ("休整", "Off duty"),
}
COMMAND_LEVELS: dict[str, tuple[str, str]] = {
    "hq": ("指挥部", "Headquarters"), "hq_group": ("工作组", "HQ group"),
    "site": ("现场分指挥部", "Site command"), "duty_group": ("执勤组", "Duty group"),
}
PLAN_KINDS: dict[str, tuple[str, str]] = {
    "master": ("总体安保方案", "Master security plan"), "crowd": ("大客流", "Large crowds"),
    "evacuation": ("人群疏散", "Evacuation"), "fire": ("消防安全", "Fire safety"), "gas": ("燃气泄漏", "Gas leak"),
    "medical": ("医疗救护", "Medical rescue"), "traffic": ("交通疏导", "Traffic"),
    "counter_terror": ("反恐防暴", "Counter-terrorism"), "emergency": ("应急处突", "Emergency response"),
    "public_opinion": ("舆情应对", "Public opinion"), "weather": ("恶劣天气", "Severe weather"),
    "screening": ("安检疏导", "Screening congestion"), "equipment": ("设备保障", "Equipment"),
    "other": ("其他", "Other"),
}
TASK_STATUSES: dict[str, tuple[str, str]] = {
    "open": ("待接收", "Open"), "accepted": ("已接收", "Accepted"), "arrived": ("已到场", "Arrived"),
    "done": ("已完成", "Done"), "cancelled": ("已取消", "Cancelled"),
}
RULE_KINDS: dict[str, tuple[str, str]] = {
    "density": ("人群密度", "Crowd density"), "occupancy": ("看台上座率", "Seat occupancy"),
    "gas": ("燃气浓度", "Gas concentration"),
    "smoke": ("烟雾浓度", "Smoke obscuration"), "temperature": ("环境温度", "Temperature"),
    "queue_wait": ("排队等待时间", "Queue wait"), "queue_length": ("排队人数", "Queue length"),
    "device_silence": ("设备离线", "Device silence"),
    "camera": ("视频报警", "Video alarm"),
}
INCIDENT_TYPES: dict[str, tuple[str, str]] = {
    "crowd": ("人群拥挤/踩踏风险", "Crowd crush risk"), "fight": ("打架斗殴", "Fight"), "theft": ("盗窃", "Theft"),
    "lost_child": ("走失儿童", "Lost child"), "medical": ("医疗急救", "Medical emergency"), "fire": ("火情", "Fire"),
    "suspicious_item": ("可疑物品", "Suspicious item"), "traffic": ("交通事故", "Traffic accident"),
    "terror": ("暴力恐怖", "Violent terrorism"), "equipment": ("设备故障", "Equipment failure"),
    "opinion": ("舆情", "Public opinion"), "other": ("其他", "Other"),
}
INCIDENT_GRADES: dict[str, tuple[str, str]] = {
    "ordinary": ("一般", "Ordinary"), "larger": ("较大", "Larger"), "major": ("重大", "Major"),
    "especially_major": ("特别重大", "Especially major"),
}
INCIDENT_SOURCES: dict[str, tuple[str, str]] = {
    "warning": ("预警", "Warning"), "officer": ("民警上报", "Officer report"), "call_110": ("110报警", "110 call"),
    "camera": ("视频告警", "Camera alarm"), "public": ("群众报告", "Public report"),
}
INCIDENT_STATUSES: dict[str, tuple[str, str]] = {
    "new": ("待处置", "New"), "dispatched": ("已派警", "Dispatched"), "en_route": ("出警途中", "En route"),
    "on_scene": ("到场处置", "On scene"), "resolved": ("处置完毕", "Resolved"), "closed": ("已结案", "Closed"),
}
ASSIGNMENT_STATUSES: dict[str, tuple[str, str]] = {
    "assigned": ("已派", "Assigned"), "en_route": ("途中", "En route"), "on_scene": ("到场", "On scene"),
    "released": ("已撤回", "Released"), "cancelled": ("已取消", "Cancelled"),
}
RISK_CATEGORIES: dict[str, tuple[str, str]] = {
    "stampede": ("人群踩踏", "Crowd crush"), "traffic": ("交通拥堵", "Traffic congestion"),
    "terrorism": ("恐怖袭击", "Terrorist attack"), "fire": ("火灾", "Fire"), "health": ("公共卫生", "Public health"),
    "weather": ("恶劣天气", "Severe weather"), "mass_incident": ("群体性事件", "Mass incident"),
    "public_opinion": ("舆情", "Public opinion"), "equipment": ("设备/电力", "Equipment and power"),
    "crime": ("治安犯罪", "Crime and disorder"), "structure": ("临建设施", "Temporary structures"),
    "other": ("其他", "Other"),
}
RISK_SOURCES: dict[str, tuple[str, str]] = {
    "inherent": ("活动固有", "Inherent to the event"), "external": ("外部环境", "External environment"),
    "threat": ("威胁源", "Threat source"),
}
RISK_LEVELS: dict[str, tuple[str, str]] = {
    "low": ("低", "Low"), "medium": ("中", "Medium"), "high": ("高", "High"), "extreme": ("极高", "Extreme"),
}
APPROVAL_AUTHORITIES: dict[str, tuple[str, str]] = {
    "county": ("县级公安机关", "County-level police"), "city": ("设区的市级公安机关", "City-level police"),
    "ministry": ("公安部", "Ministry of Public Security"),
}
WARNING_LEVELS: dict[str, tuple[str, str]] = {
    "blue": ("蓝色", "Blue"), "yellow": ("黄色", "Yellow"), "orange": ("橙色", "Orange"), "red": ("红色", "Red"),
}
#: rank of each warning level (blue 1 ... red 4), from the order above
WARNING_LEVEL_RANK: dict[str, int] = {code: i for i, code in enumerate(WARNING_LEVELS, start=1)}
#: screen colour of each warning level (map fills, chart lines, badges); the web UI takes it from the vocab
WARNING_COLOURS: dict[str, str] = {"blue": "#2f7df6", "yellow": "#f5c518", "orange": "#ff8a1c", "red": "#f03a3a"}
#: the Chinese word of each warning level (蓝色 ... 红色)
WARNING_LEVEL_ZH: dict[str, str] = {code: words[0] for code, words in WARNING_LEVELS.items()}


class EventKind(StrEnum):
    sports = "sports"  # 体育赛事
    concert = "concert"  # 演唱会
    expo = "expo"  # 展会
    festival = "festival"  # 节庆
    marathon = "marathon"  # 马拉松
    other = "other"  # 其他

class EventStatus(StrEnum):
    preparing = "preparing"  # 筹备
    approval = "approval"  # 审批
    active = "active"  # 执行
    ended = "ended"  # 结束
    review = "review"  # 总结

class ZoneKind(StrEnum):
    core = "core"  # 核心区
    buffer = "buffer"  # 缓冲区
    outer = "outer"  # 外围区
    passage = "passage"  # 通道
    entrance = "entrance"  # 出入口
    parking = "parking"  # 停车场
    stage = "stage"  # 舞台
    stand = "stand"  # 看台
    standing = "standing"  # 内场站席
    plaza = "plaza"  # 广场
    road = "road"  # 道路
    concourse = "concourse"  # 环廊
    transit = "transit"  # 公交地铁
    screening = "screening"  # 安检区
    service = "service"  # 保障区
    other = "other"  # 其他

class GateKind(StrEnum):
    gate = "gate"  # 出入口
    checkpoint = "checkpoint"  # 安检口
    exit = "exit"  # 疏散出口

class DeviceKind(StrEnum):
    camera = "camera"  # 摄像机
    drone = "drone"  # 无人机
    wifi_probe = "wifi_probe"  # WiFi探针
    bluetooth = "bluetooth"  # 蓝牙探针
    video_count = "video_count"  # 视频计数
    gate_counter = "gate_counter"  # 闸机计数
    gas = "gas"  # 燃气探测
    smoke = "smoke"  # 烟感
    temperature = "temperature"  # 温度

class PoliceType(StrEnum):
    public_order = "public_order"  # 治安
    traffic = "traffic"  # 交警
    special = "special"  # 特警
    armed = "armed"  # 武警
    criminal = "criminal"  # 刑侦
    cyber = "cyber"  # 网安
    fire = "fire"  # 消防
    medical = "medical"  # 医疗
    volunteer = "volunteer"  # 志愿者
    security = "security"  # 保安

class UnitStatus(StrEnum):
    available = "available"  # 待命
    assigned = "assigned"  # 已派
    busy = "busy"  # 处置中
    off_duty = "off_duty"  # 休整

class CommandLevel(StrEnum):
    hq = "hq"  # 指挥部
    hq_group = "hq_group"  # 工作组
    site = "site"  # 现场分指挥部
    duty_group = "duty_group"  # 执勤组


class PlanKind(StrEnum):
    master = "master"  # 总体安保方案
    crowd = "crowd"  # 大客流
    evacuation = "evacuation"  # 人群疏散
    fire = "fire"  # 消防安全
    gas = "gas"  # 燃气泄漏
    medical = "medical"  # 医疗救护
    traffic = "traffic"  # 交通疏导
    counter_terror = "counter_terror"  # 反恐防暴
    emergency = "emergency"  # 应急处突
    public_opinion = "public_opinion"  # 舆情应对
    weather = "weather"  # 恶劣天气
    screening = "screening"  # 安检疏导
    equipment = "equipment"  # 设备保障
    other = "other"  # 其他


class TaskStatus(StrEnum):
    open = "open"  # 待接收
    accepted = "accepted"  # 已接收
    arrived = "arrived"  # 已到场
    done = "done"  # 已完成
    cancelled = "cancelled"  # 已取消


class RuleKind(StrEnum):
    density = "density"  # 人群密度 persons/m2
    occupancy = "occupancy"  # 看台上座率 % of seats (seated zones)
    gas = "gas"  # 燃气 (CO) ppm
    smoke = "smoke"  # 烟雾 obscuration %/m
    temperature = "temperature"  # 温度 °C
    queue_wait = "queue_wait"  # 排队等待 minutes
    queue_length = "queue_length"  # 排队人数 persons
    device_silence = "device_silence"  # 设备离线 seconds since the last reading
    camera = "camera"  # 视频报警 severity of a video-analytics alarm: 5 - GB/T 28181 AlarmPriority (1 ... 4)


class IncidentType(StrEnum):
    crowd = "crowd"  # 人群拥挤/踩踏风险
    fight = "fight"  # 打架斗殴
    theft = "theft"  # 盗窃
    lost_child = "lost_child"  # 走失儿童
    medical = "medical"  # 医疗急救
    fire = "fire"  # 火情
    suspicious_item = "suspicious_item"  # 可疑物品
    traffic = "traffic"  # 交通事故
    terror = "terror"  # 暴力恐怖
    equipment = "equipment"  # 设备故障
    opinion = "opinion"  # 舆情
    other = "other"  # 其他


class IncidentGrade(StrEnum):
    ordinary = "ordinary"  # 一般
    larger = "larger"  # 较大
    major = "major"  # 重大
    especially_major = "especially_major"  # 特别重大


class IncidentSource(StrEnum):
    warning = "warning"  # 预警
    officer = "officer"  # 民警上报
    call_110 = "call_110"  # 110报警
    camera = "camera"  # 视频告警
    public = "public"  # 群众报告


class IncidentStatus(StrEnum):
    new = "new"  # 待处置
    dispatched = "dispatched"  # 已派警
    en_route = "en_route"  # 出警途中
    on_scene = "on_scene"  # 到场处置
    resolved = "resolved"  # 处置完毕
    closed = "closed"  # 已结案


class AssignmentStatus(StrEnum):
    assigned = "assigned"  # 已派
    en_route = "en_route"  # 途中
    on_scene = "on_scene"  # 到场
    released = "released"  # 已撤回
    cancelled = "cancelled"  # 已取消


class RiskCategory(StrEnum):
    stampede = "stampede"  # 人群踩踏
    traffic = "traffic"  # 交通拥堵
    terrorism = "terrorism"  # 恐怖袭击
    fire = "fire"  # 火灾
    health = "health"  # 公共卫生
    weather = "weather"  # 恶劣天气
    mass_incident = "mass_incident"  # 群体性事件
    public_opinion = "public_opinion"  # 舆情
    equipment = "equipment"  # 设备/电力
    crime = "crime"  # 治安犯罪
    structure = "structure"  # 临建设施
    other = "other"  # 其他


class RiskSource(StrEnum):
    inherent = "inherent"  # 活动固有
    external = "external"  # 外部环境
    threat = "threat"  # 威胁源


class RiskLevel(StrEnum):
    low = "low"  # 低
    medium = "medium"  # 中
    high = "high"  # 高
    extreme = "extreme"  # 极高


class ApprovalAuthority(StrEnum):
    county = "county"  # 县级公安机关
    city = "city"  # 设区的市级公安机关
    ministry = "ministry"  # 公安部


class WarningLevel(StrEnum):
    blue = "blue"  # 蓝色
    yellow = "yellow"  # 黄色
    orange = "orange"  # 橙色
    red = "red"  # 红色


VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "event_kind": EVENT_KINDS, "event_status": EVENT_STATUSES, "zone_kind": ZONE_KINDS,
    "gate_kind": GATE_KINDS, "device_kind": DEVICE_KINDS, "police_type": POLICE_TYPES,
    "unit_status": UNIT_STATUSES, "command_level": COMMAND_LEVELS, "plan_kind": PLAN_KINDS,
    "task_status": TASK_STATUSES, "rule_kind": RULE_KINDS, "warning_level": WARNING_LEVELS,
    "incident_type": INCIDENT_TYPES, "incident_grade": INCIDENT_GRADES, "incident_source": INCIDENT_SOURCES,
    "incident_status": INCIDENT_STATUSES, "assignment_status": ASSIGNMENT_STATUSES,
    "risk_category": RISK_CATEGORIES, "risk_source": RISK_SOURCES, "risk_level": RISK_LEVELS,
    "approval_authority": APPROVAL_AUTHORITIES,
}

SENSOR_KINDS = ("wifi_probe", "bluetooth", "video_count", "gate_counter", "gas", "smoke", "temperature")


def _alias(items: dict[str, tuple[str, str]]) -> Any:
    reverse = {zh: code for code, (zh, _en) in items.items()}

    def convert(value: Any) -> Any:
        return reverse.get(value, value) if isinstance(value, str) else value

    return BeforeValidator(convert)


EventKindIn = Annotated[EventKind, _alias(EVENT_KINDS)]
EventStatusIn = Annotated[EventStatus, _alias(EVENT_STATUSES)]
ZoneKindIn = Annotated[ZoneKind, _alias(ZONE_KINDS)]
GateKindIn = Annotated[GateKind, _alias(GATE_KINDS)]
DeviceKindIn = Annotated[DeviceKind, _alias(DEVICE_KINDS)]
PoliceTypeIn = Annotated[PoliceType, _alias(POLICE_TYPES)]
UnitStatusIn = Annotated[UnitStatus, _alias(UNIT_STATUSES)]
CommandLevelIn = Annotated[CommandLevel, _alias(COMMAND_LEVELS)]
PlanKindIn = Annotated[PlanKind, _alias(PLAN_KINDS)]
TaskStatusIn = Annotated[TaskStatus, _alias(TASK_STATUSES)]
RuleKindIn = Annotated[RuleKind, _alias(RULE_KINDS)]
WarningLevelIn = Annotated[WarningLevel, _alias(WARNING_LEVELS)]
IncidentTypeIn = Annotated[IncidentType, _alias(INCIDENT_TYPES)]
IncidentGradeIn = Annotated[IncidentGrade, _alias(INCIDENT_GRADES)]
IncidentSourceIn = Annotated[IncidentSource, _alias(INCIDENT_SOURCES)]
IncidentStatusIn = Annotated[IncidentStatus, _alias(INCIDENT_STATUSES)]
AssignmentStatusIn = Annotated[AssignmentStatus, _alias(ASSIGNMENT_STATUSES)]
RiskCategoryIn = Annotated[RiskCategory, _alias(RISK_CATEGORIES)]
RiskSourceIn = Annotated[RiskSource, _alias(RISK_SOURCES)]
RiskLevelIn = Annotated[RiskLevel, _alias(RISK_LEVELS)]
ApprovalAuthorityIn = Annotated[ApprovalAuthority, _alias(APPROVAL_AUTHORITIES)]
