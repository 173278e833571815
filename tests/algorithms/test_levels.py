"""Warning levels: hand-worked sequences of the tracker, thresholds validation, forecasts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pytest

from anbao.algorithms.levels import (
    CAP_SEVERITY,
    DEFAULT_DENSITY,
    DEFAULT_OCCUPANCY,
    LEVEL_NAMES_ZH,
    Level,
    LevelTracker,
    Thresholds,
    Transition,
    classify,
)

B, Y, OG, R, N = Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED, Level.NONE


Step = tuple[Level, Level, float, float]


def run(tracker: LevelTracker, samples: Sequence[tuple[float, float | None]]) -> list[Step]:
    out = []
    for at, value in samples:
        t = tracker.step(value, at)
        if t is not None:
            out.append((t.before, t.after, t.at, t.value))
    return out


def test_default_density_levels_follow_domain():
    assert (DEFAULT_DENSITY.blue, DEFAULT_DENSITY.yellow, DEFAULT_DENSITY.orange, DEFAULT_DENSITY.red) == (2, 3, 4, 5)
    assert DEFAULT_DENSITY.hysteresis == 0.2 and DEFAULT_DENSITY.min_hold_s == 30 and DEFAULT_DENSITY.rising
    assert [LEVEL_NAMES_ZH[level] for level in (B, Y, OG, R)] == ["蓝", "黄", "橙", "红"]
    assert [CAP_SEVERITY[level] for level in (B, Y, OG, R)] == ["Minor", "Moderate", "Severe", "Extreme"]
    assert [int(level) for level in Level] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, N), (1.999, N), (2.0, B), (2.999, B), (3.0, Y), (3.95, Y), (4.0, OG), (4.99, OG), (5.0, R), (9.0, R),
])
def test_classify_boundaries_are_inclusive(value, expected):
    assert classify(value, DEFAULT_DENSITY) is expected


def test_classify_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        classify(math.nan, DEFAULT_DENSITY)


def test_hand_worked_density_sequence():
    """Samples every 10 s (one at 100 s is missing); default thresholds, hysteresis 0.2, hold 30 s."""
    tracker = LevelTracker(DEFAULT_DENSITY)
    samples = [
        (0, 1.5),    # none
        (10, 2.1),   # -> blue
        (20, 2.9),   # blue (below yellow 3)
        (30, 3.2),   # -> yellow
        (40, 4.1),   # -> orange
        (50, 3.95),  # below orange 4 but above release 3.8: stays orange
        (60, 3.7),   # below release 3.8, but orange held only 20 s: stays
        (70, 3.7),   # held 30 s: drops to yellow (3.7 >= yellow release 2.8)
        (80, 5.2),   # yellow -> red directly
        (90, 0.5),   # red held 10 s: stays
        (110, 0.5),  # held 30 s: drops to none in one step
    ]
    assert run(tracker, samples) == [
        (N, B, 10, 2.1), (B, Y, 30, 3.2), (Y, OG, 40, 4.1), (OG, Y, 70, 3.7), (Y, R, 80, 5.2), (R, N, 110, 0.5),
    ]
    assert tracker.level is N and tracker.since == 110


def test_transitions_carry_reasons_and_are_not_forecasts():
    tracker = LevelTracker(DEFAULT_DENSITY)
    up = tracker.step(4.1, 0)
    assert up == Transition(N, OG, 0, 4.1, "value 4.1 reaches orange threshold 4", forecast=False)
    assert tracker.step(3.7, 29.9) is None
    down = tracker.step(3.7, 30)
    assert down is not None and down.after is Y and not down.forecast
    assert down.reason == "value 3.7 below orange release 3.8 after 30 s held"


def test_drop_lands_where_a_gradual_descent_would():
    """From red, 2.9 is below yellow's threshold but within its hysteresis band: yellow, not blue."""
    tracker = LevelTracker(DEFAULT_DENSITY, level=R, since=0)
    assert run(tracker, [(30, 2.9)]) == [(R, Y, 30, 2.9)]
    tracker = LevelTracker(DEFAULT_DENSITY, level=R, since=0)
    assert run(tracker, [(30, 2.7)]) == [(R, B, 30, 2.7)]
    tracker = LevelTracker(DEFAULT_DENSITY, level=R, since=0)
    assert run(tracker, [(30, 1.79)]) == [(R, N, 30, 1.79)]


