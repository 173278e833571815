"""The demo event's planning record: the master plan written from its template, a risk register scored by
three experts (one risk they disagree on), and the capacity settings. Deterministic; no commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert import rules
from anbao.core import crud
from anbao.core.time import utcnow
from anbao.crowd import capacity
from anbao.plan import service, templates
from anbao.risk import service as risks
from anbao.venue.models import Zone

SECTIONS = {
    "overview": "2026 星河巡回演唱会（杭州站）于 12 月 19 日、20 日 19:30—22:30 在奥体中心体育场举行，每场预计 5 万人。"
                "主办单位负责演出组织，公安机关负责安全监督，场馆方负责场地设施。",
    "staffing": "投入公安民警、辅警、保安员和志愿者，按指挥部、现场分指挥部、执勤组三级编组。民警着制式警服，"
                "保安员着黑色制服佩戴红色袖标，志愿者着蓝色马甲，工作证件分区域颜色管理。",
    "fire": "演出前对舞台、灯光音响用电和临建设施进行消防检查；安全出口、疏散通道全程畅通；消防车 2 辆前置于东、西门。",
    "capacity": "场馆核定容量与各区域容量按容量核定结果执行，内场站席按每平方米 2 人控制，超过预警阈值即启动限流。",
    "buffer": "体育场外 50—200 米为治安缓冲区，设置硬隔离护栏和“安检区”标识，缓冲区内禁止摆摊和无票人员滞留。",
    "screening": "实名制购票，一人一票一证；设安检口 11 个、检票口 14 个，禁止携带打火机、喷雾、自拍杆等物品入场。",
    "traffic": "体育场周边道路 17:00—24:00 实行交通管制，社会车辆停放于 P1—P4 停车场，地铁 6 号线延时运营。",
    "order": "入场阶段分区分时引导；散场时按看台分批放行，内场观众经跑道出口有序离场，重点加强地铁站口疏导。",
    "emergency": "成立应急处突组，制定大客流、人群疏散、消防、医疗救护等专项预案，设置应急集结区于东、西广场。",
}

#: code, name, category, source, zones, [(expert, likelihood, impact)], controls, residual (L, I)
RISKS: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[tuple[str, int, int], ...], tuple[str, ...],
                   tuple[int, int]], ...] = (
    ("R01", "散场时内场站席人群拥挤踩踏", "stampede", "inherent", ("FLOOR-A", "FLOOR-B", "PIT"),
     (("陈专家", 3, 5), ("刘专家", 4, 5), ("赵专家", 3, 4)), ("内场分区隔离护栏", "分批散场", "跑道出口专人疏导"),
     (2, 4)),
    ("R02", "地铁站口散场大客流积压", "traffic", "external", ("METRO", "PLZ-SE"),
     (("陈专家", 4, 3), ("刘专家", 4, 4), ("赵专家", 5, 3)), ("地铁延时运营", "站口限流围栏"), (3, 3)),
    ("R03", "安检口排队拥堵引发冲突", "mass_incident", "inherent", ("SCR-N", "SCR-E", "SCR-W"),
     (("陈专家", 3, 3), ("刘专家", 2, 3), ("赵专家", 3, 2)), ("增开安检通道", "提前 2 小时检票"), (2, 2)),
    ("R04", "舞台临建设施电气火灾", "fire", "inherent", ("STAGE",),
     (("陈专家", 2, 5), ("刘专家", 1, 5), ("赵专家", 4, 4)), ("用电专项检查", "消防车前置"), (1, 4)),
    ("R05", "暴力恐怖袭击", "terrorism", "threat", (),
     (("陈专家", 1, 5), ("刘专家", 1, 5), ("赵专家", 2, 5)), ("特警前置备勤", "无人机反制"), (1, 5)),
    ("R06", "网络谣言引发负面舆情", "public_opinion", "external", (),
     (("陈专家", 3, 2), ("刘专家", 3, 3), ("赵专家", 2, 2)), ("网安巡查", "统一发布口径"), (2, 2)),
)


def load_planning(*, db: Session, event_id: int) -> None:
    """Write the demo's planning record (call once, after the venue and the command tree)."""
    rules.ensure_defaults(db=db, event_id=event_id)
    master = templates.instantiate(db=db, event_id=event_id, template=templates.get(db=db, code="TPL-ZT"), code="ZT",
                                   name="总体安保方案")
    crud.update_row(db=db, kind=service.PLANS, row=master, data={"sections": dict(SECTIONS)})
    zones = dict(db.execute(select(Zone.code, Zone.id).where(Zone.event_id == event_id)).all())
    now = utcnow()
    for code, name, category, source, zone_codes, scores, controls, (rl, ri) in RISKS:
        data: dict[str, Any] = {"code": code, "name": name, "category": category, "source": source,
                                "zone_ids": [zones[c] for c in zone_codes if c in zones],
                                "controls": [{"measure": m, "owner": "", "done": False} for m in controls],
                                "residual_likelihood": rl, "residual_impact": ri}
        risk = crud.create_row(db=db, kind=risks.RISKS, event_id=event_id, data=data)
        for expert, li, im in scores:
            risks.score(db=db, risk=risk, expert=expert, likelihood=li, impact=im, note="", by="demo", now=now)
    capacity.save_settings(db=db, event_id=event_id, data={"entry_min": 120.0, "egress_min": 8.0,
                                                           "emergency_min": 6.0, "density": 4.7,
                                                           "safety_factors": {}})
