"""Four-level warnings (blue, yellow, orange, red) with hysteresis, a minimum hold and early forecast warnings.

Values are in the units of the thresholds (persons/m2 for :data:`DEFAULT_DENSITY`); times in seconds.

Rules of :class:`LevelTracker` (for ``rising=True``, higher is worse; ``rising=False`` mirrors them):

* **Raise at once**: when the value reaches a threshold above the current level (``value >=
  threshold``), the level jumps straight to the highest level reached, skipping levels between.
* **Drop with hysteresis and hold**: the level drops only when the value is below the current
  level's *release* value ``threshold - hysteresis`` **and** the level has been held (since it was
  entered) for at least ``min_hold_s``. It drops to the highest level whose release value the
  value still reaches, which may skip several levels: the result is the level a value descending
  gradually would end at. The hold restarts at every transition, so each further drop needs
  another ``min_hold_s``. Drops are evaluated only when a sample arrives (the tracker has no timer).
* **No data**: ``value=None`` changes nothing (and its forecast is ignored).
* **Forecast**: an optional forecast (the worst value expected within the caller's horizon, e.g.
  from :func:`anbao.algorithms.density.forecast`) that reaches a higher level raises that level
  early; the :class:`Transition` is marked ``forecast=True``. While the forecast still reaches the
  level it is not dropped: the tracker works on the worse of the value and the forecast.
* **Hysteresis and hold apply to forecasts too** (issue 13: a noisy slope made six blue warnings
  around 2.0 persons/m2): a forecast raises a level only when it passes the threshold by the
  hysteresis band (``forecast >= threshold + hysteresis``), and a level entered by a drop is held
  ``min_hold_s`` against forecasts (only an observed value raises it again within that time). A
  forecast holds a level for ``min_hold_s`` after it was made: the tracker works on the worst
  forecast of the last ``min_hold_s``, so a forecast that comes and goes keeps one warning.
  The value itself always raises at once.

``hysteresis`` is **absolute**, in the units of the thresholds (0.2 persons/m2 by default), not a
fraction: sensor noise is absolute (a few persons in a zone's count), and a fixed band keeps
every level's release rule equally easy to read ("orange ends below 3.8").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum


class Level(IntEnum):
    """Warning level; higher is more severe."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4


#: Chinese names of the levels (蓝色预警 etc. in the standard warning wording)
LEVEL_NAMES_ZH: dict[Level, str] = {Level.NONE: "无", Level.BLUE: "蓝", Level.YELLOW: "黄",
                                    Level.ORANGE: "橙", Level.RED: "红"}
#: CAP 1.2 severity of each level (DOMAIN.md section 3, our own mapping)
CAP_SEVERITY: dict[Level, str] = {Level.NONE: "Unknown", Level.BLUE: "Minor", Level.YELLOW: "Moderate",
                                  Level.ORANGE: "Severe", Level.RED: "Extreme"}
