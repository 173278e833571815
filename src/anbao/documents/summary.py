"""The after-action summary 安保工作总结 as a 公文 (issue 15 item 3, first part): every figure from the review
statistics (:func:`anbao.review.service.review_with_findings`), in the structure those summaries use.

前言 (the event's facts); 一、活动特点与安保难点 (event facts, the risk register's high risks); 二、主要做法与成效
(command structure, the "1+N" plans, zones and checkpoints, technology, incidents, each with its figures);
三、存在的问题与不足 (the findings with their evidence); 四、经验启示与工作建议 (one suggestion per finding,
and room for the commander's own); 结语; 附表 数据来源 (each figure with where it comes from). A section with no
data says so; nothing is invented: what only people can judge (the result of the operation, lessons, the closing
words) is left marked for the commander to write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anbao.core.vocab import COMMAND_LEVELS, DEVICE_KINDS, EVENT_KINDS, WARNING_LEVEL_ZH, WARNING_LEVELS
from anbao.documents.common import Record, zh
from anbao.documents.writer import Document, Section, Table
from anbao.org.scope import unit_scope
from anbao.review import service as reviews
from anbao.risk import service as risks

#: what the commander writes (the document marks it, nothing is made up in its place)
TO_WRITE = "【待指挥长填写】"

#: a suggestion for each kind of problem found (the finding's figures are in section 三)
SUGGESTIONS = {
    "slow_acknowledgement": "压实预警确认责任，值班席位收到预警后即时确认并反馈处置情况，确认时限纳入值班考核。",
    "overdue_tasks": "预案任务设定的时限要与现场警力相匹配，任务超时应及时上报并调整力量。",
    "zone_above_level": "对长时间处于高等级的区域，提前分流、限流，并在方案中明确启动条件和责任单位。",
    "silent_sensors": "加强感知设备巡检和备份，设备中断时以人工观察补位，并在指挥中心及时标注。",
    "flapping": "复核反复触发的预警规则（阈值、回差和保持时间），避免预警反复发布分散值班力量。",
    "incident_without_unit": "警情处置应在系统中关联处置警力，保证接处警全程可追溯。",
    "plan_steps_not_done": "预案启动后逐项落实步骤，未完成的步骤要有说明和后续安排。",
    "capacity_exceeded": "严格按核准人数和安全容量控制入场，接近上限时及时启动限流和停止验票措施。",
}


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def _s(fig: dict[str, Any]) -> str:
    """p50 / p90 of a figure in seconds, in words."""
    if not fig or fig.get("n", 0) == 0:
        return "无记录"
    return f"中位数 {_n(fig['p50_s'])} 秒、90% 在 {_n(fig['p90_s'])} 秒以内（{fig['n']} 条）"


def security_summary(r: Record, got: dict[str, Any]) -> Document:
    """The summary of the record's event from its review (``got``: statistics, rules, findings)."""
    st = got["statistics"]
    w, att, inc, pol, dev = st["warnings"], st["attendance"], st["incidents"], st["police"], st["devices"]
    since, until = st["window"]["since"], st["window"]["until"]
    event = r.event
    sources: list[tuple[str, str, str]] = []

    def fig(name: str, value: str, source: str) -> str:
        sources.append((name, value, source))
        return value

    peak = fig("在场人数峰值", _n(att["peak_on_site"]), "statistics.attendance.peak_on_site（区域态势历史）")
    preface = [
        f"{event.name}（{zh(EVENT_KINDS, event.kind)}）于{_when(r, since)}至{_when(r, until)}举行。"
        + (f"核准人数{fig('核准人数', _n(att['approved']), 'event.approved_attendance')}人，" if att["approved"] else
           "未录入核准人数，")
        + (f"在场人数峰值{peak}人（{_when(r, att['peak_at'])}）。" if att["peak_on_site"] is not None else
           "系统中无在场人数记录。"),
        f"安保工作共投入警力{fig('投入警力单元', _n(pol['units']), 'statistics.police.units')}个单元、"
        f"{fig('投入警力人数', _n(pol['people']), 'statistics.police.people')}人。活动期间系统发布预警"
        f"{fig('预警总数', _n(w['total']), 'statistics.warnings.total')}条，接报警情"
        f"{fig('警情总数', _n(inc['total']), 'statistics.incidents.total')}起，启动预案"
        f"{fig('预案启动次数', _n(st['plans']['activations']), 'statistics.plans.activations')}次。",
        f"安保工作总体情况：{TO_WRITE}",
    ]

    high = [a for a in risks.assess(db=r.db, event_id=event.id) if a["level"] in ("high", "extreme")]
    features = [
        f"本次活动为{zh(EVENT_KINDS, event.kind)}，设{len(r.zones)}个区域、{len(r.gates)}个出入口"
        f"（含安检口、疏散出口），设置岗位{len(r.posts)}个。"
        + (f"安全容量{fig('安全容量', _n(att['safe_capacity']), 'statistics.attendance.safe_capacity（容量模型）')}人，"
           f"在场峰值为安全容量的{_n(att['peak_pct_of_safe'], 1)}%。" if att["safe_capacity"] and att["peak_on_site"]
           else ""),
        ("风险评估确定高风险及以上" + fig("高风险及以上风险数", str(len(high)), "风险登记表（GB/T 33170.1 风险矩阵）")
         + "项：" + "；".join(f"{a['code']} {a['name']}" for a in high) + "。") if high else
        "风险登记表中无高风险及以上的风险。",
    ]

    levels = {lv: fig(f"{WARNING_LEVEL_ZH[lv]}预警", str(w["by_level"][lv]), f"statistics.warnings.by_level.{lv}")
              for lv in WARNING_LEVELS}
    nodes_by_level: dict[str, int] = {}
    for n in r.nodes:
        nodes_by_level[n.level] = nodes_by_level.get(n.level, 0) + 1
    command = ("建立" + "、".join(f"{zh(COMMAND_LEVELS, lv)}{c}个" for lv, c in nodes_by_level.items())
               + "的指挥体系，实行扁平化指挥。") if r.nodes else "系统中未录入指挥体系。"
    plans = (f"制定总体方案1个、专项预案{len(r.specials)}个（“1+N”预案体系）。" if r.master else
             f"制定专项预案{len(r.specials)}个，系统中无总体方案。") + (
        f"活动期间启动预案{st['plans']['activations']}次："
        + "、".join(f"{name}{n}次" for name, n in st["plans"]["by_plan"].items()) + "。"
        if st["plans"]["activations"] else "活动期间未启动预案。")
    tasks = st["tasks"]
    overdue = fig("超时任务", _n(tasks["overdue"]), "statistics.tasks.overdue")
    task_line = (f"下达任务{fig('任务总数', _n(tasks['total']), 'statistics.tasks.total')}项，其中超时{overdue}项；"
                 f"接收用时{_s(tasks['accept_s'])}，完成用时{_s(tasks['finish_s'])}。") if tasks["total"] else \
        "活动期间未下达任务。"
    zone_rows = tuple((z["name"], _n(z["peak_density"], 2), _when(r, z["peak_at"]) if z["peak_at"] else "—",
                       *(_n(z["minutes_at_or_above"][lv], 1) for lv in WARNING_LEVELS))
                      for z in st["crowd"]["zones"] if z["peak_density"] is not None)
    by_level = "、".join(f"{WARNING_LEVEL_ZH[lv]}{levels[lv]}条" for lv in WARNING_LEVELS)
    crowd = [f"系统发布预警{w['total']}条，其中{by_level}；预警确认用时{_s(w['acknowledge_s'])}，"
             f"解除用时{_s(w['close_s'])}；升级{w['escalations']}次。" if w["total"] else "活动期间未发布预警。"]
    if not zone_rows:
        crowd.append("系统中无区域人群密度记录。")
    tech_rows = tuple((zh(DEVICE_KINDS, kind), _n(d["devices"]), _n(d["reported"]), _n(d["silent_periods"]),
                       "—" if d["uptime_pct"] is None else f"{d['uptime_pct']:.1f}%")
                      for kind, d in dev["by_kind"].items())
    incidents = ([f"接报警情{inc['total']}起，" + "、".join(f"{k}{v}起" for k, v in inc["by_type"].items())
                  + f"。派警用时{_s(inc['dispatch_s'])}；到场用时"
                  + fig("警情到场用时", _s(inc["arrival_s"]), "statistics.incidents.arrival_s（报警至到场）")
                  + f"；处置用时{_s(inc['resolution_s'])}。"] if inc["total"] else ["活动期间未接报警情。"])
    measures = Section("主要做法与成效", children=(
        Section("健全指挥体系", (command,)),
        Section("完善“1+N”预案体系", (plans, task_line)),
        Section("科学划分区域，严密监测人流", tuple(crowd), tables=(Table(
            ("区域", "密度峰值（人/㎡）", "峰值时刻",
             *(f"{WARNING_LEVEL_ZH[lv]}及以上（分钟）" for lv in WARNING_LEVELS)),
            zone_rows, caption="各区域人群密度"),) if zone_rows else ()),
        Section("科技支撑", (f"接入感知设备{sum(d['devices'] for d in dev['by_kind'].values())}台，" +
                            f"其中{sum(d['reported'] for d in dev['by_kind'].values())}台有数据。"
                            if dev["by_kind"] else "系统中未接入感知设备。",),
                tables=(Table(("类型", "设备数", "有数据", "中断次数", "在线率"), tech_rows, caption="感知设备"),)
                if tech_rows else ()),
        Section("快速接处警", tuple(incidents)),
    ))

    problems: list[str] = []
    for f in got["findings"]:
        shown = "；".join(_evidence(r, e) for e in f["evidence"][:5])
        more = f"（列出前5条，共{f['count']}条）" if f["count"] > 5 else f"（共{f['count']}条）"
        problems.append(f"{f['title_zh']}{more}：{shown}。")
    if not problems:
        problems = ["按复盘规则，系统记录中未发现问题。"]
    suggestions = [SUGGESTIONS[f["code"]] for f in got["findings"] if f["code"] in SUGGESTIONS]
    suggestions.append(f"其他经验启示：{TO_WRITE}")
    appendix = Table(("数据项", "数值", "来源"), tuple(sources), caption="附表 数据来源")
    return Document(
        title=f"{event.name}安保工作总结",
        preamble=tuple(preface),
        sections=(
            Section("活动特点与安保难点", tuple(features) + (f"安保难点：{TO_WRITE}",)),
            measures,
            Section("存在的问题与不足", tuple(problems)),
            Section("经验启示与工作建议", tuple(suggestions)),
            Section("结语", (TO_WRITE,)),
            Section("附表", ("本总结中的数据均取自系统记录，来源如下。",), tables=(appendix,)),
        ),
        date=r.today,
    )