def test_each_further_drop_needs_a_new_hold():
    tracker = LevelTracker(DEFAULT_DENSITY, level=R, since=0)
    assert run(tracker, [(30, 4.5), (40, 3.5), (59, 3.5), (60, 3.5)]) == [(R, OG, 30, 4.5), (OG, Y, 60, 3.5)]


def test_flapping_around_yellow_gives_one_transition():
    """2.95/3.05 alternating every 5 s for 5 minutes: the hysteresis band (release 2.8) absorbs it."""
    samples = [(5.0 * i, 3.05 if i % 2 == 0 else 2.95) for i in range(61)]
    assert run(LevelTracker(DEFAULT_DENSITY), samples) == [(N, Y, 0.0, 3.05)]
    starting_at_blue = LevelTracker(DEFAULT_DENSITY, level=B, since=-100.0)
    assert run(starting_at_blue, samples[1:]) == [(B, Y, 10.0, 3.05)]


def test_none_keeps_the_state_and_the_hold_keeps_running():
    tracker = LevelTracker(DEFAULT_DENSITY)
    tracker.step(4.2, 0)
    for at in range(5, 300, 5):
        assert tracker.step(None, at) is None
        assert tracker.level is OG and tracker.since == 0
    assert tracker.step(None, 300, forecast=9.0) is None
    assert tracker.level is OG
    assert run(tracker, [(301, 1.0)]) == [(OG, N, 301, 1.0)]


def test_min_hold_zero_drops_at_once():
    tracker = LevelTracker(Thresholds(2, 3, 4, 5, min_hold_s=0))
    assert run(tracker, [(0, 4.0), (0, 3.79)]) == [(N, OG, 0, 4.0), (OG, Y, 0, 3.79)]


def test_samples_must_be_in_time_order_and_finite():
    tracker = LevelTracker(DEFAULT_DENSITY)
    tracker.step(1.0, 10)
    with pytest.raises(ValueError, match="time order"):
        tracker.step(1.0, 9)
    with pytest.raises(ValueError, match="finite"):
        tracker.step(math.nan, 11)
    with pytest.raises(ValueError, match="since is required"):
        LevelTracker(DEFAULT_DENSITY, level=Y)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"blue": 3, "yellow": 2, "orange": 4, "red": 5}, r"yellow \(2\) must be > blue \(3\)"),
    ({"blue": 2, "yellow": 3, "orange": 3, "red": 5}, r"orange \(3\) must be > yellow \(3\)"),
    ({"blue": 2, "yellow": 3, "orange": 4, "red": 4.5, "hysteresis": 0.5}, "smaller than the smallest gap"),
    ({"blue": 2, "yellow": 3, "orange": 4, "red": 5, "hysteresis": -0.1}, "hysteresis must be >= 0"),
    ({"blue": 2, "yellow": 3, "orange": 4, "red": 5, "min_hold_s": -1}, "min_hold_s must be >= 0"),
    ({"blue": 2, "yellow": 3, "orange": math.nan, "red": 5}, "orange must be a finite number"),
    ({"blue": 2, "yellow": 3, "orange": 4, "red": 5, "rising": False}, r"yellow \(3\) must be < blue \(2\)"),
    ({"blue": 0.5, "yellow": 0.3, "orange": 0.35, "red": 0.1, "rising": False}, r"orange \(0.35\) must be < yellow"),
])
def test_bad_thresholds_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Thresholds(**kwargs)


FREE_EXIT = Thresholds(blue=0.5, yellow=0.3, orange=0.2, red=0.1, hysteresis=0.05, rising=False)
"""Lower is worse: the fraction of exit capacity still free."""


@pytest.mark.parametrize(("value", "expected"), [
    (0.6, N), (0.5, B), (0.31, B), (0.3, Y), (0.2, OG), (0.1, R), (0.0, R),
])
def test_classify_falling(value, expected):
    assert classify(value, FREE_EXIT) is expected


def test_tracker_falling_quantity():
    tracker = LevelTracker(FREE_EXIT)
    samples = [
        (0, 0.6),    # none
        (10, 0.45),  # -> blue
        (20, 0.32),  # blue
        (30, 0.15),  # -> orange
        (40, 0.22),  # above 0.2 but within release 0.25: stays
        (60, 0.27),  # above release 0.25, held 30 s: yellow (0.27 <= yellow release 0.35)
        (90, 0.7),   # held 30 s: none
    ]
    assert run(tracker, samples) == [(N, B, 10, 0.45), (B, OG, 30, 0.15), (OG, Y, 60, 0.27), (Y, N, 90, 0.7)]


