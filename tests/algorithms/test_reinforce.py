"""Reinforcement planning (pure), on hand-worked cases."""

from __future__ import annotations

import math

import pytest

from anbao.algorithms.reinforce import PostState, ReinforceError, UnitAtPost, plan_reinforcement


def _post(post_id: int, min_staff: int, *units: tuple[int, int, float], critical: bool = False,
          busy: tuple[int, ...] = ()) -> PostState:
    return PostState(post_id, min_staff, critical,
                     tuple(UnitAtPost(u, n, t, releasable=u not in busy) for u, n, t in units))


def test_surplus_of_non_critical_posts_first_nearest_first() -> None:
    # post 1: 6 present, min 4, surplus 2, 300 s away; post 2: 5 present, min 2, surplus 3, 100 s away;
    # post 3 (critical): surplus 4, 10 s away -- only touched once the non-critical surplus is gone
    posts = [_post(1, 4, (11, 6, 300.0)), _post(2, 2, (21, 2, 100.0), (22, 3, 120.0)),
             _post(3, 2, (31, 6, 10.0), critical=True)]
    plan = plan_reinforcement(posts, 4)
    # post 2 first (100 s): unit 21 sends both officers, unit 22 one (a detachment: surplus 3 = 2 + 1);
    # then post 1 (300 s): 1 more of unit 11's six
    assert [(m.post_id, m.unit_id, m.officers, m.below_min) for m in plan.moves] == [
        (2, 21, 2, False), (2, 22, 1, False), (1, 11, 1, False)]
    assert (plan.released, plan.short) == (4, 0)
    assert plan.left == {1: 5, 2: 2, 3: 6}


def test_critical_surplus_next_then_short() -> None:
    posts = [_post(1, 4, (11, 5, 50.0)), _post(2, 2, (21, 4, 20.0), critical=True)]
    plan = plan_reinforcement(posts, 5)
    # non-critical surplus 1, critical surplus 2: 3 released, 2 short; nobody below the minimum
    assert [(m.post_id, m.officers) for m in plan.moves] == [(2, 2), (1, 1)]  # listed fastest first
    assert (plan.released, plan.short) == (3, 2)
    assert plan.left == {1: 4, 2: 2}


def test_below_min_only_when_allowed_and_never_at_critical_posts() -> None:
    posts = [_post(1, 4, (11, 4, 50.0)), _post(2, 3, (21, 3, 20.0), critical=True)]
    assert plan_reinforcement(posts, 2).released == 0
    plan = plan_reinforcement(posts, 2, below_min=True)
    assert [(m.post_id, m.unit_id, m.officers, m.below_min) for m in plan.moves] == [(1, 11, 2, True)]
    assert plan.left == {1: 2, 2: 3} and plan.short == 0
    # a unit already sending its surplus share adds the rest in the below-minimum phase, as one move
    posts = [_post(1, 2, (11, 3, 50.0))]
    plan = plan_reinforcement(posts, 3, below_min=True)
    assert [(m.unit_id, m.officers, m.below_min) for m in plan.moves] == [(11, 3, True)]


def test_busy_and_unreachable_units_count_but_do_not_move() -> None:
    # 8 present (busy unit 12 included), min 4: surplus 4, but only unit 11 (2 officers) may move;
    # unit 13 cannot reach the zone at all
    posts = [_post(1, 4, (11, 2, 60.0), (12, 4, 10.0), (13, 2, math.inf), busy=(12,))]
    plan = plan_reinforcement(posts, 4)
    assert [(m.unit_id, m.officers) for m in plan.moves] == [(11, 2)]
    assert (plan.released, plan.short) == (2, 2) and plan.left == {1: 6}


def test_ties_break_by_id_and_bad_input_is_refused() -> None:
    posts = [_post(2, 0, (21, 1, 30.0)), _post(1, 0, (11, 1, 30.0))]
    assert [m.unit_id for m in plan_reinforcement(posts, 1).moves] == [11]
    with pytest.raises(ReinforceError, match="need"):
        plan_reinforcement(posts, 0)
    with pytest.raises(ReinforceError, match="officers"):
        plan_reinforcement([_post(1, 0, (11, 0, 1.0))], 1)
    with pytest.raises(ReinforceError, match="min_staff"):
        plan_reinforcement([_post(1, -1, (11, 1, 1.0))], 1)
