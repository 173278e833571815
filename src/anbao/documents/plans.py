"""Planning documents as DOCX 方案文书: the security work plan, each special plan, the risk assessment
report and the ICS-style assignment list per command node (ICS 204), written from the record.

The layout is the official-document writer's (:mod:`anbao.documents.writer`); this module only decides
what goes in. The work plan follows the nine items of Art. 6: the planner's text for an item first,
then what the record says about it (units, the capacity calculation, zones, checkpoints, plans).
Personal data stays out: units are counted, people are not named.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.alert.models import WarningRule
from anbao.core.errors import AnBaoError, NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import (
    COMMAND_LEVELS,
    EVENT_KINDS,
    GATE_KINDS,
    INCIDENT_GRADES,
    INCIDENT_TYPES,
    PLAN_KINDS,
    POLICE_TYPES,
    RISK_CATEGORIES,
    RISK_LEVELS,
    RISK_SOURCES,
    RULE_KINDS,
    WARNING_LEVELS,
    ZONE_KINDS,
)
from anbao.crowd import capacity
from anbao.documents.writer import Document, Section, Table, render
from anbao.event.models import Event
from anbao.org.models import CommandNode, Person, Unit
from anbao.plan import regulation
from anbao.plan.models import ResponsePlan
from anbao.plan.schemas import ART6_ITEMS, TO_FILL
from anbao.risk import service as risks
from anbao.venue.models import Gate, Post, Zone


def _zh(vocab: dict[str, tuple[str, str]], code: str | None) -> str:
    return vocab.get(code or "", (code or "", ""))[0]


@dataclass(frozen=True)
class Doc:
    """One document to export: its file name (without .docx), its title, and how to build it."""

    name: str
    title: str
    build: Callable[[], Document]


class _Record:
    """What the documents read from the database, loaded once."""

    def __init__(self, db: Session, event_id: int) -> None:
        event = db.get(Event, event_id)
        if event is None:
            raise NotFound(f"event {event_id} not found")
        self.db, self.event = db, event
        self.tz = ZoneInfo(event.timezone)
        self.plans = list(
            db.execute(
                select(ResponsePlan).where(ResponsePlan.event_id == event_id).order_by(ResponsePlan.code)
            ).scalars()
        )
        self.nodes = list(
            db.execute(select(CommandNode).where(CommandNode.event_id == event_id).order_by(CommandNode.code)).scalars()
        )
        self.units = list(db.execute(select(Unit).where(Unit.event_id == event_id).order_by(Unit.code)).scalars())
        self.people = dict(
            db.execute(
                select(Person.unit_id, func.count()).where(Person.event_id == event_id).group_by(Person.unit_id)
            ).all()
        )
        self.zones = list(
            db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.ring, Zone.code)).scalars()
        )
        self.gates = list(db.execute(select(Gate).where(Gate.event_id == event_id).order_by(Gate.code)).scalars())
        self.posts = list(db.execute(select(Post).where(Post.event_id == event_id).order_by(Post.code)).scalars())
        self.rules = list(db.execute(select(WarningRule).where(WarningRule.event_id == event_id)).scalars())
        try:
            self.capacity: dict[str, Any] | None = capacity.compute(db=db, event_id=event_id)
            self.capacity_error = ""
        except AnBaoError as exc:
            self.capacity, self.capacity_error = None, exc.message
        self.today = utcnow().astimezone(self.tz).date()
        self.node_name = {n.id: n.name for n in self.nodes}
        self.node_by_code = {n.code: n for n in self.nodes}

    @property
    def master(self) -> ResponsePlan | None:
        return next((p for p in self.plans if p.kind == "master"), None)

    @property
    def specials(self) -> list[ResponsePlan]:
        return [p for p in self.plans if p.kind != "master"]

    def local(self, when: Any) -> str:
        return when.astimezone(self.tz).strftime("%Y年%m月%d日 %H:%M")


def _written(text: str | None) -> list[str]:
    if not text or TO_FILL in text:
        return []
    return [p.strip() for p in text.splitlines() if p.strip()]


def _record_paragraphs(r: _Record, key: str) -> tuple[list[str], list[Table]]:
    """What the record says about one Art. 6 item."""
    e = r.event
    paras: list[str] = []
    tables: list[Table] = []
    if key == "overview":
        paras.append(f"活动名称：{e.name}（{_zh(EVENT_KINDS, e.kind)}）；承办单位：{e.organiser or '（未录入）'}。")
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
        by_type = Counter(_zh(POLICE_TYPES, u.police_type) for u in r.units)
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
                    _zh(COMMAND_LEVELS, n.level),
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
        exits = [g for g in r.gates if g.kind == "exit"]
        if exits:
            paras.append(f"设置疏散出口 {len(exits)} 个，总宽 {sum(g.width_m for g in exits):g} 米，活动期间保持畅通。")
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
                        ("区域", "容纳能力", "入场能力", "疏散能力", "应急疏散能力", "安全容量", "限制因素"),
                        tuple(
                            (
                                z["name"],
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
                    tuple((z.name, _zh(ZONE_KINDS, z.kind), f"{z.area_m2:.0f}") for z in buffers),
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
                    tuple((g.code, g.name, _zh(GATE_KINDS, g.kind), str(g.lanes), f"{g.width_m:g}") for g in points),
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
                        _zh(PLAN_KINDS, p.kind),
                        r.node_name.get(p.command_node_id or -1, ""),
                        str(len(p.steps or [])),
                    )
                    for p in r.specials
                ),
                caption="专项预案",
            )
        )
    return paras, tables


def work_plan(r: _Record) -> Document:
    e = r.event
    master = r.master
    sections = []
    for key, (_num, title) in ART6_ITEMS.items():
        own = _written((master.sections or {}).get(key) if master else None)
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


def special_plan(r: _Record, p: ResponsePlan) -> Document:
    t = p.triggers or {}
    cond = []
    if t.get("incident_types"):
        cond.append("警情类型：" + "、".join(_zh(INCIDENT_TYPES, x) for x in t["incident_types"]))
    if t.get("min_grade"):
        cond.append(f"等级不低于{_zh(INCIDENT_GRADES, t['min_grade'])}")
    if t.get("zone_kinds"):
        cond.append("区域类型：" + "、".join(_zh(ZONE_KINDS, x) for x in t["zone_kinds"]))
    if t.get("hours"):
        cond.append(f"时段：{t['hours'][0]} 时至 {t['hours'][1]} 时")
    for rule in r.rules:
        for level, code in (rule.plans or {}).items():
            if code == p.code:
                cond.append(
                    f"{_zh(RULE_KINDS, rule.kind)}达到{_zh(WARNING_LEVELS, level)}预警"
                    + (f"（{_zh(ZONE_KINDS, rule.zone_kind)}）" if rule.zone_kind else "")
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
                        (u.call_sign, u.name, _zh(POLICE_TYPES, u.police_type), str(r.people.get(u.id, 0)))
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


def risk_report(r: _Record) -> Document:
    assessed = risks.assess(db=r.db, event_id=r.event.id)
    m, spread, gap = risks.matrix(db=r.db, event_id=r.event.id)
    rows = risks.matrix_rows(m)
    matrix = Table(
        ("可能性＼后果", "1", "2", "3", "4", "5"),
        tuple((str(li), *(_zh(RISK_LEVELS, c) for c in rows[li - 1])) for li in range(5, 0, -1)),
        caption="风险矩阵",
    )
    method = (
        f"依据 GB/T 33170.1，按可能性和后果严重程度（各 1—5 分）评定风险，由风险矩阵确定低、中、高、极高四级。"
        f"专家独立打分，取中位数；任一维度评分相差 {spread} 分及以上或专家评定等级相差 {gap} 级及以上的，"
        "列为意见分歧，组织专家会商。",
    )

    def agg(a: dict[str, Any], key: str) -> str:
        return str(a["aggregate"][key]) if a["aggregate"] else "—"

    register = Table(
        ("编号", "风险", "类别", "来源", "专家数", "可能性", "后果", "风险等级"),
        tuple(
            (
                a["code"],
                a["name"],
                _zh(RISK_CATEGORIES, a["category"]),
                _zh(RISK_SOURCES, a["source"]),
                agg(a, "n"),
                agg(a, "likelihood"),
                agg(a, "impact"),
                _zh(RISK_LEVELS, a["aggregate"]["level"]) if a["aggregate"] else "未评",
            )
            for a in assessed
        ),
        caption="风险清单",
    )
    split = [
        f"{a['code']} {a['name']}：{a['aggregate']['reason']}"
        for a in assessed
        if a["aggregate"] and a["aggregate"]["disagreement"]
    ]
    controls = Table(
        ("编号", "风险", "管控措施", "责任单位", "剩余风险"),
        tuple(
            (
                a["code"],
                a["name"],
                "；".join(c["measure"] for c in a["controls"]) or "（未制定）",
                "、".join(sorted({c.get("owner", "") for c in a["controls"] if c.get("owner")})),
                _zh(RISK_LEVELS, a["residual_level"]) if a["residual_level"] else "未评",
            )
            for a in assessed
        ),
        caption="管控措施与剩余风险",
    )
    zone_rows = tuple(
        (z["code"], z["name"], _zh(RISK_LEVELS, z["level"]), "、".join(z["risks"]))
        for z in risks.zone_levels(db=r.db, event_id=r.event.id)
        if z["level"]
    )
    counts = Counter(a["level"] for a in assessed if a["level"])
    summary = (
        (
            f"共识别风险 {len(assessed)} 项，其中"
            + "、".join(
                f"{_zh(RISK_LEVELS, lv)}风险 {counts[lv]} 项"
                for lv in ("extreme", "high", "medium", "low")
                if counts[lv]
            )
            + "。"
        )
        if counts
        else f"共识别风险 {len(assessed)} 项，尚未评分。"
    )
    return Document(
        title=f"{r.event.name}安全风险评估报告",
        preamble=(summary,),
        sections=(
            Section("评估依据与方法", method, (matrix,)),
            Section("风险清单", () if assessed else ("（尚未识别风险）",), (register,) if assessed else ()),
            Section("专家意见分歧", tuple(split) or ("专家意见一致，无需会商。",)),
            Section("管控措施与剩余风险", () if assessed else ("（无）",), (controls,) if assessed else ()),
            Section(
                "区域风险等级",
                () if zone_rows else ("（尚无区域关联的已评风险）",),
                (Table(("区域编号", "区域", "风险等级", "相关风险"), zone_rows),) if zone_rows else (),
            ),
        ),
        issuer=r.event.organiser or "",
        date=r.today,
        classification="内部",
    )


def assignment_list(r: _Record) -> Document:
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
        paras = [f"层级：{_zh(COMMAND_LEVELS, n.level)}；负责人：{n.leader or '（未录入）'}。"]
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
                            _zh(POLICE_TYPES, u.police_type),
                            str(r.people.get(u.id, 0)),
                            "、".join(u.equipment or []),
                        )
                        for u in units
                    ),
                    caption="力量编成",
                )
            )
        mine_posts = [p for p in r.posts if zone_codes.get(p.zone_id or -1) in set(n.zone_codes or [])]
        if mine_posts:
            tables.append(
                Table(
                    ("岗位", "区域", "警种", "最少人数", "关键"),
                    tuple(
                        (
                            p.name,
                            zone_names.get(p.zone_id or -1, ""),
                            _zh(POLICE_TYPES, p.police_type),
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


def _safe(name: str) -> str:
    return re.sub(r"[^\w\-.]+", "_", name).strip("_") or "plan"


def _special(r: _Record, p: ResponsePlan) -> Callable[[], Document]:
    return lambda: special_plan(r, p)


def documents(*, db: Session, event_id: int) -> list[Doc]:
    """Every document of the event, in order: work plan, special plans, risk report, assignment list."""
    r = _Record(db, event_id)
    out = [Doc("work-plan", "安全工作方案", lambda: work_plan(r))]
    out += [Doc(f"plan-{_safe(p.code)}", p.name, _special(r, p)) for p in r.specials]
    out += [
        Doc("risk-report", "风险评估报告", lambda: risk_report(r)),
        Doc("assignments", "任务分工表", lambda: assignment_list(r)),
    ]
    return out


def render_one(*, db: Session, event_id: int, name: str) -> bytes:
    for d in documents(db=db, event_id=event_id):
        if d.name == name:
            return render(d.build())
    raise NotFound(f"document {name!r} not found in event {event_id}")


def export(*, db: Session, event_id: int, out_dir: Path, on_file: Callable[[str], None] | None = None) -> list[Path]:
    """Write every document as ``out_dir/<name>.docx``; ``on_file`` is told each file as it is written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in documents(db=db, event_id=event_id):
        path = out_dir / f"{d.name}.docx"
        path.write_bytes(render(d.build()))
        paths.append(path)
        if on_file is not None:
            on_file(path.name)
    return paths
