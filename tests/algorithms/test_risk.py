"""Risk matrix checks and expert aggregation."""

import pytest

from anbao.algorithms.risk import DEFAULT_MATRIX, RiskError, Score, aggregate, matrix_from_rows


def test_default_matrix_grades_the_product_and_a_catastrophic_impact_is_at_least_high():
    # a rare but catastrophic risk (暴恐: likelihood 1 x impact 5 = 5) is high, not medium
    assert [DEFAULT_MATRIX.level(1, i) for i in range(1, 6)] == ["low", "low", "low", "low", "high"]
    assert DEFAULT_MATRIX.level(3, 3) == "medium" and DEFAULT_MATRIX.level(2, 5) == "high"
    assert DEFAULT_MATRIX.level(4, 4) == "high" and DEFAULT_MATRIX.level(4, 5) == "extreme"
    assert DEFAULT_MATRIX.level(5, 5) == "extreme"
    rows = [[DEFAULT_MATRIX.level(li, im) for im in range(1, 6)] for li in range(1, 6)]
    assert rows == [
        ["low", "low", "low", "low", "high"],
        ["low", "low", "medium", "medium", "high"],
        ["low", "medium", "medium", "high", "high"],
        ["low", "medium", "high", "high", "extreme"],
        ["medium", "high", "high", "extreme", "extreme"],
    ]


def test_the_catastrophic_floor_is_a_default_an_event_may_edit():
    rows = [[DEFAULT_MATRIX.level(li, im) for im in range(1, 6)] for li in range(1, 6)]
    rows[0][4] = "medium"  # the planner rates a rare catastrophic risk medium again
    assert matrix_from_rows(rows).level(1, 5) == "medium"


@pytest.mark.parametrize("bad", [0, 6, 2.5, True, "3"])
def test_scores_out_of_range_are_refused(bad):
    with pytest.raises(RiskError, match="likelihood must be a whole number from 1 to 5"):
        DEFAULT_MATRIX.level(bad, 3)


def test_a_matrix_must_define_every_cell_with_known_levels_and_never_drop():
    rows = [["low"] * 5 for _ in range(5)]
    with pytest.raises(RiskError, match="5 rows of 5 cells"):
        matrix_from_rows(rows[:4])
    with pytest.raises(RiskError, match="5 rows of 5 cells"):
        matrix_from_rows([*rows[:4], ["low"] * 4])
    odd = [r[:] for r in rows]
    odd[2][3] = "severe"
    with pytest.raises(RiskError, match="likelihood 3 x impact 4: unknown level 'severe'"):
        matrix_from_rows(odd)
    drop = [r[:] for r in rows]
    drop[1][1] = "high"  # likelihood 2 x impact 2 high, but 3 x 2 stays low: more likely cannot be lower
    with pytest.raises(RiskError, match="likelihood 3 x impact 2 is 'low', lower than"):
        matrix_from_rows(drop)
    assert matrix_from_rows(rows).level(5, 5) == "low"  # a flat matrix is allowed


def test_experts_agree():
    a = aggregate([Score("王", 3, 4), Score("李", 3, 3), Score("张", 4, 4)])
    assert (a.n, a.likelihood, a.impact, a.level) == (3, 3, 4, "high")
    assert (a.likelihood_spread, a.impact_spread, a.disagreement, a.reason) == (1, 1, False, "")
    assert a.levels == ("high", "medium", "high")


def test_disagreement_is_flagged_with_the_reason_and_medians_round_half_up():
    a = aggregate([Score("王", 2, 2), Score("李", 4, 5), Score("张", 3, 4), Score("赵", 2, 4)])
    # likelihood median of 2, 2, 3, 4 = 2.5 -> 3; impact median of 2, 4, 4, 5 = 4
    assert (a.likelihood, a.impact, a.level) == (3, 4, "high")
    assert a.disagreement and a.likelihood_spread == 2 and a.impact_spread == 3
    assert "可能性评分相差 2 分（2–4）" in a.reason and "后果评分相差 3 分（2–5）" in a.reason
    assert "专家评定等级从低到极高" in a.reason and a.reason.endswith("需专家会商")


def test_no_score_and_bad_scores():
    with pytest.raises(RiskError, match="no expert score"):
        aggregate([])
    with pytest.raises(RiskError, match="impact of 李 must be a whole number"):
        aggregate([Score("王", 3, 3), Score("李", 3, 7)])
