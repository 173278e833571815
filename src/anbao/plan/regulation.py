"""Regulation checks 合规检查 against the 大型群众性活动安全管理条例 (State Council order 505).

Each finding cites its article and says what is wrong and what to do. Checked:

* **Art. 2** scope: 1,000 or more expected attendees per session (below that: info only).
* **Art. 6** the security work plan covers nine items. An item is covered by the master plan's text for
  it (a section still holding the template's 【待填写】 is not written) or by the event's records (units
  for staffing, the capacity calculation, buffer zones, checkpoints, the fire plan...), which the
  exported plan then prints. An item with neither is an error; so is an event without a master plan
  whose records miss items.
* **Art. 12** the approving authority by attendance: 1,000-4,999 county-level police, 5,000 or more
  city-level, across provinces the Ministry. A lower authority than required is an error; none recorded
  is a warning.
* **Art. 13** the application at least 20 days before the event (the first session's local date).
* **Art. 7 and 18** tickets within the approved attendance, and neither above the venue's safe capacity
  (the Green Guide calculation of :mod:`anbao.crowd.capacity`).

:func:`check` is pure (a :class:`Facts` in, findings out); :func:`facts` reads them from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.core.errors import AnBaoError, NotFound
from anbao.core.vocab import APPROVAL_AUTHORITIES
from anbao.crowd import capacity
from anbao.event.models import Event
from anbao.org.models import Person, Unit
from anbao.plan.models import ResponsePlan
from anbao.plan.schemas import ART6_ITEMS, TO_FILL
from anbao.venue.models import Gate, Post, Venue, Zone

SCOPE_MIN = 1000
CITY_MIN = 5000
FILING_DAYS = 20
AUTHORITY_RANK = {"county": 1, "city": 2, "ministry": 3}
SEVERITIES = ("error", "warning", "info", "ok")


@dataclass(frozen=True)
class Finding:
    code: str  # e.g. art6.fire
    article: str  # 第六条第（三）项
    severity: str  # error | warning | info | ok
    message: str  # Chinese
    hint: str = ""


@dataclass(frozen=True)
class Facts:
    """What the checks look at; counts come from the event's records."""

    expected_attendance: int
    approved_attendance: int | None
    tickets_issued: int | None
    cross_province: bool
    approval_authority: str  # "" | county | city | ministry
    applied_on: date | None
    first_session: datetime | None
    timezone: str
    master_sections: dict[str, str] | None  # None: no master plan
    plan_kinds: frozenset[str]
    units: int
    persons: int
    posts: int
    buffer_zones: int
    checkpoints: int
    parking_zones: int
    venues: int
    safe_capacity: int | None
    capacity_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _written(text: str | None) -> bool:
    return bool(text and text.strip() and TO_FILL not in text)


def _records(f: Facts) -> dict[str, str | None]:
    """For each Art. 6 item, what in the records covers it (None: nothing)."""
    kinds = f.plan_kinds
    return {
        "overview": f"已录入 {f.venues} 个场地和活动场次"
        if f.first_session is not None and f.venues else None,
        "staffing": f"已编组 {f.units} 个执勤单元、{f.persons} 名人员" if f.units else None,
        "fire": "已制定消防安全专项预案" if "fire" in kinds else None,
        "capacity": f"场馆安全容量 {f.safe_capacity} 人，预计 {f.expected_attendance} 人"
        if f.safe_capacity is not None and f.expected_attendance else None,
        "buffer": f"已划定 {f.buffer_zones} 个缓冲区" if f.buffer_zones else None,
        "screening": f"已设置 {f.checkpoints} 个安检口" if f.checkpoints else None,
        "traffic": "已制定交通疏导预案" if "traffic" in kinds
        else (f"已设置 {f.parking_zones} 个停车区" if f.parking_zones else None),
        "order": f"已设置 {f.posts} 个执勤岗位" + ("及大客流预案" if "crowd" in kinds else "") if f.posts else None,
        "emergency": "已制定应急专项预案：" + "、".join(sorted(k for k in kinds if k != "master"))
        if kinds & {"evacuation", "emergency", "medical", "fire"} else None,
    }


