"""The security work plan 安全工作方案 as a 公文: the nine items of Art. 6 of the 大型群众性活动安全管理条例.

For each item the planner's text of the master plan comes first, then what the record says about it
(units, the capacity calculation, zones, checkpoints, plans); then the regulation check's errors and
warnings. The layout is the writer's (:mod:`anbao.documents.writer`).
"""

from __future__ import annotations

from collections import Counter

from anbao.core.vocab import COMMAND_LEVELS, EVENT_KINDS, GATE_KINDS, PLAN_KINDS, POLICE_TYPES, ZONE_KINDS
from anbao.documents.common import Record, written, zh
from anbao.documents.writer import Document, Section, Table
from anbao.plan import regulation
from anbao.plan.schemas import ART6_ITEMS


def _record_paragraphs(r: Record, key: str) -> tuple[list[str], list[Table]]:
    """What the record says about one Art. 6 item."""
    e = r.event
    paras: list[str] = []
    tables: list[Table] = []
    if key == "overview":
        paras.append(f"活动名称：{e.name}（{zh(EVENT_KINDS, e.kind)}）；承办单位：{e.organiser or '（未录入）'}。")
        if e.sessions:
            tables.append(
                Table(
                    ("场次", "开始", "结束"),
                    tuple(
                        (s.label or f"第{i}场", r.local(s.start), r.local(s.end)) for i, s in enumerate(e.sessions, 1)
                    ),
                    caption="活动场次",
                )
            )
        if e.description:
            paras.append(e.description)
    elif key == "staffing":
        persons = sum(r.people.get(u.id, 0) for u in r.units)
        by_type = Counter(zh(POLICE_TYPES, u.police_type) for u in r.units)
        paras.append(
            f"共编组执勤单元 {len(r.units)} 个、安保人员 {persons} 名，其中"
            + "、".join(f"{k} {v} 个单元" for k, v in by_type.most_common())
            + "。"
            if r.units
            else "尚未编组执勤单元。"
        )
        rows = []
        for n in r.nodes:
            mine = [u for u in r.units if u.command_node_id == n.id]
            rows.append(
                (
                    n.name,
                    zh(COMMAND_LEVELS, n.level),
                    n.leader or "",
                    str(len(mine)),
                    str(sum(r.people.get(u.id, 0) for u in mine)),
                    n.duties or "",
                )
            )
        if rows:
            tables.append(
                Table(
                    ("指挥机构", "层级", "负责人", "单元数", "人数", "职责"), tuple(rows), caption="指挥体系与任务分配"
                )
            )
    elif key == "fire":
        paras += [f"{p.name}：{p.description}" for p in r.specials if p.kind in ("fire", "gas")]
        v = (r.capacity or {}).get("venue") or {}
        through = [x for x in v.get("exits") or [] if x.get("width_m")]
        if through and v.get("exit_flow_per_min"):
            # the same exits and widths as the capacity calculation (item four): one source for each number
            paras.append(
                f"场馆疏散以出场瓶颈处的 {len(through)} 个出口计，总宽 {sum(x['width_m'] for x in through):g} 米，"
                f"每分钟可通行 {v['exit_flow_per_min']:g} 人（见容量核定），活动期间保持畅通。"
            )
        else:
            exits = [g for g in r.gates if g.kind == "exit"]
            if exits:
                paras.append(
                    f"设置疏散出口 {len(exits)} 个，总宽 {sum(g.width_m for g in exits):g} 米，活动期间保持畅通。"
                )
    elif key == "capacity":
        v = (r.capacity or {}).get("venue")
        if v and v.get("safe_capacity") is not None:
            paras.append(
                f"按容量核定方法计算，场馆安全容量为 {v['safe_capacity']} 人（受{v['limiting_zh']}限制）；"
                f"预计每场参加 {e.expected_attendance} 人，核定 {e.approved_attendance or '（未录入）'} 人。"
            )
            paras += list(v["steps"])
            zones = [z for z in (r.capacity or {}).get("zones", []) if z.get("safe_capacity") is not None]
            if zones:
                tables.append(
                    Table(
                        ("区域", "容纳依据", "容纳能力", "入场能力", "疏散能力", "应急疏散能力", "安全容量",
                         "限制因素"),
                        tuple(
                            (
                                z["name"],
                                z.get("holding_basis") or "",
                                *(
                                    str(z[k]) if z[k] is not None else "—"
                                    for k in ("holding", "entry", "exit", "emergency", "safe_capacity")
                                ),
                                z["limiting_zh"] or "",
                            )
                            for z in zones
                        ),
                        caption="各区域容量核定",
                    )
                )
        elif r.capacity_error or v:
            paras.append(f"场馆安全容量暂无法核定：{r.capacity_error or (v or {}).get('error')}")
    elif key == "buffer":
        buffers = [z for z in r.zones if z.ring == 2]
        if buffers:
            tables.append(
                Table(
                    ("区域", "类型", "面积（平方米）"),
                    tuple((z.name, zh(ZONE_KINDS, z.kind), f"{z.area_m2:.0f}") for z in buffers),
                    caption="治安缓冲区域",
                )
            )
    elif key == "screening":
        points = [g for g in r.gates if g.kind in ("checkpoint", "gate")]
        if points:
            lanes = sum(g.lanes for g in points if g.kind == "checkpoint")
            paras.append(
                f"设置安检口 {sum(1 for g in points if g.kind == 'checkpoint')} 个（通道 {lanes} 条）、"
                f"检票入口 {sum(1 for g in points if g.kind == 'gate')} 个。"
            )
            tables.append(
                Table(
                    ("编号", "名称", "类型", "通道数", "宽度（米）"),
                    tuple((g.code, g.name, zh(GATE_KINDS, g.kind), str(g.lanes), f"{g.width_m:g}") for g in points),
                    caption="票证查验与安全检查点位",
                )
            )
    elif key == "traffic":
        paras += [f"{p.name}：{p.description}" for p in r.specials if p.kind == "traffic"]
        parking = [z for z in r.zones if z.kind == "parking"]
        if parking:
            paras.append("停车区：" + "、".join(z.name for z in parking) + "。")
    elif key == "order":
        if r.posts:
            by_zone = Counter(p.zone_id for p in r.posts)
            names = {z.id: z.name for z in r.zones}
            paras.append(
                f"设置执勤岗位 {len(r.posts)} 个，最少在岗 {sum(p.min_staff for p in r.posts)} 人，其中关键岗位 "
                f"{sum(1 for p in r.posts if p.critical)} 个。"
            )
            tables.append(
                Table(
                    ("区域", "岗位数"),
                    tuple((names.get(zid or -1, "（未分区）"), str(n)) for zid, n in by_zone.most_common()),
                    caption="岗位分布",
                )
            )
        paras += [f"{p.name}：{p.description}" for p in r.specials if p.kind in ("crowd", "screening")]
    elif key == "emergency" and r.specials:
        tables.append(
            Table(
                ("编号", "预案", "类别", "负责机构", "处置步骤"),
                tuple(
                    (
                        p.code,
                        p.name,
                        zh(PLAN_KINDS, p.kind),
                        r.node_name.get(p.command_node_id or -1, ""),
                        str(len(p.steps or [])),
                    )
                    for p in r.specials
                ),
                caption="专项预案",
            )
        )
    return paras, tables


def work_plan(r: Record) -> Document:
    """The work plan of the record's event."""
    e = r.event
    master = r.master
    sections = []
    for key, (_num, title) in ART6_ITEMS.items():
        own = written((master.sections or {}).get(key) if master else None)
        paras, tables = _record_paragraphs(r, key)
        sections.append(Section(title, tuple(own + paras) or ("（待补充）",), tuple(tables)))
    findings = [
        f for f in regulation.check(regulation.facts(db=r.db, event_id=e.id)) if f.severity in ("error", "warning")
    ]
    if findings:
        sections.append(Section("合规检查提示", tuple(f"{f.article}：{f.message}。{f.hint}" for f in findings)))
    pre = [f"为确保{e.name}安全顺利举办，根据《大型群众性活动安全管理条例》，制定本方案。"]
    if master and master.description:
        pre.append(master.description)
    return Document(
        title=f"{e.name}安全工作方案",
        sections=tuple(sections),
        preamble=tuple(pre),
        issuer=e.organiser or "",
        date=r.today,
        classification="内部",
        attachments=tuple(p.name for p in r.specials),
    )
