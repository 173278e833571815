"""The demo command tree, units and people (deterministic, fixed-seed names)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.demo.site import QUADRANTS, SIDES, SKILLS
from anbao.org import service as org
from anbao.org.models import Unit

#: the eight working groups of the headquarters 指挥部工作组
HQ_GROUPS = ("综合协调组", "现场安保组", "交通管理组", "治安巡逻组",
             "技术保障组", "应急处突组", "信息研判组", "后勤保障组")



# --------------------------------------------------------------------------- command tree, units, people

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华建国文斌辉宇浩鑫鹏晨阳欣怡佳俊志海峰亮林红玲丹婷雪晓思"
         "雨子诗梓轩博凯睿宁彬飞翔云龙振东立新永健春德成荣琳倩颖慧晶燕卫忠良清泽航远")


def chinese_name(rng: random.Random) -> str:
    """A plausible Chinese name: a common surname (the ten commonest weighted x4) and one or two given chars."""
    surname = rng.choices(SURNAMES, weights=[4 if i < 10 else 1 for i in range(len(SURNAMES))])[0]
    given = rng.choice(GIVEN) if rng.random() < 0.3 else "".join(rng.sample(GIVEN, 2))
    return surname + given


@dataclass(frozen=True)
class NodeSpec:
    code: str
    name: str
    level: str
    parent: str | None
    leader: str
    duties: str
    zone_codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    call_sign: str
    police_type: str
    agency: str
    node: str
    size: int
    equipment: list[str]
    skills: list[str]
    shared_with: list[str]


@dataclass(frozen=True)
class PersonSpec:
    unit: str
    name: str
    badge_no: str
    role: str
    phone: str
    skills: list[str]


def plan_nodes(rng: random.Random) -> list[NodeSpec]:
    def leader(title: str) -> str:
        return f"{chinese_name(rng)}（{title}）"

    group_codes = ("G-ZHXT", "G-XCAB", "G-JTGL", "G-ZAXL", "G-JSBZ", "G-YJCT", "G-XXYP", "G-HQBZ")
    group_duties = ("统筹协调、信息报送、会议组织", "场内外安保部署与现场秩序",
                    "交通组织、管制、停车与公共交通接驳", "治安巡逻、便衣反扒、重点人员管控",
                    "视频监控、通信、无线电与网络保障", "突发事件处置、消防与医疗救援",
                    "情报信息、舆情监测与风险研判", "装备、车辆、食宿与后勤保障")
    out = [NodeSpec("HQ", "2026星河巡回演唱会（杭州站）安保指挥部", "hq", None, leader("市公安局副局长"),
                    "全面指挥活动安保工作")]
    for code, name, duties in zip(group_codes, HQ_GROUPS, group_duties, strict=True):
        out.append(NodeSpec(code, name, "hq_group", "HQ", leader("组长"), duties))
    floor = ["FLOOR-A", "FLOOR-B", "FLOOR-C", "FLOOR-D", "FLOOR-E", "FLOOR-F", "PIT", "FLOOR-AISLE", "TRACK"]
    sites = (
        ("S-IN", "场内分指挥部", ["CORE"], "场内观众区、舞台与环廊秩序", (
            ("D-FLOOR", "内场执勤组", floor),
            ("D-STAGE", "舞台后台执勤组", ["STAGE", "BACKSTAGE"]),
            ("D-STAND", "看台执勤组", [f"{t}-{s}" for t in ("LS", "US") for s in SIDES]),
            ("D-CONC", "环廊执勤组", [f"CONC-{s}" for s in SIDES]))),
        ("S-PLAZA", "场外广场分指挥部", ["BUFFER"], "安检、验票与广场秩序", (
            ("D-SCREEN", "安检执勤组", [f"SCR-{s}" for s in SIDES]),
            ("D-PLAZA", "广场执勤组", [*(f"PLZ-{q}" for q in QUADRANTS), "SVC-CMD", "SVC-EMS", "SVC-MEDIA",
                                    "SVC-MED"]))),
        ("S-TRAFFIC", "交通外围分指挥部", ["OUTER"], "外围管控、交通组织与公共交通接驳", (
            ("D-TRANSIT", "地铁公交执勤组", ["METRO", "BUS-E", "BUS-S"]),
            ("D-PARK", "停车场执勤组", ["P1", "P2", "P3", "P4"]),
            ("D-ROAD", "道路管控组", ["RD-WENTAO", "RD-FEIHONG-N", "RD-FEIHONG-S", "RD-BOAO", "RD-DANFENG",
                                   "RD-RING"]),
            ("D-OUTER", "外围巡控组", ["OUTER", "RIVER"]))),
    )
    for code, name, zone_codes, duties, groups in sites:
        out.append(NodeSpec(code, name, "site", "HQ", leader("分指挥长"), duties, zone_codes))
        for g_code, g_name, g_zones in groups:
            out.append(NodeSpec(g_code, g_name, "duty_group", code, leader("组长"),
                                f"所辖 {len(g_zones)} 个区域的执勤、巡查与人群疏导", g_zones))
    for code, name, parent, duties in (("D-QRF", "特警突击队", "G-YJCT", "机动处突、反恐"),
                                       ("D-FIRE", "消防救援组", "G-YJCT", "火灾扑救与抢险救援"),
                                       ("D-MED", "医疗救护组", "G-YJCT", "现场医疗救护与转运"),
                                       ("D-VIDEO", "视频研判组", "G-XXYP", "视频巡查与研判"),
                                       ("D-CYBER", "网络舆情组", "G-XXYP", "网络舆情监测与处置")):
        out.append(NodeSpec(code, name, "duty_group", parent, leader("组长"), duties))
    return out


EQUIPMENT = {
    "public_order": ["对讲机", "执法记录仪", "警棍", "反光背心"],
    "traffic": ["对讲机", "执法记录仪", "警示锥", "指挥棒", "警用摩托车"],
    "special": ["防暴盾牌", "防刺服", "防暴头盔", "催泪喷射器", "防暴车"],
    "armed": ["防暴盾牌", "钢叉", "防暴头盔"],
    "criminal": ["隐蔽式对讲机", "手机图传"],
    "cyber": ["无线电监测车", "笔记本电脑", "频谱仪"],
    "fire": ["消防车", "灭火器", "正压式空气呼吸器", "破拆工具"],
    "medical": ["救护车", "AED", "担架", "急救箱"],
    "volunteer": ["扩音器", "引导旗", "志愿者马甲"],
    "security": ["手持金属探测器", "安检门", "X光机", "对讲机"],
}

# (police type, call-sign prefix, name, agency, shared_with, team size, command nodes in order)
UNIT_PLAN: tuple[tuple[str, str, str, str, list[str], int, tuple[str, ...]], ...] = (
    ("public_order", "Z", "治安{n}组", "公安", [], 12,
     ("D-FLOOR", "D-FLOOR", "D-STAND", "D-STAND", "D-CONC", "D-CONC", "D-SCREEN", "D-PLAZA", "D-PLAZA", "D-OUTER")),
    ("traffic", "J", "交警{n}组", "公安", ["交通"], 10,
     ("D-TRANSIT", "D-PARK", "D-PARK", "D-ROAD", "D-ROAD", "D-ROAD")),
    ("special", "T", "特警{n}队", "公安", [], 12, ("D-STAGE", "D-FLOOR", "D-QRF", "D-QRF")),
    ("armed", "W", "武警{n}中队", "武警", [], 15, ("D-PLAZA", "D-OUTER", "D-OUTER")),
    ("criminal", "X", "刑侦便衣{n}组", "公安", [], 8, ("D-PLAZA", "D-TRANSIT", "D-VIDEO")),
    ("cyber", "WA", "网安{n}组", "公安", [], 5, ("D-CYBER", "G-JSBZ")),
    ("fire", "XF", "消防{n}班", "消防", ["消防"], 8, ("D-STAGE", "D-FIRE", "D-FIRE")),
    ("medical", "YL", "医疗{n}组", "医疗", ["医疗"], 6, ("D-MED", "D-MED", "D-STAND")),
    ("volunteer", "ZY", "志愿者{n}队", "志愿者", [], 12, ("D-STAND", "D-PLAZA", "D-TRANSIT", "D-SCREEN")),
    ("security", "BA", "保安{n}队", "保安公司", [], 15, ("D-SCREEN", "D-SCREEN", "D-SCREEN", "D-FLOOR", "D-STAND")),
)
EXTRA_SKILLS = ("驾驶", "英语", "急救", "手语", "无人机驾驶")


def plan_units() -> list[UnitSpec]:
    out: list[UnitSpec] = []
    for police_type, prefix, pattern, agency, shared, size, nodes in UNIT_PLAN:
        for n, node in enumerate(nodes, start=1):
            out.append(UnitSpec(f"{prefix}-{n:02d}", pattern.format(n=n), f"{prefix}-{n:02d}", police_type, agency,
                                node, size, EQUIPMENT[police_type], SKILLS[police_type], shared))
    return out


def plan_people(units: list[UnitSpec], rng: random.Random) -> list[PersonSpec]:
    total = sum(u.size for u in units)
    badges = rng.sample(range(100_000, 1_000_000), total)
    phones = rng.sample(range(100_000_000), total)
    out: list[PersonSpec] = []
    for u in units:
        for i in range(u.size):
            k = len(out)
            role = "队长" if i == 0 else "副队长" if i == 1 else "队员"
            skills = rng.sample(u.skills, rng.randint(1, len(u.skills)))
            if rng.random() < 0.15:
                skills.append(rng.choice(EXTRA_SKILLS))
            out.append(PersonSpec(u.code, chinese_name(rng), f"{badges[k]:06d}", role, f"139{phones[k]:08d}",
                                  skills))
    return out




# --------------------------------------------------------------------------- field logins

#: the demo's field logins (一线民警, role officer) and the unit each belongs to: on the phone app (/m/) each
#: sees and acts on its own unit's tasks only. They share the demo password.
DEMO_OFFICERS = (("officer-z01", "治安1组民警", "Z-01"), ("officer-t01", "特警1队民警", "T-01"))


def ensure_demo_logins(*, db: Session, event_id: int, password: str) -> list[tuple[str, str]]:
    """Create the demo officers (once) and link each to its unit of the demo event; (login, unit call sign)."""
    out = []
    for username, display_name, unit_code in DEMO_OFFICERS:
        unit = db.execute(select(Unit).where(Unit.event_id == event_id, Unit.code == unit_code)).scalar_one()
        user = accounts.get_by_username(db=db, username=username)
        if user is None:
            user = accounts.create(db=db, data=UserCreate(username=username, display_name=display_name,
                                                          password=password, role="officer"))
        org.link_user(db=db, user_id=user.id, unit_id=unit.id)
        out.append((username, unit.call_sign))
    return out