def check(f: Facts) -> list[Finding]:
    """Every finding, errors first within each article, in the order of the articles."""
    out: list[Finding] = []
    if f.expected_attendance < SCOPE_MIN:
        out.append(Finding("art2.scope", "第二条", "info",
                           f"预计每场 {f.expected_attendance} 人，不足 {SCOPE_MIN} 人，不属于条例规定的大型群众性活动",
                           "如预计人数有变化，请更新活动信息"))
    # Art. 6
    if f.master_sections is None:
        out.append(Finding("art6.master", "第六条", "error", "尚未制定总体安保方案（安全工作方案）",
                           "从模板 TPL-ZT 新建总体安保方案"))
    records = _records(f)
    for key, (num, title) in ART6_ITEMS.items():
        text = (f.master_sections or {}).get(key)
        article = f"第六条第{num}项"
        if _written(text):
            out.append(Finding(f"art6.{key}", article, "ok", f"{title}：方案已写明"))
        elif records[key]:
            out.append(Finding(f"art6.{key}", article, "ok", f"{title}：{records[key]}（导出方案时据此生成）"))
        else:
            out.append(Finding(f"art6.{key}", article, "error", f"{title}：方案未写明，也没有可据以生成的记录",
                               "在总体安保方案中填写该项" + ("" if text is None else "（仍为模板待填写内容）")))
    # Art. 12
    need = "ministry" if f.cross_province else "city" if f.expected_attendance >= CITY_MIN else "county"
    need_zh = APPROVAL_AUTHORITIES[need][0]
    if f.expected_attendance >= SCOPE_MIN or f.cross_province:
        if not f.approval_authority:
            out.append(Finding("art12.authority", "第十二条", "warning", f"未记录审批机关；按预计人数应由{need_zh}许可",
                               "在活动信息中填写审批机关"))
        elif AUTHORITY_RANK[f.approval_authority] < AUTHORITY_RANK[need]:
            have_zh = APPROVAL_AUTHORITIES[f.approval_authority][0]
            why = "跨省、自治区、直辖市举办" if f.cross_province else f"预计每场 {f.expected_attendance} 人"
            out.append(Finding("art12.authority", "第十二条", "error",
                               f"{why}，应由{need_zh}许可，记录的审批机关为{have_zh}",
                               f"向{need_zh}申请安全许可"))
        else:
            out.append(Finding("art12.authority", "第十二条", "ok",
                               f"审批机关{APPROVAL_AUTHORITIES[f.approval_authority][0]}符合要求（应为{need_zh}或以上）"))
    # Art. 13
    if f.first_session is None:
        out.append(Finding("art13.filing", "第十三条", "warning", "活动没有场次，无法核对申请期限", "录入场次时间"))
    else:
        day = f.first_session.astimezone(ZoneInfo(f.timezone)).date()
        if f.applied_on is None:
            out.append(Finding("art13.filing", "第十三条", "warning",
                               f"未记录申请日期；应不迟于 {day.isoformat()} 前 {FILING_DAYS} 日提出申请",
                               "在活动信息中填写申请日期"))
        else:
            lead = (day - f.applied_on).days
            if lead < FILING_DAYS:
                out.append(Finding("art13.filing", "第十三条", "error",
                                   f"{f.applied_on.isoformat()} 申请，距活动（{day.isoformat()}）仅 {lead} 日，"
                                   f"少于 {FILING_DAYS} 日", "条例要求活动日的 20 日前提出安全许可申请"))
            else:
                out.append(Finding("art13.filing", "第十三条", "ok",
                                   f"提前 {lead} 日申请，符合不少于 {FILING_DAYS} 日的要求"))
    # Art. 7 and 18
    safe = f.safe_capacity
    if safe is None:
        out.append(Finding("art7.capacity", "第七条", "warning",
                           "无法核定场馆安全容量" + (f"：{f.capacity_error}" if f.capacity_error else ""),
                           "补全区域、座位、出口等场地数据后重新核定"))
    if f.approved_attendance is None:
        out.append(Finding("art7.approved", "第七条", "warning", "未录入核定人数（许可的活动规模）",
                           "在活动信息中填写核定人数"))
    elif safe is not None and f.approved_attendance > safe:
        out.append(Finding("art7.approved", "第七条", "error",
                           f"核定人数 {f.approved_attendance} 超过场馆安全容量 {safe}", "按安全容量调整核定人数"))
    elif safe is not None:
        out.append(Finding("art7.approved", "第七条", "ok",
                           f"核定人数 {f.approved_attendance} 未超过场馆安全容量 {safe}"))
    if f.tickets_issued is not None:
        if f.approved_attendance is not None and f.tickets_issued > f.approved_attendance:
            out.append(Finding("art7.tickets", "第七条", "error",
                               f"已售（发）票 {f.tickets_issued} 张，超过核定人数 {f.approved_attendance}",
                               "停止售票，按核定人数控制入场"))
        elif safe is not None and f.tickets_issued > safe:
            out.append(Finding("art7.tickets", "第七条", "error",
                               f"已售（发）票 {f.tickets_issued} 张，超过场馆安全容量 {safe}", "停止售票"))
        else:
            out.append(Finding("art7.tickets", "第七条", "ok",
                               f"已售（发）票 {f.tickets_issued} 张，未超过核定人数和安全容量"))
    if safe is not None and f.expected_attendance > safe:
        out.append(Finding("art18.expected", "第十八条", "error",
                           f"预计每场 {f.expected_attendance} 人，超过场馆安全容量 {safe}",
                           "入场人数达到核定人数时须立即停止验票；调整规模或增加出口"))
    elif safe is not None and f.approved_attendance is not None and f.approved_attendance <= safe:
        out.append(Finding("art18.stop", "第十八条", "info",
                           f"入场人数达到核定人数 {f.approved_attendance} 时，立即停止验票入场",
                           "在安检口部署计数并设置相应预警"))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    articles = list(dict.fromkeys(x.code.split(".")[0] for x in out))
    return sorted(out, key=lambda x: (articles.index(x.code.split(".")[0]), order[x.severity]))