def test_forecast_raises_early_and_holds_the_level():
    tracker = LevelTracker(DEFAULT_DENSITY)
    assert tracker.step(3.2, 0) == Transition(N, Y, 0, 3.2, "value 3.2 reaches yellow threshold 3")
    early = tracker.step(3.4, 10, forecast=4.3)
    assert early == Transition(Y, OG, 10, 3.4, "forecast 4.3 reaches orange threshold 4 + 0.2 (value 3.4)",
                               forecast=True)
    # the forecast still reaches orange's release after the hold: orange stays though the value is yellow
    assert tracker.step(3.5, 50, forecast=3.9) is None
    # a forecast holds the level for min_hold_s (30 s) after it was made: 3.9 at 50 s holds orange to 80 s
    assert tracker.step(3.5, 80, forecast=0.0) is None
    # a forecast below the value does not lower it: the worse of the two counts
    assert tracker.step(3.5, 81, forecast=0.0) is not None
    assert tracker.level is Y


def test_forecast_holds_a_level_the_value_alone_would_leave():
    tracker = LevelTracker(DEFAULT_DENSITY, level=R, since=0)
    dropped = tracker.step(1.0, 40, forecast=3.1)
    assert dropped is not None
    assert (dropped.before, dropped.after, dropped.forecast) == (R, Y, True)
    assert dropped.reason == "forecast 3.1 below red release 4.8 after 40 s held"


def test_forecast_below_current_level_and_observed_raise_are_not_forecasts():
    tracker = LevelTracker(DEFAULT_DENSITY)
    assert tracker.step(2.5, 0, forecast=2.9) == Transition(N, B, 0, 2.5, "value 2.5 reaches blue threshold 2")
    t = tracker.step(5.1, 5, forecast=4.0)
    assert t is not None and t.after is R and not t.forecast
    with pytest.raises(ValueError, match="forecast must be a finite number"):
        tracker.step(5.1, 6, forecast=math.inf)


def test_a_forecast_must_pass_the_threshold_by_the_hysteresis_band():
    tracker = LevelTracker(DEFAULT_DENSITY)  # blue 2, hysteresis 0.2: a forecast raises blue from 2.2
    assert tracker.step(1.9, 0, forecast=2.19) is None
    t = tracker.step(1.9, 1, forecast=2.2)
    assert t is not None and (t.after, t.forecast) == (B, True)
    assert DEFAULT_DENSITY.forecast_bound(Y) == 3.2
    falling = Thresholds(blue=20, yellow=15, orange=10, red=None, hysteresis=1, min_hold_s=0, rising=False)
    assert falling.forecast_bound(Y) == 14
    assert LevelTracker(falling).step(25, 0, forecast=14.5) is not None  # 14.5 passes blue's 19 only
    assert LevelTracker(falling).step(25, 0, forecast=14.5).after is B  # type: ignore[union-attr]
    assert LevelTracker(falling).step(25, 0, forecast=14).after is Y  # type: ignore[union-attr]


def test_forecasts_around_a_threshold_do_not_flap():
    """Issue 13: after the surge the density hovers near 2.0 and a noisy slope sends the forecast back and
    forth across the blue line: one blue warning, not six."""
    tracker = LevelTracker(DEFAULT_DENSITY)  # hold 30 s, hysteresis 0.2
    values = [1.85, 1.75, 1.85, 1.75] * 15  # one sample every 5 s for 5 minutes
    forecasts = [2.25, None, 2.25, None] * 15
    rises = [t for i, (v, f) in enumerate(zip(values, forecasts, strict=True))
             if (t := tracker.step(v, i * 5.0, forecast=f)) is not None and t.after > t.before]
    assert len(rises) == 1  # was 6: each forecast holds the level for min_hold_s
    assert rises[0].forecast and rises[0].at == 0
    # a level left by a drop is held against forecasts for min_hold_s; the observed value still raises at once
    tracker = LevelTracker(DEFAULT_DENSITY, level=B, since=0)
    assert tracker.step(1.7, 30) is not None and tracker.level is N and tracker.dropped_at == 30
    assert tracker.step(1.7, 59.9, forecast=2.5) is None
    t = tracker.step(1.7, 60, forecast=2.5)
    assert t is not None and t.forecast and t.after is B
    tracker = LevelTracker(DEFAULT_DENSITY, level=B, since=0)
    tracker.step(1.7, 30)
    t = tracker.step(2.1, 31, forecast=2.5)
    assert t is not None and t.after is B and not t.forecast


