"""Zone fusion, gate-flow occupancy, trend and forecast: hand-computed expectations."""

from __future__ import annotations

import math

import pytest

from anbao.algorithms.density import (
    FusionConfig,
    SensorSample,
    TrendResult,
    ZoneEstimate,
    forecast,
    fuse,
    occupancy_from_flows,
    trend,
)

NOW = 1_000_000.0
AREA = 400.0


def s(sensor_id: str, kind: str, value: float, age: float = 0.0) -> SensorSample:
    return SensorSample(sensor_id=sensor_id, kind=kind, value=value, at=NOW - age)


# ------------------------------------------------------------------------------------------------ fusion


def test_stale_samples_are_dropped_and_listed():
    est = fuse([s("cam1", "video_count", 900, age=61), s("wifi1", "wifi_probe", 1000, age=5)], AREA, NOW)
    assert est == ZoneEstimate(count=600.0, density=1.5, source="probe", used=("wifi1",), stale=("cam1",))


def test_a_sample_exactly_stale_after_old_is_still_fresh():
    est = fuse([s("cam1", "video_count", 800, age=60)], AREA, NOW, FusionConfig(stale_after_s=60))
    assert (est.count, est.stale) == (800, ())


def test_newest_sample_per_sensor_wins():
    samples = [s("cam1", "video_count", 300, age=2), s("cam1", "video_count", 900, age=30),
               s("cam2", "video_count", 100)]
    est = fuse(samples, AREA, NOW)
    assert (est.count, est.used) == (300, ("cam1", "cam2"))


def test_sensor_stale_only_when_its_newest_sample_is_stale():
    est = fuse([s("cam1", "video_count", 900, age=600), s("cam1", "video_count", 200, age=1)], AREA, NOW)
    assert (est.count, est.stale) == (200, ())


def test_video_preferred_over_probes_and_manual():
    samples = [s("cam1", "video_count", 1200), s("wifi1", "wifi_probe", 5000), s("m1", "manual", 50)]
    est = fuse(samples, AREA, NOW)
    assert (est.count, est.density, est.source, est.used) == (1200, 3.0, "video", ("cam1",))


def test_prefer_video_false_puts_video_last():
    samples = [s("cam1", "video_count", 1200), s("wifi1", "wifi_probe", 1000)]
    est = fuse(samples, AREA, NOW, FusionConfig(prefer_video=False))
    assert (est.count, est.source) == (600, "probe")
    est = fuse([samples[0]], AREA, NOW, FusionConfig(prefer_video=False))
    assert (est.count, est.source) == (1200, "video")


def test_probe_ratio_applied_to_the_median_probe():
    samples = [s("w1", "wifi_probe", 1000), s("w2", "wifi_probe", 2000), s("b1", "bluetooth", 500)]
    est = fuse(samples, AREA, NOW, FusionConfig(probe_ratio=0.5))
    # 500, 1000 and 250 persons: median 500
    assert (est.count, est.density, est.source, est.used) == (500, 1.25, "probe", ("b1", "w1", "w2"))
    est = fuse(samples, AREA, NOW, FusionConfig(probe_ratio=0.5, bluetooth_ratio=4.0))
    # 500, 1000 and 2000 persons: median 1000
    assert est.count == 1000


def test_manual_count_used_before_probes_newest_wins():
    samples = [s("m1", "manual", 700, age=20), s("m2", "manual", 650, age=3), s("w1", "wifi_probe", 100)]
    est = fuse(samples, AREA, NOW)
    assert (est.count, est.source, est.used) == (650, "manual", ("m2",))


def test_no_fresh_data_gives_none():
    assert fuse([], AREA, NOW) == ZoneEstimate(count=None, density=None, source="none", used=(), stale=())
    est = fuse([s("cam1", "video_count", 500, age=120), s("g1", "gate_counter", 40)], AREA, NOW)
    assert est == ZoneEstimate(count=None, density=None, source="none", used=(), stale=("cam1",))


def test_samples_from_the_future_are_ignored():
    samples = [s("cam1", "video_count", 100, age=-3600), s("cam2", "video_count", 40, age=-4)]
    est = fuse(samples, AREA, NOW)
    assert (est.count, est.used, est.stale) == (40, ("cam2",), ("cam1",))


@pytest.mark.parametrize(("rule", "coverage", "expected"), [
    ("max", {}, 300.0),
    ("sum", {}, 600.0),
    # disjoint quarters: (100 + 200 + 300) / 0.75 = 800 persons in the whole zone
    ("coverage", {"c1": 0.25, "c2": 0.25, "c3": 0.25}, 800.0),
    # undeclared coverage counts as the whole zone: the mean, floored at the largest count -> 300
    ("coverage", {}, 300.0),
    # overlapping half views: 600 / 1.5 = 400
    ("coverage", {"c1": 0.5, "c2": 0.5, "c3": 0.5}, 400.0),
])
def test_video_rules(rule, coverage, expected):
    samples = [s("c1", "video_count", 100), s("c2", "video_count", 200), s("c3", "video_count", 300)]
    est = fuse(samples, AREA, NOW, FusionConfig(video_rule=rule, coverage=coverage))
    assert est.count == pytest.approx(expected)
    assert est.density == pytest.approx(expected / AREA)


def test_default_video_rule_is_max():
    assert FusionConfig().video_rule == "max"


