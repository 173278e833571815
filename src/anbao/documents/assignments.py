"""The assignment list 任务分工表 as a 公文 (ICS 204 style, landscape): per command node, its level,
leader, duties and zones, its units, the posts in its zones and the plan steps it carries out.
"""

from __future__ import annotations

from anbao.core.vocab import COMMAND_LEVELS, POLICE_TYPES
from anbao.documents.common import Record, zh
from anbao.documents.writer import Document, Section, Table


def assignment_list(r: Record) -> Document:
    """ICS 204 style: per command node, its units and the plan steps it carries out."""
    sections = []
    for n in r.nodes:
        units = [u for u in r.units if u.command_node_id == n.id]
        zone_names = {z.id: z.name for z in r.zones}
        zone_codes = {z.id: z.code for z in r.zones}
        tasks = [
            (p.name, s["title"], f"{s['due_min']:g} 分钟内" if s.get("due_min") is not None else "")
            for p in r.plans
            for s in (p.steps or [])
            if (s.get("node_code") == n.code) or (not s.get("node_code") and p.command_node_id == n.id)
        ]
        paras = [f"层级：{zh(COMMAND_LEVELS, n.level)}；负责人：{n.leader or '（未录入）'}。"]
        if n.duties:
            paras.append(f"职责：{n.duties}")
        if n.zone_codes:
            paras.append("责任区域：" + "、".join(n.zone_codes) + "。")
        tables = []
        if units:
            tables.append(
                Table(
                    ("呼号", "单元", "警种", "人数", "装备"),
                    tuple(
                        (
                            u.call_sign,
                            u.name,
                            zh(POLICE_TYPES, u.police_type),
                            str(r.people.get(u.id, 0)),
                            "、".join(u.equipment or []),
                        )
                        for u in units
                    ),
                    caption="力量编成",
                )
            )
        mine = set(n.zone_codes or [])
        mine_posts = [p for p in r.posts if zone_codes.get(p.zone_id or -1) in mine]
        if mine_posts:
            tables.append(
                Table(
                    ("岗位", "区域", "警种", "最少人数", "关键"),
                    tuple(
                        (
                            p.name,
                            zone_names.get(p.zone_id or -1, ""),
                            zh(POLICE_TYPES, p.police_type),
                            str(p.min_staff),
                            "是" if p.critical else "",
                        )
                        for p in mine_posts
                    ),
                    caption="岗位",
                )
            )
        if tasks:
            tables.append(Table(("预案", "任务", "时限"), tuple(tasks), caption="预案任务"))
        sections.append(Section(n.name, tuple(paras), tuple(tables)))
    return Document(
        title=f"{r.event.name}任务分工表",
        subtitle="（按指挥机构，ICS 204）",
        sections=tuple(sections) or (Section("指挥机构", ("尚未建立指挥体系。",)),),
        landscape=True,
        issuer=r.event.organiser or "",
        date=r.today,
        classification="内部",
    )
