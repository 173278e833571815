from __future__ import annotations

from typing import Annotated

from pydantic import Field

from anbao.core.schemas import CODE_PATTERN, In, Out, Stamped, UTCTime
from anbao.core.vocab import RiskCategoryIn, RiskLevelIn, RiskSourceIn

Scale = Annotated[int, Field(ge=1, le=5, description="1 (lowest) to 5 (highest)")]


class Control(In):
    measure: str = Field(min_length=1, max_length=500, description="管控措施, e.g. 内场分区设置隔离护栏")
    owner: str = Field(default="", max_length=120, description="责任单位")
    done: bool = Field(default=False, description="已落实")


class RiskCreate(In):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200, description="风险名称, e.g. 散场时看台出口拥堵踩踏")
    category: RiskCategoryIn = Field(description="人群踩踏, 交通拥堵, 恐怖袭击, 火灾, 公共卫生, 恶劣天气, ...")
    source: RiskSourceIn = Field(description="活动固有 / 外部环境 / 威胁源")
    description: str = Field(default="", max_length=5000)
    zone_ids: list[int] = Field(default_factory=list, max_length=200, description="Zones the risk concerns")
    session_ids: list[int] = Field(default_factory=list, max_length=50, description="Sessions it concerns (empty: all)")
    controls: list[Control] = Field(default_factory=list, max_length=50)
    residual_likelihood: Scale | None = Field(default=None, description="Likelihood after the controls")
    residual_impact: Scale | None = Field(default=None, description="Impact after the controls")
    owner: str = Field(default="", max_length=120, description="风险责任人")


class RiskUpdate(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: RiskCategoryIn | None = None
    source: RiskSourceIn | None = None
    description: str | None = Field(default=None, max_length=5000)
    zone_ids: list[int] | None = Field(default=None, max_length=200)
    session_ids: list[int] | None = Field(default=None, max_length=50)
    controls: list[Control] | None = Field(default=None, max_length=50)
    residual_likelihood: Scale | None = None
    residual_impact: Scale | None = None
    owner: str | None = Field(default=None, max_length=120)


class ScoreIn(In):
    expert: str = Field(default="", max_length=120, description="专家姓名 (default: the signed-in user)")
    likelihood: Scale
    impact: Scale
    note: str = Field(default="", max_length=2000)


class ScoreOut(Out):
    id: int
    risk_id: int
    expert: str
    likelihood: int
    impact: int
    level: str
    note: str
    scored_at: UTCTime
    by: str


class AggregateOut(Out):
    n: int = Field(description="Number of experts")
    likelihood: int = Field(description="Median likelihood, rounded half up")
    impact: int
    level: str = Field(description="low 低 | medium 中 | high 高 | extreme 极高")
    likelihood_spread: int = Field(description="max - min")
    impact_spread: int
    disagreement: bool = Field(description="专家意见分歧: needs a consultation round (会商)")
    reason: str


class ControlOut(Out):
    measure: str
    owner: str = ""
    done: bool = False


class RiskOut(Stamped):
    id: int
    event_id: int
    code: str
    name: str
    category: str
    source: str
    description: str
    zone_ids: list[int]
    session_ids: list[int]
    controls: list[ControlOut]
    residual_likelihood: int | None
    residual_impact: int | None
    owner: str
    scores: list[ScoreOut] = Field(default_factory=list)
    aggregate: AggregateOut | None = Field(default=None, description="None until an expert has scored")
    residual_level: str | None = None
    level: str | None = Field(default=None, description="Current level: residual if scored, else the aggregate")


class MatrixIn(In):
    rows: list[list[RiskLevelIn]] = Field(description="5 rows (likelihood 1..5) of 5 levels (impact 1..5)")
    spread_limit: int = Field(default=2, ge=1, le=4, description="A scale spread this wide calls for 会商")
    level_gap: int = Field(default=2, ge=1, le=3, description="Experts' levels this many grades apart call for 会商")


class MatrixOut(Out):
    rows: list[list[str]]
    spread_limit: int
    level_gap: int
    default: bool = Field(description="True while the event uses the built-in matrix (levels by L x I; "
                                      "a catastrophic impact 5 is at least high)")
    counts: list[list[int]] = Field(default_factory=list,
                                    description="Risks in each cell (aggregate likelihood x impact) for the heat-map")
    residual_counts: list[list[int]] = Field(default_factory=list, description="The same after the controls")


class ZoneRiskOut(Out):
    zone_id: int
    code: str
    name: str
    level: str | None
    risks: list[str] = Field(description="Codes of the risks that give the level, worst first")