def _when(r: Record, when: datetime | None) -> str:
    return r.local(when) if when is not None else "—"


def _evidence(r: Record, e: dict[str, Any]) -> str:
    what = {"warning": "预警", "task": "任务", "zone": "区域", "device": "设备", "incident": "警情",
            "plan_activation": "预案启动", "event": "活动"}.get(e["record"], e["record"])
    name = e.get("code") or f"#{e['id']}"
    bits = [f"{what}{name}"]
    if e.get("at"):
        bits.append(_when(r, e["at"]))
    if e.get("seconds") is not None:
        bits.append(f"{_n(e['seconds'])}秒")
    if e.get("minutes") is not None:
        bits.append(f"{_n(e['minutes'], 1)}分钟")
    if e.get("value") is not None:
        bits.append(f"{_n(e['value'])}人，超过{_n(e['bound'])}人")
    return "，".join(bits)


def build(*, db: Any, event_id: int, agency: str | None = None, session_id: int | None = None) -> Document:
    """The summary of an event (or one session) for a caller (a partner ``agency`` sees its own units only)."""
    r = Record(db, event_id, agency=agency)
    got = reviews.review_with_findings(db=db, event_id=event_id, session_id=session_id,
                                       units=unit_scope(db=db, event_id=event_id, agency=agency))
    return security_summary(r, got)
