"""Risk matrix and expert consultation 风险矩阵与专家会商 (GB/T 33170.1 style risk assessment).

A risk is scored on two 1-5 scales: likelihood 可能性 and impact 后果严重程度. A :class:`Matrix`
maps every (likelihood, impact) cell to a level 低 / 中 / 高 / 极高; it must define all 25 cells and
use only those levels, and a worse cell may not get a lower level than a better one (more likely or
more severe never lowers the level). The default matrix grades the product L x I: 1-4 低, 5-9 中,
10-16 高, 20-25 极高, with one floor: a catastrophic impact (5) is at least 高 whatever the
likelihood, so a rare 暴恐 (1 x 5 = 5) is 高, not 中 (docs/planning.md gives the reason; each event may
edit any cell).

Several experts score a risk independently; :func:`aggregate` gives the median of each scale
(rounded half up, so that the aggregate is a real cell), the spread (max - min) of each, the level
of the aggregate cell, and flags disagreement when a scale spreads over 2 or more points or the
experts' own levels lie 2 or more grades apart, which calls for 会商 (a consultation round).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LEVELS = ("low", "medium", "high", "extreme")
LEVEL_ZH = {"low": "低", "medium": "中", "high": "高", "extreme": "极高"}
SCALE = range(1, 6)


class RiskError(ValueError):
    """A score or a matrix that cannot be used; the message says where."""


@dataclass(frozen=True)
class Matrix:
    """cells[(likelihood, impact)] -> level code, for likelihood and impact 1..5."""

    cells: Mapping[tuple[int, int], str]

    def level(self, likelihood: int, impact: int) -> str:
        check_score(likelihood, "likelihood")
        check_score(impact, "impact")
        return self.cells[(likelihood, impact)]


def check_score(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
        raise RiskError(f"{what} must be a whole number from 1 to 5, got {value!r}")


def matrix_from_rows(rows: Sequence[Sequence[str]]) -> Matrix:
    """A matrix from 5 rows (likelihood 1..5) of 5 levels (impact 1..5), checked (see the module notes)."""
    if len(rows) != 5 or any(len(r) != 5 for r in rows):
        raise RiskError(f"the matrix needs 5 rows of 5 cells (likelihood x impact), got "
                        f"{[len(r) for r in rows]} cells per row")
    cells: dict[tuple[int, int], str] = {}
    for li, row in enumerate(rows, start=1):
        for im, level in enumerate(row, start=1):
            if level not in LEVELS:
                raise RiskError(f"cell likelihood {li} x impact {im}: unknown level {level!r} "
                                f"(use {', '.join(LEVELS)})")
            cells[(li, im)] = level
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    for (li, im), level in cells.items():
        for nl, ni in ((li + 1, im), (li, im + 1)):
            worse = cells.get((nl, ni))
            if worse is not None and rank[worse] < rank[level]:
                raise RiskError(f"cell likelihood {nl} x impact {ni} is {worse!r}, lower than the better cell "
                                f"likelihood {li} x impact {im} ({level!r})")
    return Matrix(cells)


#: the impact from which a risk is at least ``SEVERE_FLOOR`` whatever its likelihood (5: catastrophic 灾难性)
CATASTROPHIC = 5
SEVERE_FLOOR = "high"


def _by_product(li: int, im: int) -> str:
    p = li * im
    level = "low" if p <= 4 else "medium" if p <= 9 else "high" if p <= 16 else "extreme"
    if im >= CATASTROPHIC and LEVELS.index(level) < LEVELS.index(SEVERE_FLOOR):
        return SEVERE_FLOOR
    return level


DEFAULT_MATRIX = matrix_from_rows([[_by_product(li, im) for im in SCALE] for li in SCALE])


@dataclass(frozen=True)
class Score:
    expert: str
    likelihood: int
    impact: int


@dataclass(frozen=True)
class Aggregate:
    n: int
    likelihood: int  # median, rounded half up
    impact: int
    level: str
    likelihood_spread: int
    impact_spread: int
    levels: tuple[str, ...]  # each expert's own level, in the order given
    disagreement: bool
    reason: str  # Chinese, empty when the experts agree


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def aggregate(scores: Sequence[Score], matrix: Matrix = DEFAULT_MATRIX, *, spread_limit: int = 2,
              level_gap: int = 2) -> Aggregate:
    """The experts' scores combined (see the module notes); RiskError for no score or a bad one."""
    if not scores:
        raise RiskError("no expert score yet")
    for s in scores:
        check_score(s.likelihood, f"likelihood of {s.expert}")
        check_score(s.impact, f"impact of {s.expert}")
    lik = [s.likelihood for s in scores]
    imp = [s.impact for s in scores]
    li, im = _half_up(statistics.median(lik)), _half_up(statistics.median(imp))
    levels = tuple(matrix.level(s.likelihood, s.impact) for s in scores)
    rank = [LEVELS.index(lv) for lv in levels]
    ls, is_ = max(lik) - min(lik), max(imp) - min(imp)
    why = []
    if ls >= spread_limit:
        why.append(f"可能性评分相差 {ls} 分（{min(lik)}–{max(lik)}）")
    if is_ >= spread_limit:
        why.append(f"后果评分相差 {is_} 分（{min(imp)}–{max(imp)}）")
    if max(rank) - min(rank) >= level_gap:
        why.append(f"专家评定等级从{LEVEL_ZH[LEVELS[min(rank)]]}到{LEVEL_ZH[LEVELS[max(rank)]]}")
    return Aggregate(n=len(scores), likelihood=li, impact=im, level=matrix.level(li, im), likelihood_spread=ls,
                     impact_spread=is_, levels=levels, disagreement=bool(why),
                     reason="；".join(why) + ("，需专家会商" if why else ""))
