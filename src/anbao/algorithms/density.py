"""Zone crowd state from many sensors: fusion, gate-flow occupancy, trend and a baseline forecast.

Units: counts in persons, areas in square metres, densities in persons/m2, times in unix seconds
(any monotonic seconds work as long as samples and ``now`` share the clock), slopes per minute.

Fusion rule (:func:`fuse`)
--------------------------
1. For every sensor keep only its newest sample. Samples stamped more than
   :attr:`FusionConfig.future_tolerance_s` after ``now`` are ignored (a wrong sensor clock would
   otherwise make a sample "newest" forever). A sensor whose newest sample is older than
   :attr:`FusionConfig.stale_after_s` is *stale*: it is listed in :attr:`ZoneEstimate.stale` and
   not used. A sample exactly ``stale_after_s`` old is still fresh.
2. The count comes from the first source kind in priority order that has a fresh sample:

   * ``prefer_video=True`` (default): video, then manual, then probe;
   * ``prefer_video=False`` (e.g. cameras known to be blinded at night or in rain): manual, then
     probe, then video as last resort.

   Lower-priority sources are not mixed in: each source has a different error model, and averaging
   a good estimate with a poor one only makes it worse.
3. **Video** (``video_count``): a camera counts the people inside its own counting region, which may
   cover all of the zone or part of it, and cameras may overlap. :attr:`FusionConfig.video_rule`:

   * ``"max"`` (**default**): count = the largest fresh video count. This assumes the views
     overlap (each camera sees essentially the whole zone). It can never double count a person,
     so overlapping cameras cannot raise a false red; and among overlapping views the highest
     count is the least occluded one (detection-based counters undercount dense crowds), so the
     maximum is the conservative choice under that assumption. It needs no installation
     metadata, which is why it is the default. Its failure mode is known: for cameras watching
     *disjoint* parts of a zone it undercounts (only the busiest part is counted); such zones
     should use ``"coverage"``.
   * ``"coverage"``: each camera declares the fraction of the zone's area its counting region
     covers (:attr:`FusionConfig.coverage`, by sensor id, in (0, 1]; undeclared cameras count as
     1.0, i.e. seeing the whole zone). count = sum(counts) / sum(coverages): the pooled density
     over all watched area, extrapolated to the whole zone. The same formula is right for disjoint
     views (4 cameras each covering a quarter sum to the whole) and for overlapping views (doubly
     watched area is counted twice in both sums), assuming the crowd is spread about evenly over
     the watched parts. The result is never below the largest single count (the zone holds at
     least everyone one camera sees), which bounds the error when coverages are overstated.
   * ``"sum"``: count = the sum of fresh video counts: cameras tile the zone without overlap
     and unwatched parts are empty.

4. **Manual** (``manual``): a steward's head count of the whole zone; the newest fresh one wins.
5. **Probe** (``wifi_probe``, ``bluetooth``): a probe counts devices, not people (not everyone
   carries a phone with WiFi or Bluetooth on; some carry two), so each probe value is multiplied by
   a calibrated persons-per-device ratio (:attr:`FusionConfig.probe_ratio`, or
   :attr:`FusionConfig.bluetooth_ratio` for Bluetooth) and the count is the median over probes,
   robust to one probe catching a neighbouring zone.
6. **Gate counters** (``gate_counter``) measure flow (persons passing per interval), not how many
   are inside, so they never set the count here; accumulate them with
   :func:`occupancy_from_flows`. A caller that does so may report the result as source
   ``"counter"``; :func:`fuse` never returns that source.
7. No fresh count-giving sample: count and density are ``None``, source ``"none"``.

density = count / area_m2. :attr:`ZoneEstimate.used` lists the sensors whose samples set the count.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

SensorKind = Literal["video_count", "gate_counter", "wifi_probe", "bluetooth", "manual"]
SENSOR_KINDS: tuple[str, ...] = ("video_count", "gate_counter", "wifi_probe", "bluetooth", "manual")
VideoRule = Literal["max", "coverage", "sum"]
VIDEO_RULES: tuple[str, ...] = ("max", "coverage", "sum")
Source = Literal["video", "manual", "probe", "counter", "none"]
Direction = Literal["rising", "falling", "steady"]


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class SensorSample:
    """One reading of one sensor.

    ``value`` is persons (``video_count``, ``manual``), detected devices (``wifi_probe``,
    ``bluetooth``) or persons passing in the reporting interval (``gate_counter``); ``at`` is the
    measurement time in unix seconds.
    """

    sensor_id: str
    kind: str
    value: float
    at: float

    def __post_init__(self) -> None:
        if self.kind not in SENSOR_KINDS:
            raise ValueError(f"unknown sensor kind {self.kind!r}; expected one of {', '.join(SENSOR_KINDS)}")
        _finite("value", self.value)
        _finite("at", self.at)
        if self.value < 0:
            raise ValueError(f"value must be >= 0, got {self.value}")


@dataclass(frozen=True)
class FusionConfig:
    """How :func:`fuse` combines samples (see the module docstring for the rule).

    stale_after_s: a sample older than this (seconds) is not used.
    probe_ratio: persons per detected WiFi device (calibrated per venue; 0.6 by default).
    bluetooth_ratio: persons per detected Bluetooth device; ``None`` uses ``probe_ratio``.
    prefer_video: video before manual and probe counts (``True``), or video as last resort.
    video_rule: ``"max"`` (overlapping views, default), ``"coverage"`` or ``"sum"``.
    coverage: sensor id -> fraction (0, 1] of the zone's area in that camera's counting region
        (``"coverage"`` rule only; undeclared cameras count as 1.0).
    future_tolerance_s: samples stamped more than this many seconds after ``now`` are ignored.
    """

    stale_after_s: float = 60.0
    probe_ratio: float = 0.6
    bluetooth_ratio: float | None = None
    prefer_video: bool = True
    video_rule: VideoRule = "max"
    coverage: Mapping[str, float] = field(default_factory=dict, hash=False)
    future_tolerance_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("stale_after_s", "probe_ratio", "future_tolerance_s"):
            value = getattr(self, name)
            _finite(name, value)
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.bluetooth_ratio is not None:
            _finite("bluetooth_ratio", self.bluetooth_ratio)
            if self.bluetooth_ratio < 0:
                raise ValueError(f"bluetooth_ratio must be >= 0, got {self.bluetooth_ratio}")
        if self.video_rule not in VIDEO_RULES:
            raise ValueError(f"unknown video_rule {self.video_rule!r}; expected one of {', '.join(VIDEO_RULES)}")
        for sensor_id, fraction in self.coverage.items():
            if not (math.isfinite(fraction) and 0 < fraction <= 1):
                raise ValueError(f"coverage of {sensor_id!r} must be in (0, 1], got {fraction}")
        object.__setattr__(self, "coverage", MappingProxyType(dict(self.coverage)))


@dataclass(frozen=True)
class ZoneEstimate:
    """Fused state of one zone.

    count: persons in the zone, ``None`` without fresh data.
    density: persons/m2, ``None`` without fresh data.
    source: the source kind that set the count, ``"none"`` without fresh data.
    used: ids of the sensors whose samples set the count (sorted).
    stale: ids of the sensors whose newest sample was too old or from the future (sorted).
    """

    count: float | None
    density: float | None
    source: Source
    used: tuple[str, ...]
    stale: tuple[str, ...]


def _video_count(samples: Sequence[SensorSample], config: FusionConfig) -> float:
    values = [s.value for s in samples]
    if config.video_rule == "max":
        return max(values)
    if config.video_rule == "sum":
        return math.fsum(values)
    covered = math.fsum(config.coverage.get(s.sensor_id, 1.0) for s in samples)
    return max(math.fsum(values) / covered, max(values))


def fuse(samples: Iterable[SensorSample], area_m2: float, now: float,
         config: FusionConfig | None = None) -> ZoneEstimate:
    """Fuse the sensor samples of one zone of ``area_m2`` square metres at time ``now`` (unix seconds).

    Raises ValueError when the area is not a positive finite number.
    """
    _finite("area_m2", area_m2)
    _finite("now", now)
    if area_m2 <= 0:
        raise ValueError(f"area_m2 must be > 0, got {area_m2}")
    config = config or FusionConfig()

    newest: dict[str, SensorSample] = {}
    seen: set[str] = set()
    for sample in samples:
        seen.add(sample.sensor_id)
        if sample.at - now > config.future_tolerance_s:
            continue
        current = newest.get(sample.sensor_id)
        if current is None or sample.at >= current.at:
            newest[sample.sensor_id] = sample
    fresh = [s for s in newest.values() if now - s.at <= config.stale_after_s]
    fresh_ids = {s.sensor_id for s in fresh}
    stale = tuple(sorted(seen - fresh_ids))

    by_source: dict[str, list[SensorSample]] = {"video": [], "manual": [], "probe": []}
    for sample in fresh:
        if sample.kind == "video_count":
            by_source["video"].append(sample)
        elif sample.kind == "manual":
            by_source["manual"].append(sample)
        elif sample.kind in ("wifi_probe", "bluetooth"):
            by_source["probe"].append(sample)

    order: tuple[Source, ...] = ("video", "manual", "probe") if config.prefer_video else ("manual", "probe", "video")
    for source in order:
        chosen = by_source[source]
        if not chosen:
            continue
        if source == "video":
            count = _video_count(chosen, config)
            used = tuple(sorted(s.sensor_id for s in chosen))
        elif source == "manual":
            latest = max(chosen, key=lambda s: (s.at, s.sensor_id))
            count = latest.value
            used = (latest.sensor_id,)
        else:
            bt_ratio = config.probe_ratio if config.bluetooth_ratio is None else config.bluetooth_ratio
            count = statistics.median(s.value * (bt_ratio if s.kind == "bluetooth" else config.probe_ratio)
                                      for s in chosen)
            used = tuple(sorted(s.sensor_id for s in chosen))
        return ZoneEstimate(count=count, density=count / area_m2, source=source, used=used, stale=stale)
    return ZoneEstimate(count=None, density=None, source="none", used=(), stale=stale)


def occupancy_from_flows(initial: float, entries: Sequence[float], exits: Sequence[float]) -> float:
    """Persons inside after ``initial`` persons and per-interval gate flows (persons per interval).

    ``entries[i]`` and ``exits[i]`` are the persons counted in and out during interval ``i``.
    Occupancy is carried interval by interval and clamped at 0 after each one: exits counted when
    nobody is known to be inside are people who were there uncounted (or counter double counts),
    so they must not cancel later entries. The result is never negative.

    Raises ValueError when the sequences differ in length or hold a negative or non-finite number.
    """
    if len(entries) != len(exits):
        raise ValueError(f"entries and exits must have the same length, got {len(entries)} and {len(exits)}")
    _finite("initial", initial)
    if initial < 0:
        raise ValueError(f"initial must be >= 0, got {initial}")
    occupancy = float(initial)
    for i, (came, left) in enumerate(zip(entries, exits, strict=True)):
        if not (math.isfinite(came) and math.isfinite(left)) or came < 0 or left < 0:
            raise ValueError(f"flows must be finite and >= 0, got entries[{i}]={came}, exits[{i}]={left}")
        occupancy = max(0.0, occupancy + came - left)
    return occupancy


@dataclass(frozen=True)
class TrendResult:
    """Least-squares trend of a series over a window.

    slope_per_min: value units per minute (persons/m2 per minute for a density series).
    direction: ``"rising"``/``"falling"`` when the slope is outside the steady band, else ``"steady"``.
    points: number of samples in the window; with fewer than two distinct times the slope is 0.0.
    """

    slope_per_min: float
    direction: Direction
    points: int


def _window(series: Sequence[tuple[float, float]], window_s: float) -> list[tuple[float, float]]:
    _finite("window_s", window_s)
    if window_s <= 0:
        raise ValueError(f"window_s must be > 0, got {window_s}")
    for t, v in series:
        _finite("series time", t)
        _finite("series value", v)
    if not series:
        return []
    end = max(t for t, _ in series)
    return [(t, v) for t, v in series if t >= end - window_s]


def _fit(points: Sequence[tuple[float, float]]) -> tuple[float, float, float] | None:
    """Least squares ``value = mean_v + slope * (t - mean_t)``: (slope per second, mean_t, mean_v)."""
    if len({t for t, _ in points}) < 2:
        return None
    mean_t = math.fsum(t for t, _ in points) / len(points)
    mean_v = math.fsum(v for _, v in points) / len(points)
    sxx = math.fsum((t - mean_t) ** 2 for t, _ in points)
    sxy = math.fsum((t - mean_t) * (v - mean_v) for t, v in points)
    return sxy / sxx, mean_t, mean_v


def trend(series: Sequence[tuple[float, float]], window_s: float, steady_per_min: float = 0.02) -> TrendResult:
    """Trend of ``series`` ((t seconds, value) pairs, any order) over the last ``window_s`` seconds.

    The window ends at the latest time in the series. The slope is the ordinary least-squares slope,
    in value units per minute. ``steady_per_min`` is the steady band in the same units: a slope
    with absolute value at most this is ``"steady"`` (the default 0.02 suits densities: 0.2
    persons/m2 in ten minutes, the default hysteresis of the warning levels).
    """
    _finite("steady_per_min", steady_per_min)
    if steady_per_min < 0:
        raise ValueError(f"steady_per_min must be >= 0, got {steady_per_min}")
    points = _window(series, window_s)
    fit = _fit(points)
    slope = 0.0 if fit is None else fit[0] * 60.0
    direction: Direction = "steady"
    if slope > steady_per_min:
        direction = "rising"
    elif slope < -steady_per_min:
        direction = "falling"
    return TrendResult(slope_per_min=slope, direction=direction, points=len(points))


def forecast(series: Sequence[tuple[float, float]], horizon_s: float, window_s: float = 300.0) -> float | None:
    """Value expected ``horizon_s`` seconds after the latest sample, by linear extrapolation.

    The least-squares line over the last ``window_s`` seconds (as :func:`trend`) is evaluated at
    the latest time plus ``horizon_s`` and clamped at >= 0 (counts and densities are never
    negative). ``None`` when the window holds fewer than two distinct times.

    This is a baseline only: the forecasting work (its own issue) will replace it with a model
    that knows arrival curves and event phases; a straight line overshoots at turning points.
    """
    _finite("horizon_s", horizon_s)
    if horizon_s < 0:
        raise ValueError(f"horizon_s must be >= 0, got {horizon_s}")
    points = _window(series, window_s)
    fit = _fit(points)
    if fit is None:
        return None
    slope, mean_t, mean_v = fit
    end = max(t for t, _ in points)
    return max(0.0, mean_v + slope * (end + horizon_s - mean_t))
