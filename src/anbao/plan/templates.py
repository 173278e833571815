"""Plan templates 预案模板 for the "1+N" plan system: one master plan and N special plans.

The built-in templates are written into the ``plan_template`` table the first time templates are read
(planners then edit them, or add their own); a plan is started from a template with
:func:`instantiate`, which resolves the template's command-node codes in the event. The master plan's
sections follow the nine items of Art. 6; where the template cannot know the event it leaves
:data:`~anbao.plan.schemas.TO_FILL` and a hint, which the regulation check reports as not written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.errors import Conflict, Invalid, NotFound
from anbao.org.models import CommandNode
from anbao.plan import service
from anbao.plan.defaults import DEFAULT_PLANS, DEFAULT_TRIGGERS, Step, step
from anbao.plan.models import PlanTemplate, ResponsePlan
from anbao.plan.schemas import TO_FILL, TemplateContent


def _eq(*items: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": n, "quantity": q, "note": ""} for n, q in items]


def _p(name: str, role: str) -> dict[str, Any]:
    return {"name": name, "role": role, "contact": ""}


MASTER_SECTIONS = {
    "overview": f"{TO_FILL}活动名称、时间（各场次）、地点、主要内容、主办与承办单位、组织方式。",
    "staffing": f"{TO_FILL}安保工作人员总数（公安、保安、志愿者），按指挥部—分指挥部—执勤组的任务分配，"
                "各类人员的识别标志（证件、袖标、服装颜色）。",
    "fire": f"{TO_FILL}消防设施检查、疏散通道与安全出口畅通、临建设施和舞台用电防火、消防力量前置点位。",
    "capacity": f"{TO_FILL}场所核定容量（按容量核定计算）、各区域容量、预计参加人数及售票数量。",
    "buffer": f"{TO_FILL}核心区、缓冲区、外围区的划定，治安缓冲区域的范围、隔离设施和标识。",
    "screening": f"{TO_FILL}票证查验方式（实名制、一人一票一证）、安检口设置、安检通道数量、禁带物品。",
    "traffic": f"{TO_FILL}停车场设置、社会车辆与专用车辆停放、交通管制路段与时段、公共交通接驳。",
    "order": f"{TO_FILL}入场、演出、散场各阶段秩序维护，人员疏导路线，分批散场安排。",
    "emergency": f"{TO_FILL}应急指挥体系，各专项预案清单（见附件），应急疏散路线与集结区，救援力量部署。",
}

#: special plans that the defaults (warning rules, incident matching) do not already provide
EXTRA_SPECIALS: tuple[tuple[str, str, str, str, str, list[Step]], ...] = (
    ("TPL-JTSD", "交通疏导专项预案", "traffic", "G-JTGL",
     "散场高峰或周边道路拥堵时启动：分时分流、公交接驳、管制。", [
        step("启动周边道路交通管制，封闭临时管制路段", "G-JTGL", 10),
        step("协调地铁、公交加开班次并延时运营", "G-JTGL", 15),
        step("停车场出口分批放行，引导车辆绕行", "D-ROAD", 10),
        step("现场广播与电子屏发布交通提示", "G-ZHXT", 5),
    ]),
    ("TPL-FKFB", "反恐防暴专项预案", "counter_terror", "G-YJCT",
     "发现暴力恐怖袭击或重大威胁时启动：处置、封控、救援。", [
        step("特警突击队前出处置，控制嫌疑人", "D-QRF", 3),
        step("封控现场周边出入口，防止次生袭击", "G-XCAB", 5),
        step("组织受威胁区域人员疏散", "G-XCAB", 5),
        step("医疗救护组在安全区域集结待命", "G-YJCT", 10),
        step("统一口径，舆情组发布权威信息", "D-CYBER", 30),
    ]),
    ("TPL-YQ", "舆情应对专项预案", "public_opinion", "D-CYBER",
     "网络出现与活动有关的负面舆情或谣言时启动：研判、核实、发布。", [
        step("网安组研判舆情热度与来源", "D-CYBER", 15),
        step("现场核实有关情况并报告指挥部", "G-XCAB", 20),
        step("按指挥部审定口径发布情况通报", "G-ZHXT", 60),
    ]),
    ("TPL-EQTQ", "恶劣天气专项预案", "weather", "G-HQBZ",
     "暴雨、雷电、大风、高温等预警发布时启动：加固、避险、视情停演。", [
        step("检查并加固舞台、灯架、广告牌等临建设施", "G-HQBZ", 30),
        step("雷电大风时暂停演出，引导观众至避险区域", "G-ZHXT", 5),
        step("高温时增设饮水点与医疗点", "G-YJCT", 30),
        step("视情启动人群疏散预案", "G-YJCT", 10),
    ]),
)

EQUIPMENT: dict[str, list[dict[str, Any]]] = {
    "crowd": _eq(("隔离护栏（组）", 200), ("手持扩音器", 40), ("移动照明灯", 10)),
    "evacuation": _eq(("应急照明灯", 40), ("疏散指示牌", 60), ("手持扩音器", 40), ("担架", 10)),
    "fire": _eq(("灭火器", 120), ("消防车", 2), ("防烟面罩", 200)),
    "gas": _eq(("可燃气体检测仪", 4), ("防爆排风机", 2)),
    "medical": _eq(("救护车", 4), ("担架", 20), ("自动体外除颤器 AED", 12), ("急救箱", 30)),
    "counter_terror": _eq(("防暴盾牌", 60), ("防暴叉", 30), ("排爆罐", 1), ("防爆毯", 4)),
    "emergency": _eq(("防暴盾牌", 40), ("警戒带（卷）", 50), ("执法记录仪", 80)),
    "traffic": _eq(("反光锥", 300), ("交通指挥棒", 60), ("移动护栏（组）", 100)),
    "weather": _eq(("雨衣", 500), ("沙袋", 300), ("遮阳棚", 10)),
    "screening": _eq(("安检门", 20), ("手持金属探测器", 60), ("X 光安检机", 6)),
    "equipment": _eq(("备用摄像机", 6), ("移动电源车", 1), ("对讲机", 50)),
}
PARTNERS: dict[str, list[dict[str, Any]]] = {
    "medical": [_p("市急救中心（120）", "院前急救与伤员转运"), _p("定点医院", "伤员收治")],
    "fire": [_p("消防救援支队", "火灾扑救与抢险救援")],
    "gas": [_p("燃气公司", "关阀抢修"), _p("消防救援支队", "检测与通风")],
    "evacuation": [_p("场馆运营方", "开启应急出口、广播"), _p("市急救中心（120）", "伤员救治")],
    "traffic": [_p("地铁运营公司", "加开班次、延时运营"), _p("公交集团", "接驳专线")],
    "weather": [_p("气象台", "天气预警与临近预报"), _p("场馆运营方", "临建设施加固")],
    "public_opinion": [_p("宣传部门", "审定口径、统一发布"), _p("网信部门", "网络信息处置")],
    "counter_terror": [_p("武警支队", "武装处置与外围封控"), _p("市急救中心（120）", "伤员救治")],
    "equipment": [_p("供电公司", "保供电"), _p("通信运营商", "通信保障")],
}


def builtin_templates() -> list[dict[str, Any]]:
    """The built-in templates: the master plan, then every special plan, as ``{code, content}``."""
    out: list[dict[str, Any]] = [{"code": "TPL-ZT", "content": {
        "name": "总体安保方案", "kind": "master", "node_code": "HQ",
        "description": "根据《大型群众性活动安全管理条例》第六条编制的安全工作方案，统领各专项预案。",
        "steps": [], "sections": dict(MASTER_SECTIONS),
        "equipment": _eq(("对讲机", 300), ("执法记录仪", 200), ("无人机", 4)),
        "partners": [_p("活动承办单位", "落实安全责任，配备保安与志愿者"), _p("场馆运营方", "场地设施与消防安全"),
                     _p("市急救中心（120）", "医疗保障"), _p("消防救援支队", "消防保障")]}}]
    for code, name, kind, node, description, steps in (*DEFAULT_PLANS, *EXTRA_SPECIALS):
        out.append({"code": code if code.startswith("TPL-") else "TPL-" + code.removeprefix("YA-"), "content": {
            "name": name, "kind": kind, "node_code": node, "description": description, "steps": steps,
            "triggers": DEFAULT_TRIGGERS.get(code, {}), "equipment": EQUIPMENT.get(kind, []),
            "partners": PARTNERS.get(kind, [])}})
    return out


def _checked(content: dict[str, Any]) -> dict[str, Any]:
    return TemplateContent.model_validate(content).model_dump(mode="json")


def ensure_builtins(*, db: Session) -> None:
    """Write the built-in templates that are not in the table yet (a lost race just uses the winner's)."""
    have = set(db.execute(select(PlanTemplate.code)).scalars())
    missing = [t for t in builtin_templates() if t["code"] not in have]
    if not missing:
        return
    try:
        with db.begin_nested():
            for t in missing:
                c = _checked(t["content"])
                db.add(PlanTemplate(code=t["code"], name=c["name"], kind=c["kind"], content=c, builtin=True))
            db.flush()
    except IntegrityError:
        pass


def list_templates(*, db: Session) -> list[PlanTemplate]:
    ensure_builtins(db=db)
    return list(db.execute(select(PlanTemplate).order_by(PlanTemplate.code)).scalars())


def get(*, db: Session, code: str) -> PlanTemplate:
    ensure_builtins(db=db)
    row = db.execute(select(PlanTemplate).where(PlanTemplate.code == code)).scalars().first()
    if row is None:
        raise NotFound(f"plan template {code!r} not found")
    return row


def create(*, db: Session, code: str, content: dict[str, Any]) -> PlanTemplate:
    ensure_builtins(db=db)
    if db.execute(select(PlanTemplate.id).where(PlanTemplate.code == code)).first() is not None:
        raise Invalid(f"plan template {code!r} already exists", loc=["body", "code"])
    c = _checked(content)
    row = PlanTemplate(code=code, name=c["name"], kind=c["kind"], content=c, builtin=False)
    db.add(row)
    db.flush()
    return row


def update(*, db: Session, row: PlanTemplate, content: dict[str, Any]) -> PlanTemplate:
    c = _checked(content)
    row.content, row.name, row.kind = c, c["name"], c["kind"]
    db.flush()
    return row


def delete(*, db: Session, row: PlanTemplate) -> None:
    if row.builtin:
        raise Conflict(f"plan template {row.code!r} is built in: edit it instead of deleting it")
    db.delete(row)
    db.flush()


def instantiate(*, db: Session, event_id: int, template: PlanTemplate, code: str,
                name: str | None = None) -> ResponsePlan:
    """A new plan of the event from ``template``: node codes the event lacks fall back as the defaults do."""
    c = TemplateContent.model_validate(template.content)
    nodes = dict(db.execute(select(CommandNode.code, CommandNode.id).where(CommandNode.event_id == event_id)).all())
    hq = db.execute(select(CommandNode.id).where(CommandNode.event_id == event_id, CommandNode.level == "hq")
                    ).scalars().first()
    data = c.model_dump(mode="json", exclude={"node_code"})
    data["steps"] = [{**st, "node_code": st["node_code"] if st["node_code"] in nodes else None} for st in data["steps"]]
    row: ResponsePlan = crud.create_row(db=db, kind=service.PLANS, event_id=event_id, data={
        **data, "code": code, "name": name or c.name, "command_node_id": nodes.get(c.node_code or "", hq),
        "template": template.code})
    return row