def test_an_off_delay_needs_the_value_clear_sample_after_sample():
    """Issue 13 item 9: a full stand at 100 % +- 5 % flapped yellow/blue every 30 s. With clear_s the level
    drops only after the value stayed beyond the release that long without a break."""
    th = Thresholds(blue=95.0, yellow=100.0, orange=105.0, red=110.0, hysteresis=2.0, min_hold_s=30.0, clear_s=30.0)
    noisy = [(3.0 * i, 96.0 if i % 3 == 2 else 101.0) for i in range(200)]  # 96 (below release 98) every third
    assert run(LevelTracker(th), noisy) == [(N, Y, 0.0, 101.0)]
    flapping = run(LevelTracker(replace(th, clear_s=0.0)), noisy)  # what it stops: held 30 s, one quiet sample
    assert flapping[:3] == [(N, Y, 0.0, 101.0), (Y, B, 33.0, 96.0), (B, Y, 36.0, 101.0)] and len(flapping) > 20
    tracker = LevelTracker(th, level=Y, since=0.0)
    assert run(tracker, [(40, 96.0), (60, 96.0), (69.9, 96.0), (70, 96.0)]) == [(Y, B, 70, 96.0)]
    assert tracker.clear_since is None
    # a sample back within the release starts the count again
    tracker = LevelTracker(th, level=Y, since=0.0)
    assert run(tracker, [(40, 96.0), (60, 99.0), (80, 96.0), (109.9, 96.0), (110, 96.0)]) == [(Y, B, 110, 96.0)]
    assert LevelTracker(th, level=Y, since=0.0).step(96.0, 100.0) is None  # held long enough, but clear 0 s
    with pytest.raises(ValueError, match="clear_s"):
        Thresholds(blue=1.0, yellow=2.0, orange=3.0, red=4.0, clear_s=-1.0)


@pytest.mark.parametrize(("pct", "expected"), [
    (99.9, N), (100.0, B), (104.9, B), (105.0, Y), (109.9, Y), (110.0, OG), (119.9, OG), (120.0, R),
])
def test_occupancy_ladder_full_is_blue_and_overfill_beyond_the_count_error_is_yellow(pct, expected):
    """A sold-out stand (100 %) is a 满座 notice; more people than seats past the +-5 % counting error warns."""
    assert classify(pct, DEFAULT_OCCUPANCY) is expected


def test_occupancy_hysteresis_is_three_points():
    assert [DEFAULT_OCCUPANCY.release(lv) for lv in (B, Y, OG, R)] == [97.0, 102.0, 107.0, 117.0]


def test_zero_hysteresis_is_allowed_and_equal_falling_thresholds_are_not():
    assert Thresholds(blue=1.0, yellow=2.0, orange=None, red=None, hysteresis=0.0).release(B) == 1.0
    with pytest.raises(ValueError, match="must decrease"):
        Thresholds(blue=5.0, yellow=5.0, orange=None, red=None, hysteresis=0.0, rising=False)


def test_a_drop_after_an_off_delay_says_how_long_it_was_clear_and_by_what():
    th = Thresholds(blue=2.0, yellow=3.0, orange=4.0, red=5.0, min_hold_s=0.0, clear_s=1.0)
    tracker = LevelTracker(th, level=Y, since=0.0)
    assert tracker.step(2.5, 10.0) is None
    down = tracker.step(2.5, 11.5)
    assert down is not None and down.reason == "value 2.5 below yellow release 2.8 after 11.5 s held, 1.5 s clear"
    # a forecast held from before that does not decide the drop is not named: the value is
    tracker = LevelTracker(th, level=Y, since=0.0)
    assert tracker.step(2.5, 1.0, forecast=2.6) is None  # forecast 2.6 held: also below the release, blue too
    down = tracker.step(2.5, 2.0)
    assert down is not None and down.after is B and not down.forecast
    assert down.reason == "value 2.5 below yellow release 2.8 after 2 s held, 1 s clear", down.reason


@pytest.mark.parametrize("value", [0.0, 1.99, 2.0, 2.5, 5.0, 9.0])
def test_reaches_a_level_agrees_with_classify(value):
    assert DEFAULT_DENSITY.reaches_a_level(value) is (classify(value, DEFAULT_DENSITY) is not N)
    assert FREE_EXIT.reaches_a_level(value / 10) is (classify(value / 10, FREE_EXIT) is not N)
