"""The risk assessment report 风险评估报告 as a 公文, after GB/T 33170.1: method and matrix, the risk
register with the experts' aggregate scores, their disagreements, controls and residual risk, and the
risk level of each zone (read through :mod:`anbao.risk.service`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from anbao.algorithms import risk as alg
from anbao.core.vocab import RISK_CATEGORIES, RISK_LEVELS, RISK_SOURCES
from anbao.documents.common import Record, zh
from anbao.documents.writer import Document, Section, Table
from anbao.risk import service as risks


def risk_report(r: Record) -> Document:
    """The risk assessment report of the record's event."""
    assessed = risks.assess(db=r.db, event_id=r.event.id)
    m, spread, gap = risks.matrix(db=r.db, event_id=r.event.id)
    rows = risks.matrix_rows(m)
    matrix = Table(
        ("可能性＼后果", "1", "2", "3", "4", "5"),
        tuple((str(li), *(zh(RISK_LEVELS, c) for c in rows[li - 1])) for li in range(5, 0, -1)),
        caption="风险矩阵",
    )
    method = (
        f"依据 GB/T 33170.1，按可能性和后果严重程度（各 1—5 分）评定风险，由风险矩阵确定低、中、高、极高四级。"
        f"专家独立打分，取中位数；任一维度评分相差 {spread} 分及以上或专家评定等级相差 {gap} 级及以上的，"
        "列为意见分歧，组织专家会商。",
        *(
            ("后果为 5 分（灾难性）的风险，无论可能性高低，至少评为高风险。",)
            if all(alg.LEVELS.index(m.level(li, 5)) >= alg.LEVELS.index("high") for li in alg.SCALE)
            else ()
        ),
        "固有风险为专家评定的管控前等级，剩余风险为落实管控措施后的等级。",
    )

    def agg(a: dict[str, Any], key: str) -> str:
        return str(a["aggregate"][key]) if a["aggregate"] else "—"

    register = Table(
        ("编号", "风险", "类别", "来源", "专家数", "可能性", "后果", "固有风险"),
        tuple(
            (
                a["code"],
                a["name"],
                zh(RISK_CATEGORIES, a["category"]),
                zh(RISK_SOURCES, a["source"]),
                agg(a, "n"),
                agg(a, "likelihood"),
                agg(a, "impact"),
                zh(RISK_LEVELS, a["aggregate"]["level"]) if a["aggregate"] else "未评",
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
        ("编号", "风险", "管控措施", "责任单位", "固有风险", "剩余风险"),
        tuple(
            (
                a["code"],
                a["name"],
                "；".join(c["measure"] for c in a["controls"]) or "（未制定）",
                "、".join(sorted({c.get("owner", "") for c in a["controls"] if c.get("owner")})),
                zh(RISK_LEVELS, a["aggregate"]["level"]) if a["aggregate"] else "未评",
                zh(RISK_LEVELS, a["residual_level"]) if a["residual_level"] else "未评",
            )
            for a in assessed
        ),
        caption="管控措施与剩余风险",
    )
    zone_rows = tuple(
        (z["code"], z["name"], zh(RISK_LEVELS, z["level"]), "、".join(z["risks"]))
        for z in risks.zone_levels(db=r.db, event_id=r.event.id)
        if z["level"]
    )
    summary = _summary(assessed)
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
                ("区域风险等级取关联风险中最高的剩余风险等级；剩余风险未评的，取其固有风险等级。",)
                if zone_rows
                else ("（尚无区域关联的已评风险）",),
                (Table(("区域编号", "区域", "风险等级（剩余）", "相关风险"), zone_rows),) if zone_rows else (),
            ),
        ),
        issuer=r.event.organiser or "",
        date=r.today,
        classification="内部",
    )


def _counted(levels: Counter[str]) -> str:
    order = ("extreme", "high", "medium", "low")
    return "、".join(f"{zh(RISK_LEVELS, lv)} {levels[lv]} 项" for lv in order if levels[lv])


def _summary(assessed: list[dict[str, Any]]) -> str:
    """One line: how many risks, by inherent level (the experts' aggregate) and by residual level, each named."""
    inherent = Counter(a["aggregate"]["level"] for a in assessed if a["aggregate"])
    residual = Counter(a["residual_level"] for a in assessed if a["residual_level"])
    if not inherent and not residual:
        return f"共识别风险 {len(assessed)} 项，尚未评分。"
    parts = [f"共识别风险 {len(assessed)} 项"]
    parts.append(f"固有风险（管控前）{_counted(inherent)}" if inherent else "固有风险尚未评分")
    parts.append(f"剩余风险（落实管控措施后）{_counted(residual)}" if residual else "剩余风险尚未评定")
    unscored = len(assessed) - sum(residual.values())
    if residual and unscored:
        parts.append(f"{unscored} 项未评定剩余风险")
    return "；".join(parts) + "。"