def _count(db: Session, stmt: Any) -> int:
    return int(db.execute(stmt).scalar() or 0)


def facts(*, db: Session, event_id: int) -> Facts:
    event = db.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    plans = list(db.execute(select(ResponsePlan).where(ResponsePlan.event_id == event_id)).scalars())
    master = next((p for p in sorted(plans, key=lambda p: p.id) if p.kind == "master"), None)
    try:
        safe = capacity.compute(db=db, event_id=event_id)["venue"]
        safe_capacity, cap_error = safe["safe_capacity"], safe["error"]
    except AnBaoError as exc:
        safe_capacity, cap_error = None, exc.message
    zone_count = select(func.count()).select_from(Zone).where(Zone.event_id == event_id)
    return Facts(
        expected_attendance=event.expected_attendance, approved_attendance=event.approved_attendance,
        tickets_issued=event.tickets_issued, cross_province=event.cross_province,
        approval_authority=event.approval_authority or "", applied_on=event.applied_on,
        first_session=min((s.start for s in event.sessions), default=None), timezone=event.timezone,
        master_sections=dict(master.sections or {}) if master is not None else None,
        plan_kinds=frozenset(p.kind for p in plans),
        units=_count(db, select(func.count()).select_from(Unit).where(Unit.event_id == event_id)),
        persons=_count(db, select(func.count()).select_from(Person).where(Person.event_id == event_id)),
        posts=_count(db, select(func.count()).select_from(Post).where(Post.event_id == event_id)),
        buffer_zones=_count(db, zone_count.where(Zone.ring == 2)),
        checkpoints=_count(db, select(func.count()).select_from(Gate).where(Gate.event_id == event_id,
                                                                             Gate.kind == "checkpoint")),
        parking_zones=_count(db, zone_count.where(Zone.kind == "parking")),
        venues=_count(db, select(func.count()).select_from(Venue).where(Venue.event_id == event_id)),
        safe_capacity=safe_capacity, capacity_error=cap_error)


def run(*, db: Session, event_id: int) -> list[Finding]:
    return check(facts(db=db, event_id=event_id))