@pytest.mark.parametrize("area", [0.0, -5.0, math.nan, math.inf])
def test_bad_area_raises(area):
    with pytest.raises(ValueError, match="area_m2"):
        fuse([s("cam1", "video_count", 10)], area, NOW)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sensor_id": "x", "kind": "radar", "value": 1, "at": 0}, "unknown sensor kind"),
    ({"sensor_id": "x", "kind": "manual", "value": -1, "at": 0}, "value must be >= 0"),
    ({"sensor_id": "x", "kind": "manual", "value": math.nan, "at": 0}, "value must be a finite"),
])
def test_bad_samples_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SensorSample(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"video_rule": "mean"}, "unknown video_rule"),
    ({"coverage": {"c1": 0.0}}, "coverage of 'c1'"),
    ({"coverage": {"c1": 1.5}}, "coverage of 'c1'"),
    ({"probe_ratio": -0.1}, "probe_ratio must be >= 0"),
    ({"stale_after_s": math.inf}, "stale_after_s must be a finite"),
])
def test_bad_config_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FusionConfig(**kwargs)


def test_config_coverage_is_a_frozen_copy():
    given = {"c1": 0.5}
    config = FusionConfig(coverage=given)
    given["c1"] = 1.0
    assert config.coverage["c1"] == 0.5
    with pytest.raises(TypeError):
        config.coverage["c1"] = 0.9  # type: ignore[index]
    assert hash(config) == hash(FusionConfig(coverage={"c1": 0.7}))


# ------------------------------------------------------------------------------------------------ gate flows


@pytest.mark.parametrize(("initial", "entries", "exits", "expected"), [
    (100, [], [], 100.0),
    (100, [50, 30, 0], [20, 10, 40], 110.0),
    # 10 - 25 would be -15: clamped to 0, then 5 come in (not -10)
    (10, [0, 5], [25, 0], 5.0),
    (0, [0], [3], 0.0),
])
def test_occupancy_from_flows(initial, entries, exits, expected):
    assert occupancy_from_flows(initial, entries, exits) == expected


@pytest.mark.parametrize(("initial", "entries", "exits", "message"), [
    (0, [1, 2], [1], "same length"),
    (-1, [], [], "initial must be >= 0"),
    (0, [1, -2], [0, 0], r"entries\[1\]=-2"),
])
def test_occupancy_from_flows_rejects_bad_input(initial, entries, exits, message):
    with pytest.raises(ValueError, match=message):
        occupancy_from_flows(initial, entries, exits)


# ------------------------------------------------------------------------------------------------ trend


def linear(a: float, per_s: float, times: range) -> list[tuple[float, float]]:
    return [(float(t), a + per_s * t) for t in times]


@pytest.mark.parametrize(("per_s", "direction"), [(0.01, "rising"), (-0.005, "falling"), (0.0, "steady"),
                                                  (0.0002, "steady")])
def test_trend_of_a_linear_series_has_its_exact_slope(per_s, direction):
    result = trend(linear(2.0, per_s, range(0, 301, 10)), window_s=300)
    assert result.slope_per_min == pytest.approx(per_s * 60, abs=1e-12)
    assert result.direction == direction
    assert result.points == 31


def test_trend_uses_only_the_window_and_any_order():
    flat = [(float(t), 1.0) for t in range(0, 600, 10)]
    rising = linear(1.0 - 0.02 * 600, 0.02, range(600, 901, 10))  # 1.0 at t=600, +1.2 per minute
    series = list(reversed(flat + rising))
    result = trend(series, window_s=300)
    assert (result.slope_per_min, result.direction, result.points) == (pytest.approx(1.2), "rising", 31)
    assert trend(series, window_s=900).slope_per_min < 1.0


def test_trend_steady_band_is_configurable():
    series = linear(2.0, 0.001, range(0, 301, 10))  # 0.06 per minute
    assert trend(series, 300).direction == "rising"
    assert trend(series, 300, steady_per_min=0.1).direction == "steady"


def test_trend_with_too_little_data_is_flat():
    assert trend([], 60) == TrendResult(0.0, "steady", 0)
    assert trend([(5.0, 3.0), (5.0, 4.0)], 60) == TrendResult(0.0, "steady", 2)
    with pytest.raises(ValueError, match="window_s"):
        trend([(0.0, 1.0)], 0)


# ------------------------------------------------------------------------------------------------ forecast


def test_forecast_extrapolates_a_linear_series_exactly():
    series = linear(1.0, 0.005, range(0, 301, 10))  # 2.5 at t=300, +0.3 per minute
    assert forecast(series, horizon_s=120) == pytest.approx(3.1)
    assert forecast(series, horizon_s=0) == pytest.approx(2.5)


def test_forecast_is_clamped_at_zero_and_needs_two_times():
    falling = linear(3.0, -0.01, range(0, 301, 10))  # 0.0 at t=300
    assert forecast(falling, horizon_s=600) == 0.0
    assert forecast([(0.0, 2.0)], 60) is None
    assert forecast([], 60) is None
    with pytest.raises(ValueError, match="horizon_s"):
        forecast(falling, -1)


def test_forecast_uses_the_window():
    series = [(float(t), 1.0) for t in range(0, 600, 10)] + linear(-5.0, 0.01, range(600, 901, 10))
    assert forecast(series, 60, window_s=300) == pytest.approx(4.6)
    assert forecast(series, 60, window_s=60) == pytest.approx(4.6)
