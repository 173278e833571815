"""Default special plans 专项预案 for a new event: what the default warning rules activate.

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


def _s(title: str, node: str | None, due: float, detail: str = "") -> Step:
    return {"title": title, "detail": detail, "node_code": node, "due_min": due}


#: code, name, kind, node, description, steps
DEFAULT_PLANS: tuple[tuple[str, str, str, str, str, list[Step]], ...] = (
    ("YA-DKL", "大客流应急预案", "crowd", "G-XCAB", "区域密度达到橙色预警时启动：限流、分流、增派警力。", [
        _s("视频复核区域人群密度与流向", "G-JSBZ", 2),
        _s("暂停相关入口放行，分流至邻近入口", "G-XCAB", 5),
        _s("增派机动警力至区域边界疏导，开启备用通道", "G-XCAB", 5),
        _s("现场广播引导观众有序流动", "G-ZHXT", 3),
    ]),
    ("YA-SS", "人群疏散预案", "evacuation", "G-YJCT", "区域密度达到红色预警时启动：打开应急出口，组织疏散。", [
        _s("打开区域全部应急出口，清除出口障碍", "G-XCAB", 3),
        _s("暂停演出，广播疏散指令", "G-ZHXT", 2),
        _s("医疗救护组前置至疏散出口", "G-YJCT", 5),
        _s("外围交通管制，保障疏散与救护车道畅通", "G-JTGL", 5),
    ]),
    ("YA-XF", "消防安全预案", "fire", "G-YJCT", "烟感达到橙色预警时启动：核查、处置、视情疏散。", [
        _s("视频核查烟感报警点位", "G-JSBZ", 1),
        _s("消防救援组携灭火器材到场处置", "D-FIRE", 3),
        _s("疏散报警点位周边人员并设置警戒", "G-XCAB", 5),
        _s("核查并切断相关区域电源", "G-HQBZ", 10),
    ]),
    ("YA-RQ", "燃气泄漏处置预案", "gas", "G-YJCT", "燃气浓度达到橙色预警时启动：关阀、通风、禁火、疏散。", [
        _s("关闭相关区域燃气总阀", "G-HQBZ", 3),
        _s("设置警戒，禁止一切明火和电器开关操作", "G-XCAB", 3),
        _s("消防救援组检测浓度并组织通风", "D-FIRE", 5),
        _s("疏散周边人员至上风方向", "G-XCAB", 5),
    ]),
    ("YA-AJ", "安检口拥堵疏导预案", "screening", "G-XCAB", "安检排队等待达到橙色预警时启动：增开通道、分流。", [
        _s("增开安检通道，调派备勤安检员", "G-XCAB", 5),
        _s("引导排队观众至邻近入口", "G-XCAB", 5),
        _s("广播与电子屏发布入场提示", "G-ZHXT", 3),
    ]),
    ("YA-SB", "设备故障保障预案", "equipment", "G-JSBZ", "感知设备离线达到黄色预警时启动：核查、补位。", [
        _s("技术保障组核查设备供电与网络", "G-JSBZ", 10),
        _s("启用备用设备或派员人工巡查补位", "G-XCAB", 10),
    ]),
)


def ensure_defaults(*, db: Session, event_id: int) -> list[ResponsePlan]:
    """Create the default plans when the event has no plan at all; return what was created."""
    if db.execute(select(func.count()).select_from(ResponsePlan).where(ResponsePlan.event_id == event_id)).scalar():
        return []
    nodes = dict(db.execute(select(CommandNode.code, CommandNode.id).where(CommandNode.event_id == event_id)).all())
    hq = db.execute(select(CommandNode.id).where(CommandNode.event_id == event_id, CommandNode.level == "hq")
                    ).scalars().first()
    items = []
    for code, name, kind, node, description, steps in DEFAULT_PLANS:
        items.append({"code": code, "name": name, "kind": kind, "command_node_id": nodes.get(node, hq),
                      "description": description,
                      "steps": [{**st, "node_code": st["node_code"] if st["node_code"] in nodes else None}
                                for st in steps]})
    return crud.create_rows(db=db, kind=service.PLANS, event_id=event_id, items=items)