_WARNING_LEVELS = (Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED)


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class Thresholds:
    """Level thresholds in the units of the watched value; a level set to ``None`` is never raised.

    rising=True (higher is worse): a level starts at ``value >= threshold``; thresholds must be
    strictly increasing blue < yellow < orange < red. rising=False (lower is worse): a level starts
    at ``value <= threshold``; thresholds must be strictly decreasing blue > yellow > orange > red.
    hysteresis: absolute margin (value units, >= 0, smaller than the smallest gap between
    thresholds) the value must pass back beyond a threshold before its level may drop.
    min_hold_s: seconds a level must have been held before it may drop.
    clear_s: seconds the value must have stayed beyond the release, sample after sample, before the level
    may drop (an off-delay, ISA-18.2 alarm management: one quiet sample in a noisy signal around a
    threshold is not an all-clear; issue 13 item 9). 0: the first sample beyond the release will do.
    """

    blue: float | None
    yellow: float | None
    orange: float | None
    red: float | None
    hysteresis: float = 0.2
    min_hold_s: float = 30.0
    rising: bool = True
    clear_s: float = 0.0
    #: the levels that have a threshold, lowest first (set once: :attr:`levels` is asked per observation)
    _levels: tuple[Level, ...] = field(init=False, repr=False, compare=False, default=())
    _lowest: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        for name in ("hysteresis", "min_hold_s", "clear_s"):
            _finite(name, getattr(self, name))
        names = [n for n in ("blue", "yellow", "orange", "red") if getattr(self, n) is not None]
        if not names:
            raise ValueError("at least one level needs a threshold")
        for name in names:
            _finite(name, getattr(self, name))
        if self.hysteresis < 0:
            raise ValueError(f"hysteresis must be >= 0, got {self.hysteresis}")
        if self.min_hold_s < 0:
            raise ValueError(f"min_hold_s must be >= 0, got {self.min_hold_s}")
        if self.clear_s < 0:
            raise ValueError(f"clear_s must be >= 0, got {self.clear_s}")
        for low, high in zip(names, names[1:], strict=False):
            a, b = getattr(self, low), getattr(self, high)
            if self.rising and not b > a:
                raise ValueError(f"thresholds must increase for rising=True: {high} ({b}) must be > {low} ({a})")
            if not self.rising and not b < a:
                raise ValueError(f"thresholds must decrease for rising=False: {high} ({b}) must be < {low} ({a})")
        gaps = [abs(getattr(self, b) - getattr(self, a)) for a, b in zip(names, names[1:], strict=False)]
        gap = min(gaps, default=math.inf)
        if self.hysteresis >= gap:
            raise ValueError(f"hysteresis ({self.hysteresis}) must be smaller than the smallest gap between "
                             f"thresholds ({gap})")
        object.__setattr__(self, "_levels", tuple(lv for lv in _WARNING_LEVELS
                                                  if getattr(self, lv.name.lower()) is not None))
        object.__setattr__(self, "_lowest", self.threshold(self._levels[0]))

    @property
    def levels(self) -> tuple[Level, ...]:
        """The levels that have a threshold, lowest first."""
        return self._levels

    def threshold(self, level: Level) -> float:
        """The value at which ``level`` starts (ValueError for :attr:`Level.NONE` or a level left out)."""
        if level == Level.NONE:
            raise ValueError("Level.NONE has no threshold")
        value = getattr(self, level.name.lower())
        if value is None:
            raise ValueError(f"level {level.name.lower()} has no threshold")
        return float(value)

    def release(self, level: Level) -> float:
        """The value the watched value must pass back beyond before ``level`` may drop."""
        return self.threshold(level) - self.hysteresis if self.rising else self.threshold(level) + self.hysteresis

    def worse(self, a: float, b: float) -> float:
        """The more severe of two values."""
        return max(a, b) if self.rising else min(a, b)

    def forecast_bound(self, level: Level) -> float:
        """The value a forecast must reach to raise ``level``: the threshold passed by the hysteresis band."""
        return self.threshold(level) + self.hysteresis if self.rising else self.threshold(level) - self.hysteresis

    def reaches_a_level(self, value: float) -> bool:
        """True when ``value`` reaches the lowest level (the same as ``classify(value, self) != Level.NONE``)."""
        return self._reaches(value, self._lowest)

    def _reaches(self, value: float, bound: float) -> bool:
        return value >= bound if self.rising else value <= bound


DEFAULT_DENSITY = Thresholds(blue=2.0, yellow=3.0, orange=4.0, red=5.0)
"""Standing-zone density levels in persons/m2 (DOMAIN.md section 3): blue 2, yellow 3, orange 4, red 5."""

DEFAULT_OCCUPANCY = Thresholds(blue=100.0, yellow=105.0, orange=110.0, red=120.0, hysteresis=3.0)
"""Seated-zone occupancy levels in % of seats (docs/live-operations.md): blue 100 (满座: every seat taken, the
seated holding capacity; stop directing people to the stand), yellow 105 (more people than seats beyond the
+-5 % error of a video count), orange 110 and red 120 (people standing in gangways and aisles, which must stay
clear for egress)."""


def classify(value: float, thresholds: Thresholds) -> Level:
    """The level of ``value`` with no memory (no hysteresis, no hold)."""
    _finite("value", value)
    level = Level.NONE
    for candidate in thresholds.levels:
        if thresholds._reaches(value, thresholds.threshold(candidate)):
            level = candidate
    return level


def _held_level(value: float, thresholds: Thresholds, ceiling: Level) -> Level:
    """The highest level up to ``ceiling`` whose release value ``value`` still reaches."""
    for candidate in reversed(thresholds.levels):
        if candidate <= ceiling and thresholds._reaches(value, thresholds.release(candidate)):
            return candidate
    return Level.NONE


def _forecast_level(forecast: float, thresholds: Thresholds) -> Level:
    """The highest level whose forecast bound (threshold passed by the hysteresis) ``forecast`` reaches."""
    level = Level.NONE
    for candidate in thresholds.levels:
        if thresholds._reaches(forecast, thresholds.forecast_bound(candidate)):
            level = candidate
    return level


