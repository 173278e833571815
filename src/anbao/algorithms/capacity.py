"""Safe capacity by the Green Guide method 容量核定: holding, entry, exit and emergency-evacuation capacity.

Figures (DOMAIN.md section 3; Guide to Safety at Sports Grounds, 6th ed.):

* holding capacity of a standing area = what the plan sets for it x S, where the safety factor S
  (0 to 1) rates the physical condition and the management of the area. The plan's figure is the
  zone's declared standing capacity when set (a concert floor declared at 2 persons/m2 holds 2 per
  m2), else area x the default density of its kind; 4.7 persons/m2 (the Green Guide's figure for a
  standing terrace that meets the guide) is the ceiling: a declared figure above it counts as area x
  4.7. The working names the figure used and where it comes from. Of a seated area: the number of
  usable seats (x S);
* entry capacity = sum over entry lanes of the lane's rate (persons/min; a turnstile ~11/min) x the
  entry time (min) the event allows;
* exit capacity = sum over exits of width (m) x 82 persons/(m min) on the level (66 on stairs) x the
  normal egress time (<= 8 min);
* emergency evacuation capacity: the same exits over the emergency evacuation time (2.5 to 8 min by
  the fire risk of the area);
* safe capacity = the least of the four (those that apply); the one that gives it is the limiting
  factor. The evacuation time of the holding capacity (persons / total exit flow) is reported too.

Pure and typed: frozen inputs, a frozen result with the calculation written out step by step in
Chinese (the planning screen and the DOCX plan print it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

LEVEL_FLOW = 82.0  # persons per metre of exit width per minute, on the level
STAIR_FLOW = 66.0  # on stairs
HOLDING_DENSITY = 4.7  # persons/m2, standing: the Green Guide ceiling and the default without a declared figure
DEFAULT_SOURCE = "Green Guide 站立看台"
DECLARED_SOURCE = "区域申报容量"
TURNSTILE_RATE = 11.0  # persons per lane per minute (~660 per hour)


FACTOR_ZH = {"holding": "容纳能力", "entry": "入场能力", "exit": "疏散能力", "emergency": "应急疏散能力"}


def _least(values: dict[str, int | None]) -> tuple[str | None, int | None]:
    """The limiting factor and the safe capacity: the least value given (ties: in FACTOR_ZH order)."""
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        return None, None
    limiting = min(given, key=lambda k: (given[k], list(FACTOR_ZH).index(k)))
    return limiting, given[limiting]


class CapacityError(ValueError):
    """An input that cannot give a capacity; the message names the area and the field."""


@dataclass(frozen=True)
class Exit:
    code: str
    width_m: float
    stairs: bool = False


@dataclass(frozen=True)
class Entry:
    code: str
    lanes: int
    rate_per_lane_min: float = TURNSTILE_RATE


@dataclass(frozen=True)
class Area:
    """One area (zone, or the whole venue) with what it holds and how people get in and out."""

    code: str
    name: str
    standing_m2: float = 0.0  # area people stand on
    seats: int = 0  # usable seats
    exits: tuple[Exit, ...] = ()
    entries: tuple[Entry, ...] = ()
    safety_factor: float = 1.0  # S, 0-1
    density: float = HOLDING_DENSITY  # default density, used when nothing is declared
    declared_standing: int | None = None  # the plan's standing capacity of the area (persons), None: not set
    density_source: str = DEFAULT_SOURCE  # where the default density comes from, for the working
    declared_source: str = DECLARED_SOURCE  # where the declared figure comes from
    max_density: float = HOLDING_DENSITY  # ceiling: a declared figure above area x this counts as area x this


@dataclass(frozen=True)
class Times:
    entry_min: float = 60.0
    egress_min: float = 8.0
    emergency_min: float = 8.0


@dataclass(frozen=True)
class Capacity:
    code: str
    name: str
    holding: int | None
    entry: int | None
    exit: int | None
    emergency: int | None
    safe_capacity: int | None
    limiting: str | None  # holding | entry | exit | emergency
    exit_flow_per_min: float  # persons per minute through all exits
    evacuation_min: float | None  # minutes to empty the holding capacity through the exits
    steps: tuple[str, ...] = field(default_factory=tuple)
    holding_basis: str = ""  # what the holding figure rests on, in short: 申报 1700 人（2.0 人/㎡…）| 默认… | 座位…


def _check(area: Area, times: Times) -> None:
    def bad(what: str, msg: str) -> CapacityError:
        return CapacityError(f"{area.code}: {what} {msg}")

    for name, value in (("standing_m2", area.standing_m2), ("safety_factor", area.safety_factor),
                        ("density", area.density)):
        if not math.isfinite(value) or value < 0:
            raise bad(name, f"must be a finite number >= 0, got {value}")
    if area.safety_factor > 1:
        raise bad("safety_factor", f"must be between 0 and 1, got {area.safety_factor}")
    if area.seats < 0:
        raise bad("seats", f"must be >= 0, got {area.seats}")
    if area.declared_standing is not None and area.declared_standing < 0:
        raise bad("declared_standing", f"must be >= 0, got {area.declared_standing}")
    if not math.isfinite(area.max_density) or area.max_density <= 0:
        raise bad("max_density", f"must be > 0, got {area.max_density}")
    for e in area.exits:
        if not math.isfinite(e.width_m) or e.width_m <= 0:
            raise bad(f"exit {e.code} width_m", f"must be > 0, got {e.width_m}")
    for g in area.entries:
        if g.lanes < 1 or not math.isfinite(g.rate_per_lane_min) or g.rate_per_lane_min <= 0:
            raise bad(f"entry {g.code}", f"needs lanes >= 1 and a rate > 0, got {g.lanes} x {g.rate_per_lane_min}")
    for name, value in (("entry_min", times.entry_min), ("egress_min", times.egress_min),
                        ("emergency_min", times.emergency_min)):
        if not math.isfinite(value) or value <= 0:
            raise bad(name, f"must be > 0 minutes, got {value}")
    if (area.standing_m2 > 0 or area.seats > 0) and not area.exits:
        raise bad("exits", "none: an area that holds people needs at least one exit")


def standing_holding(area: Area) -> tuple[int, str, str]:
    """The standing holding capacity of ``area`` (x S), its working and its basis in short (see the module notes)."""
    m2, s = area.standing_m2, area.safety_factor
    if m2 <= 0:
        return 0, "", ""
    declared = area.declared_standing
    if declared:
        planned = declared / m2
        if planned <= area.max_density + 1e-9:
            n = math.floor(declared * s)
            basis = f"申报 {declared} 人（{planned:.1f} 人/㎡，{area.declared_source}）"
            return n, f"站立区 {m2:g} ㎡，{basis}× 安全系数 {s:g} = {n} 人", basis
        n = math.floor(m2 * area.max_density * s)
        basis = f"申报 {declared} 人（{planned:.1f} 人/㎡）超过上限 {area.max_density:g} 人/㎡（Green Guide）"
        return n, f"站立区 {m2:g} ㎡，{basis}，按 {m2:g} ㎡ × {area.max_density:g} 人/㎡ × 安全系数 {s:g} = {n} 人", \
            f"按上限 {area.max_density:g} 人/㎡（申报 {declared} 人超限）"
    density = min(area.density, area.max_density)
    n = math.floor(m2 * density * s)
    return n, (f"站立区 {m2:g} ㎡ × {density:g} 人/㎡ × 安全系数 {s:g} = {n} 人（默认密度，{area.density_source}）"), \
        f"默认 {density:g} 人/㎡（{area.density_source}）"


def holding_of(area: Area) -> int:
    """Standing plus seated holding capacity of ``area`` (x S)."""
    return standing_holding(area)[0] + math.floor(area.seats * area.safety_factor)


def capacity(area: Area, times: Times = Times()) -> Capacity:
    """The four capacities of ``area`` and the safe capacity, with the working."""
    _check(area, times)
    steps: list[str] = []
    s = area.safety_factor
    holding: int | None = None
    basis = ""
    if area.standing_m2 > 0 or area.seats > 0:
        standing, standing_text, basis = standing_holding(area)
        seated = math.floor(area.seats * s)
        holding = standing + seated
        parts = []
        if area.standing_m2 > 0:
            parts.append(standing_text)
        if area.seats > 0:
            parts.append(f"座位 {area.seats} 个 × 安全系数 {s:g} = {seated} 人")
            basis = "；".join(x for x in (basis, f"座位 {area.seats} 个") if x)
        steps.append("容纳能力：" + "；".join(parts) + (f"；合计 {holding} 人" if len(parts) > 1 else ""))
    entry: int | None = None
    if area.entries:
        per_min = sum(g.lanes * g.rate_per_lane_min for g in area.entries)
        entry = math.floor(per_min * times.entry_min)
        lanes = sum(g.lanes for g in area.entries)
        steps.append(f"入场能力：{len(area.entries)} 个入口共 {lanes} 条通道，每分钟 {per_min:g} 人 × 入场时间 "
                     f"{times.entry_min:g} 分钟 = {entry} 人")
    flow = sum(e.width_m * (STAIR_FLOW if e.stairs else LEVEL_FLOW) for e in area.exits)
    exit_cap: int | None = None
    emergency: int | None = None
    if area.exits:
        level = sum(e.width_m for e in area.exits if not e.stairs)
        stairs = sum(e.width_m for e in area.exits if e.stairs)
        widths = []
        if level:
            widths.append(f"平地出口宽 {level:g} m × {LEVEL_FLOW:g} 人/(m·min)")
        if stairs:
            widths.append(f"楼梯出口宽 {stairs:g} m × {STAIR_FLOW:g} 人/(m·min)")
        steps.append(f"出口通行能力：{' + '.join(widths)} = 每分钟 {flow:g} 人")
        exit_cap = math.floor(flow * times.egress_min)
        steps.append(f"疏散能力：每分钟 {flow:g} 人 × 正常疏散时间 {times.egress_min:g} 分钟 = {exit_cap} 人")
        emergency = math.floor(flow * times.emergency_min)
        steps.append(f"应急疏散能力：每分钟 {flow:g} 人 × 应急疏散时间 {times.emergency_min:g} 分钟 = {emergency} 人")
    safe: int | None = None
    limiting: str | None = None
    if holding is not None:
        limiting, safe = _least({"holding": holding, "entry": entry, "exit": exit_cap, "emergency": emergency})
        steps.append(f"安全容量 = 以上各项的最小值 = {safe} 人（受{FACTOR_ZH[limiting or 'holding']}限制）")
    evac = round(holding / flow, 2) if holding is not None and flow > 0 else None
    if evac is not None:
        steps.append(f"按容纳能力 {holding} 人计，全部疏散约需 {evac:g} 分钟")
    return Capacity(code=area.code, name=area.name, holding=holding, entry=entry, exit=exit_cap, emergency=emergency,
                    safe_capacity=safe, limiting=limiting, exit_flow_per_min=round(flow, 3), evacuation_min=evac,
                    steps=tuple(steps), holding_basis=basis)


def venue_capacity(areas: Sequence[Area], venue_exits: Sequence[Exit], venue_entries: Sequence[Entry],
                   times: Times = Times(), *, code: str = "VENUE", name: str = "场馆") -> Capacity:
    """The venue as one area: the areas' holding added up, through the venue's own entries and exits."""
    whole = Area(code=code, name=name, exits=tuple(venue_exits), entries=tuple(venue_entries))
    held = [c for c in (capacity(a, times) for a in areas) if c.holding is not None]
    total = sum(c.holding or 0 for c in held)
    if not venue_exits and total:
        raise CapacityError(f"{code}: exits none: a venue that holds people needs at least one exit")
    base = capacity(whole, times)  # checks the venue's gates and times, and writes their working
    steps = [f"容纳能力：{len(held)} 个区域之和 = {total} 人", *base.steps]
    limiting, safe = _least({"holding": total, "entry": base.entry, "exit": base.exit, "emergency": base.emergency}) \
        if held else (None, None)
    if limiting:
        steps.append(f"场馆安全容量 = 最小值 = {safe} 人（受{FACTOR_ZH[limiting]}限制）")
    flow = base.exit_flow_per_min
    evac = round(total / flow, 2) if held and flow > 0 else None
    return Capacity(code=code, name=name, holding=total if held else None, entry=base.entry, exit=base.exit,
                    emergency=base.emergency, safe_capacity=safe, limiting=limiting, exit_flow_per_min=flow,
                    evacuation_min=evac, steps=tuple(steps))
