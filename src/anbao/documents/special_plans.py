"""A special plan 专项预案 as a 公文: scope and triggers, command, response steps, forces, equipment,
partner agencies, map references and evacuation routes, from one response plan of the record.

The triggers are written out from the plan's own conditions and the warning rules that activate it.
"""

from __future__ import annotations

from anbao.core.vocab import INCIDENT_GRADES, INCIDENT_TYPES, POLICE_TYPES, RULE_KINDS, WARNING_LEVELS, ZONE_KINDS
from anbao.documents.common import Record, zh
from anbao.documents.writer import Document, Section, Table
from anbao.plan.models import ResponsePlan


def special_plan(r: Record, p: ResponsePlan) -> Document:
    """The special plan ``p`` of the record's event."""
    t = p.triggers or {}
    cond = []
    if t.get("incident_types"):
        cond.append("警情类型：" + "、".join(zh(INCIDENT_TYPES, x) for x in t["incident_types"]))
    if t.get("min_grade"):
        cond.append(f"等级不低于{zh(INCIDENT_GRADES, t['min_grade'])}")
    if t.get("zone_kinds"):
        cond.append("区域类型：" + "、".join(zh(ZONE_KINDS, x) for x in t["zone_kinds"]))
    if t.get("hours"):
        cond.append(f"时段：{t['hours'][0]} 时至 {t['hours'][1]} 时")
    for rule in r.rules:
        for level, code in (rule.plans or {}).items():
            if code == p.code:
                cond.append(
                    f"{zh(RULE_KINDS, rule.kind)}达到{zh(WARNING_LEVELS, level)}预警"
                    + (f"（{zh(ZONE_KINDS, rule.zone_kind)}）" if rule.zone_kind else "")
                )
    steps = tuple(
        (
            str(i),
            s["title"],
            s.get("detail", ""),
            r.node_by_code[s["node_code"]].name
            if s.get("node_code") in r.node_by_code
            else r.node_name.get(p.command_node_id or -1, ""),
            f"{s['due_min']:g} 分钟内" if s.get("due_min") is not None else "",
        )
        for i, s in enumerate(p.steps or [], 1)
    )
    units = [u for u in r.units if u.id in set(p.unit_ids or [])]
    sections = [
        Section("适用范围与启动条件", (p.description or "（待补充）", *(c + "时启动。" for c in cond))),
        Section("指挥与职责", (f"由{r.node_name.get(p.command_node_id or -1, '指挥部')}负责组织实施。",)),
        Section(
            "处置流程",
            () if steps else ("（待补充）",),
            (Table(("序号", "步骤", "说明", "负责", "时限"), steps),) if steps else (),
        ),
        Section(
            "参战力量",
            () if units else ("按指挥部调度。",),
            (
                Table(
                    ("呼号", "单元", "警种", "人数"),
                    tuple(
                        (u.call_sign, u.name, zh(POLICE_TYPES, u.police_type), str(r.people.get(u.id, 0)))
                        for u in units
                    ),
                ),
            )
            if units
            else (),
        ),
        Section(
            "装备物资",
            () if p.equipment else ("（无）",),
            (
                Table(
                    ("装备物资", "数量", "备注"),
                    tuple((x["name"], str(x.get("quantity", "")), x.get("note", "")) for x in p.equipment),
                ),
            )
            if p.equipment
            else (),
        ),
        Section(
            "协作单位",
            () if p.partners else ("（无）",),
            (
                Table(
                    ("单位", "职责", "联系方式"),
                    tuple((x["name"], x.get("role", ""), x.get("contact", "")) for x in p.partners),
                ),
            )
            if p.partners
            else (),
        ),
    ]
    refs = p.map_refs or {}
    routes = p.evacuation_routes or []
    if refs.get("zones") or refs.get("routes") or routes:
        paras = []
        if refs.get("zones"):
            paras.append("涉及区域：" + "、".join(refs["zones"]) + "。")
        paras += [f"{x['name']}。{x.get('note', '')}" for x in refs.get("routes", [])]
        rows = tuple(
            (x["name"], "、".join(x.get("from_zones", [])), "、".join(x.get("exits", [])), x.get("to_zone") or "")
            for x in routes
        )
        sections.append(
            Section(
                "地图标注与疏散路线",
                tuple(paras),
                (Table(("路线", "疏散区域", "出口", "集结区"), rows),) if rows else (),
            )
        )
    return Document(
        title=f"{r.event.name}{p.name}",
        sections=tuple(sections),
        issuer=r.event.organiser or "",
        date=r.today,
        classification="内部",
    )