@dataclass(frozen=True)
class Transition:
    """A level change at time ``at`` (seconds) caused by the observed ``value``.

    forecast: True when the new level was set by the forecast rather than the observed value.
    reason: a short human-readable explanation with the numbers involved.
    """

    before: Level
    after: Level
    at: float
    value: float
    reason: str
    forecast: bool = False


@dataclass
class LevelTracker:
    """The warning level of one watched quantity: explicit state, advanced by :meth:`step`.

    level: current level. since: time (seconds) the current level was entered, required unless the
    level is :attr:`Level.NONE`. last_at: time of the last sample with data, ``None`` before the first.
    dropped_at: time of the last drop (a forecast cannot raise the level again within ``min_hold_s``).
    clear_since: start of the current unbroken run of samples beyond the release value of the level (a
    drop needs ``thresholds.clear_s`` of them), ``None`` while the level is reached.
    """

    thresholds: Thresholds
    level: Level = Level.NONE
    since: float | None = None
    last_at: float | None = None
    dropped_at: float | None = None
    #: forecasts of the last ``min_hold_s`` as (time, forecast): the worst of them holds the level
    recent: list[tuple[float, float]] = field(default_factory=list)
    clear_since: float | None = None

    def __post_init__(self) -> None:
        if self.level != Level.NONE and self.since is None:
            raise ValueError("since is required when the tracker starts at a warning level")

    def step(self, value: float | None, at: float, forecast: float | None = None) -> Transition | None:
        """Feed one sample taken at ``at`` seconds; return the transition it causes, if any.

        ``forecast`` is the worst value expected within the caller's horizon. Samples must come in
        time order (ValueError otherwise); NaN values are rejected, pass ``None`` for no data.
        """
        _finite("at", at)
        if self.last_at is not None and at < self.last_at:
            raise ValueError(f"samples must be in time order: {at} is before the last sample at {self.last_at}")
        if value is None:
            return None
        _finite("value", value)
        if forecast is not None:
            _finite("forecast", forecast)
        self.last_at = at
        th = self.thresholds

        observed = classify(value, th)
        predicted = _forecast_level(forecast, th) if forecast is not None else Level.NONE
        if self.dropped_at is not None and at - self.dropped_at < th.min_hold_s:
            predicted = Level.NONE  # a level left by a drop is held against forecasts
        by_forecast = predicted > observed
        if forecast is not None:
            self.recent.append((at, forecast))
        self.recent = [(t, f) for t, f in self.recent if at - t <= th.min_hold_s]
        held_forecast = None
        for _, f in self.recent:
            held_forecast = f if held_forecast is None else th.worse(held_forecast, f)
        effective = th.worse(value, held_forecast) if held_forecast is not None else value
        reached = max(observed, predicted)

        if reached > self.level:
            if by_forecast:
                reason = (f"forecast {forecast:g} reaches {reached.name.lower()} threshold "
                          f"{th.threshold(reached):g} + {th.hysteresis:g} (value {value:g})")
            else:
                reason = f"value {value:g} reaches {reached.name.lower()} threshold {th.threshold(reached):g}"
            return self._move(reached, at, value, reason, by_forecast)

        if self.level == Level.NONE or th._reaches(effective, th.release(self.level)):
            self.clear_since = None
            return None
        if self.clear_since is None:
            self.clear_since = at
        assert self.since is not None
        held = at - self.since
        if held < th.min_hold_s or at - self.clear_since < th.clear_s:
            return None
        target = _held_level(effective, th, self.level)
        by_forecast = _held_level(value, th, self.level) < target
        shown = f"forecast {held_forecast:g}" if by_forecast and held_forecast is not None else f"value {value:g}"
        word = "below" if th.rising else "above"
        reason = f"{shown} {word} {self.level.name.lower()} release {th.release(self.level):g} after {held:g} s held"
        if th.clear_s > 0:
            reason += f", {at - self.clear_since:g} s clear"
        return self._move(target, at, value, reason, by_forecast)

    def _move(self, after: Level, at: float, value: float, reason: str, by_forecast: bool) -> Transition:
        transition = Transition(before=self.level, after=after, at=at, value=value, reason=reason,
                                forecast=by_forecast)
        if after < self.level:
            self.dropped_at = at
        self.level = after
        self.since = at
        self.clear_since = None
        return transition
