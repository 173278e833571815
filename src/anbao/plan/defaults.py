"""Default special plans 专项预案 for a new event: what the default warning rules activate and what
incidents are matched to (their triggers).

They are starting points written the way a 现场指挥部 words them; planners edit them per event.
Steps name command nodes by code (the demo's eight HQ groups); a code the event lacks falls back
to the plan's own node, and that to the event's 指挥部.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.org.models import CommandNode
from anbao.plan import service
from anbao.plan.models import ResponsePlan

Step = dict[str, Any]


def step(title: str, node: str | None, due: float, detail: str = "") -> Step:
    return {"title": title, "detail": detail, "node_code": node, "due_min": due}


#: code, name, kind, node, description, steps
DEFAULT_PLANS: tuple[tuple[str, str, str, str, str, list[Step]], ...] = (
    ("YA-DKL", "大客流应急预案", "crowd", "G-XCAB", "区域密度达到橙色预警时启动：限流、分流、增派警力。", [
        step("视频复核区域人群密度与流向", "G-JSBZ", 2),
        step("暂停相关入口放行，分流至邻近入口", "G-XCAB", 5),
        step("增派机动警力至区域边界疏导，开启备用通道", "G-XCAB", 5),
        step("现场广播引导观众有序流动", "G-ZHXT", 3),
    ]),
    ("YA-SS", "人群疏散预案", "evacuation", "G-YJCT", "区域密度达到红色预警时启动：打开应急出口，组织疏散。", [
        step("打开区域全部应急出口，清除出口障碍", "G-XCAB", 3),
        step("暂停演出，广播疏散指令", "G-ZHXT", 2),
        step("医疗救护组前置至疏散出口", "G-YJCT", 5),
        step("外围交通管制，保障疏散与救护车道畅通", "G-JTGL", 5),
    ]),
    ("YA-XF", "消防安全预案", "fire", "G-YJCT", "烟感达到橙色预警时启动：核查、处置、视情疏散。", [
        step("视频核查烟感报警点位", "G-JSBZ", 1),
        step("消防救援组携灭火器材到场处置", "D-FIRE", 3),
        step("疏散报警点位周边人员并设置警戒", "G-XCAB", 5),
        step("核查并切断相关区域电源", "G-HQBZ", 10),
    ]),
    ("YA-RQ", "燃气泄漏处置预案", "gas", "G-YJCT", "燃气浓度达到橙色预警时启动：关阀、通风、禁火、疏散。", [
        step("关闭相关区域燃气总阀", "G-HQBZ", 3),
        step("设置警戒，禁止一切明火和电器开关操作", "G-XCAB", 3),
        step("消防救援组检测浓度并组织通风", "D-FIRE", 5),
        step("疏散周边人员至上风方向", "G-XCAB", 5),
    ]),
    ("YA-AJ", "安检口拥堵疏导预案", "screening", "G-XCAB", "安检排队等待达到橙色预警时启动：增开通道、分流。", [
        step("增开安检通道，调派备勤安检员", "G-XCAB", 5),
        step("引导排队观众至邻近入口", "G-XCAB", 5),
        step("广播与电子屏发布入场提示", "G-ZHXT", 3),
    ]),
    ("YA-SB", "设备故障保障预案", "equipment", "G-JSBZ", "感知设备离线达到黄色预警时启动：核查、补位。", [
        step("技术保障组核查设备供电与网络", "G-JSBZ", 10),
        step("启用备用设备或派员人工巡查补位", "G-XCAB", 10),
    ]),
    ("YA-YL", "医疗救护预案", "medical", "G-YJCT", "医疗急救警情启动：就近救护、开辟通道、联动 120。", [
        step("医疗救护组携急救器材到场", "D-MED", 3),
        step("现场民警维持秩序，开辟救护通道", "G-XCAB", 3),
        step("需要转运时联系 120，交通组保障救护车通道", "G-JTGL", 5),
    ]),
    ("YA-CT", "应急处突预案", "emergency", "G-YJCT", "打架斗殴（较大及以上）、暴力恐怖警情启动：控制、隔离、取证。", [
        step("特警突击队前出控制现场", "D-QRF", 3),
        step("隔离围观人员，保护现场", "G-XCAB", 5),
        step("调取周边视频，固定证据", "D-VIDEO", 10),
        step("舆情组监测网络动态", "D-CYBER", 15),
    ]),
    ("YA-ZS", "走失儿童查找预案", "other", "G-ZAXL", "走失儿童警情启动：广播、视频查找、出口布控。", [
        step("视频研判组按体貌特征查找", "D-VIDEO", 5),
        step("现场广播寻人，设置集合点", "G-ZHXT", 3),
        step("各出入口留意查找并核验监护人", "G-XCAB", 5),
    ]),
    ("YA-KY", "可疑物品处置预案", "counter_terror", "G-YJCT", "可疑物品警情启动：警戒、疏散、排爆。", [
        step("设置警戒区，疏散周边人员", "G-XCAB", 3),
        step("特警排爆小组到场处置", "D-QRF", 10),
        step("视频回溯物品来源", "D-VIDEO", 10),
    ]),
    ("YA-JT", "交通事故处置预案", "traffic", "G-JTGL", "交通事故警情启动：保护现场、疏导交通、救治伤员。", [
        step("交警到场保护现场，设置警示", "G-JTGL", 5),
        step("疏导过往车辆，保障应急通道", "D-ROAD", 5),
        step("有伤员时通知医疗救护组", "D-MED", 5),
    ]),
)

#: when each default plan fits an incident (incident.matching): type, lowest grade, zone kinds, hours
DEFAULT_TRIGGERS: dict[str, dict[str, Any]] = {
    "YA-DKL": {"incident_types": ["crowd"]},
    "YA-SS": {"incident_types": ["crowd", "fire", "terror"], "min_grade": "major"},
    "YA-XF": {"incident_types": ["fire"]},
    "YA-SB": {"incident_types": ["equipment"]},
    "YA-YL": {"incident_types": ["medical"]},
    "YA-CT": {"incident_types": ["fight", "terror"], "min_grade": "larger"},
    "YA-ZS": {"incident_types": ["lost_child"]},
    "YA-KY": {"incident_types": ["suspicious_item"]},
    "YA-JT": {"incident_types": ["traffic"]},
}


def ensure_defaults(*, db: Session, event_id: int) -> list[ResponsePlan]:
    """Create the default special plans when the event has none (a master plan alone does not count)."""
    if db.execute(select(func.count()).select_from(ResponsePlan).where(ResponsePlan.event_id == event_id,
                                                                        ResponsePlan.kind != "master")).scalar():
        return []
    nodes = dict(db.execute(select(CommandNode.code, CommandNode.id).where(CommandNode.event_id == event_id)).all())
    hq = db.execute(select(CommandNode.id).where(CommandNode.event_id == event_id, CommandNode.level == "hq")
                    ).scalars().first()
    items = []
    for code, name, kind, node, description, steps in DEFAULT_PLANS:
        items.append({"code": code, "name": name, "kind": kind, "command_node_id": nodes.get(node, hq),
                      "description": description, "triggers": DEFAULT_TRIGGERS.get(code, {}),
                      "steps": [{**st, "node_code": st["node_code"] if st["node_code"] in nodes else None}
                                for st in steps]})
    return crud.create_rows(db=db, kind=service.PLANS, event_id=event_id, items=items)
