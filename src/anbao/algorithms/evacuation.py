"""Evacuation of a venue on a zone network: a fast macroscopic model for planning (疏散模拟).

Pure and deterministic (no I/O); numpy arrays in the results are read-only. Units: persons (a
continuous quantity: the model moves fractions of people), seconds, metres, persons/s for link
capacities, persons/m2 for densities, m/s for speeds. Times are seconds from the alarm (t = 0).

Inputs
------
* :class:`EvacNode` a zone (区域): ``population`` persons in it at t = 0, ``area_m2`` for the density,
  ``length_m`` the typical walk across it (from where people stand, or from where they come in, to
  its passages).
* :class:`EvacLink` a one-way passage from ``source`` to ``target`` (``None``: out to safety, 安全区域),
  with a flow capacity in persons/s (``None``: an open boundary without limit; ``0``: closed). Use
  :func:`anbao.algorithms.crowdnet.width_capacity` for the Green Guide figure of a door or gate
  (82 persons per metre width per minute on the level = 1.367 persons/(m s); 66 on stairs).
  ``length_m`` is the walk along the passage itself (a tunnel, a stairway), taken at free speed;
  ``name`` is the exit or gate code (links with the same name are one exit in the result).

The model (step of ``dt_s`` seconds)
------------------------------------
Each zone holds people **walking** towards its passages, **deciding** at them, and **queuing** at
one of its outgoing links. People move as a fluid (fractions of persons). In every step:

1. **Speed.** A queue stands at ``queue_density`` (4 persons/m2, G. Keith Still's critical density)
   near its passage and takes that much of the zone's area (at most 95 %); the walkers share the
   rest, at density ``rho_w``, and walk at Weidmann's speed ``v(min(rho_w, rho_c))``
   (:func:`anbao.algorithms.crowdnet.walking_speed`: 1.34 m/s free, 0 at the jam density 5.4
   persons/m2, floored at ``min_speed``). ``rho_c`` = 1.75 persons/m2 is the density of Weidmann's
   maximum flow (0.70 m/s, 1.22 persons/(m s)): beyond it the speed is held, so that the flow limits
   stay where the planner puts them, in the links' capacities, and a crowded zone never chokes its
   own walkers (no capacity drop; give a narrow corridor a link with the capacity of its width).
2. **Estimates.** Every zone's estimated time to safety is updated (route choice below).
3. **Walk.** Walkers cover ``v * dt`` metres of the zone's ``length_m`` less the part its queues
   fill (they walk to the back of the queue). All walkers of a zone move at its speed, so the model
   keeps them on a conveyor: persons by the odometer reading at which they reach the passages, no
   numerical diffusion (``bins`` bins per zone length; at t = 0 the population is spread evenly over
   ``[0, length_m]``, people who come in start at ``length_m``). Those who arrive join the deciding.
4. **Choose.** The deciding join the queue of a link (route choice below).
5. **Pass.** A link passes at most ``capacity * dt`` of its queue; a zone accepts at most its free
   space ``jam_density * area - persons in it - persons on the way in``, and all links into a full
   zone are scaled down by the same factor (spill-back: the queue stays upstream).
6. **Along the link.** People who passed walk the link's ``length_m`` at free speed (a delay of
   whole steps), then enter the target zone at its far side, or reach safety.

All flows of a step are computed from the state at its start. People are conserved exactly:
``evacuated + remaining == total`` up to float rounding.

Route choice (选择出口: not everybody on one shortest path)
-----------------------------------------------------------
People choose when they reach the passages of their zone, on what they can see then. The cost of
link ``l`` is its **estimated time to safety**::

    T(l)    = queue(l) / rate(l) + length(l) / free_speed + T_in(target(l)),     T_in(safety) = 0
    T_in(j) = walk time across j now + the level of j's links after the people now in j choose

``rate`` is the link's capacity (less while a full zone downstream holds it back). The **level**
of a zone is found by water-filling, the order in which people would choose one by one: each person
joins the link whose ``T`` is lowest with those assigned before them included, so the links that get
anybody end at one common level ``lambda = T(l) + taken(l) / rate(l)`` and the others have
``T(l) >= lambda``. A newcomer to zone ``j`` is behind everybody already walking or deciding there,
hence ``T_in(j)`` uses the level after those; an open link into a zone grows by ``1 / rate`` of the
links that zone is using per person sent. The estimates are re-computed every step by value
iteration from the exits (starting from the last step's values, until no zone's moves by more than
0.01 s), so they grow as queues grow. The deciding of each step are then spread over their zone's
links by the same water-filling. A near exit is used first; once its queue makes it slower than
walking to a farther one, the next people go there: flows spread over exits as people do (the
"shortest expected time" rule). Open links (no capacity) cap the level at their ``T``: everybody
above it takes the cheapest open link. Closed links (capacity 0) and zones with no route to safety
are never chosen.

Results and the "last person" rule
----------------------------------
The model is a fluid: a person counts as through when the cumulative flow passes their half-way
mark, so the ``k``-th person passes when the count reaches ``k - 0.5`` (linear within a step).
``clearance_s`` is when the evacuated count reaches ``total - 0.5``; an exit's ``first_s`` and
``last_s`` when its count reaches 0.5 and its final total minus 0.5 (half its total for an exit
that carries less than one person); ``mean_per_s = (persons - 1) / (last_s - first_s)``, the flow
between the first and the last person (as for measured passage times); ``peak_per_s`` the highest
flow over one second (one step if ``dt_s > 1``); a zone's ``clear_s`` when it last fell below half a
person. The run stops when fewer than 1e-6 persons remain or at ``max_s``: then the partial result is
returned with ``finished = False`` and a Chinese ``warning``.

Resolution and limits: a zone has one density, so the front of a crowd entering a long zone walks
as slowly as its bulk (split long corridors into several zones); within a bin of the conveyor the
walkers are taken as evenly spread; every zone crossed costs at least one step. People do not
remember where they came from (the aggregate model cannot stop a rare step back through a zone when
a queue grows by more than the detour in one step); pre-movement time, groups, smoke and
counter-flow are not modelled.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from anbao.algorithms.crowdnet import (
    FREE_SPEED,
    JAM_DENSITY,
    FloatArray,
    IntArray,
    frozen_array,
    walking_speed,
)

__all__ = [
    "EvacLink", "EvacNode", "EvacResult", "EvacuationError", "ExitResult", "LinkResult", "NodeResult",
    "critical_density", "evacuate",
]

#: half a person: the fluid's rounding threshold for "the last person" (module docstring)
HALF_PERSON = 0.5
#: seconds: the time-to-safety estimates are settled when no zone's moves by more than this in a sweep
SETTLE_S = 0.01
#: persons/s: the least service rate assumed at a link blocked by a full zone (its wait stays finite)
MIN_SERVICE = 1e-3
#: persons/m2 of a queue standing at a passage (G. Keith Still's critical density, DOMAIN.md section 3)
QUEUE_DENSITY = 4.0
#: the largest share of a zone's area its queues may take (walkers keep the rest)
MAX_QUEUE_AREA = 0.95
#: the run stops when fewer persons than this remain
DONE_PERSONS = 1e-6


class EvacuationError(ValueError):
    """An input the model cannot run: the message names the zone or link and the field."""


def _check_number(what: str, value: float, *, positive: bool = False) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0 or (positive and value <= 0):
        bound = "> 0" if positive else ">= 0"
        raise EvacuationError(f"{what} must be a finite number {bound}, got {value!r}")


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class EvacNode:
    """A zone: ``population`` persons at t = 0, ``area_m2`` square metres, ``length_m`` the typical walk
    across it in metres (0: people are at its passages at once)."""

    code: str
    population: float
    area_m2: float
    length_m: float

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.strip():
            raise EvacuationError(f"zone code must be a non-empty string, got {self.code!r}")
        _check_number(f"zone {self.code}: population", self.population)
        _check_number(f"zone {self.code}: area_m2", self.area_m2, positive=True)
        _check_number(f"zone {self.code}: length_m", self.length_m)


@dataclass(frozen=True)
class EvacLink:
    """A one-way passage from zone ``source`` to zone ``target`` (``None``: to safety).

    capacity_per_s: persons/s (``None``: open, no limit; 0: closed); length_m: the walk along the
    passage, metres, at free speed; name: the exit or gate code (links to safety with the same name
    are one exit in the result).
    """

    source: str
    target: str | None
    capacity_per_s: float | None
    length_m: float = 0.0
    name: str = ""

    @property
    def label(self) -> str:
        """``name``, or ``source->target`` (``source->safe`` for an exit) when it has none."""
        return self.name or f"{self.source}->{self.target if self.target is not None else 'safe'}"

    def __post_init__(self) -> None:
        if self.source == self.target:
            raise EvacuationError(f"link {self.label}: joins zone {self.source} to itself")
        if self.capacity_per_s is not None:
            _check_number(f"link {self.label}: capacity_per_s", self.capacity_per_s)
        _check_number(f"link {self.label}: length_m", self.length_m)


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class ExitResult:
    """Persons out through one exit (the links to safety with this name).

    persons: total; peak_per_s: the highest flow over one second, persons/s; mean_per_s: persons/s
    between the first and the last person (None for fewer than two persons); first_s, last_s: when the
    first and the last person passed, seconds (None: nobody, or the run did not finish).
    """

    name: str
    persons: float
    peak_per_s: float
    mean_per_s: float | None
    first_s: float | None
    last_s: float | None


@dataclass(frozen=True)
class NodeResult:
    """One zone: ``clear_s`` when it emptied (0.0 if it never held half a person, None if it did not
    empty), ``max_density`` persons/m2 and the time of it, ``max_density_s`` seconds."""

    code: str
    population: float
    clear_s: float | None
    max_density: float
    max_density_s: float


@dataclass(frozen=True)
class LinkResult:
    """One link, in input order: persons who passed it, the longest queue at it (persons, at the end
    of a step) and that queue's wait at the link's capacity (seconds; 0 for open links)."""

    source: str
    target: str | None
    name: str
    persons: float
    max_queue: float
    max_wait_s: float


@dataclass(frozen=True, eq=False)
class EvacResult:
    """What :func:`evacuate` found.

    finished: everybody (to half a person) reached safety within ``max_s``; clearance_s: when the last
    person did (None if not finished); total, evacuated, remaining: persons, ``evacuated + remaining ==
    total``; warning: Chinese text when the time cap was hit or a zone starts above the jam density.
    exits: per exit in order of first appearance; nodes: per zone in input order; links: per link in
    input order. times_s (samples,), populations (samples, zones) and evacuated_series (samples,):
    the time series every ``sample_s`` for charts (read-only arrays; the last sample is the end).
    """

    finished: bool
    clearance_s: float | None
    total: float
    evacuated: float
    remaining: float
    warning: str | None
    exits: tuple[ExitResult, ...]
    nodes: tuple[NodeResult, ...]
    links: tuple[LinkResult, ...]
    times_s: FloatArray
    populations: FloatArray
    evacuated_series: FloatArray
    dt_s: float
    steps: int

    def exit(self, name: str) -> ExitResult:
        for e in self.exits:
            if e.name == name:
                return e
        raise KeyError(name)

    def node(self, code: str) -> NodeResult:
        for n in self.nodes:
            if n.code == code:
                return n
        raise KeyError(code)


# --------------------------------------------------------------------------- preparation

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class _Net:
    """Arrays of the network; links sorted by source zone (``order``: sorted position -> input index)."""

    n: int
    population: FloatArray
    area: FloatArray
    length: FloatArray
    order: IntArray
    src: IntArray  # (links,)
    tgt: IntArray  # (links,): the target zone, n for safety
    cap: FloatArray  # (links,): persons/s, inf = open
    link_len: FloatArray  # (links,): metres
    delay: IntArray  # (links,): whole steps in transit
    starts: IntArray  # (groups,): the first sorted link of each zone that has links
    group_node: IntArray  # (groups,): the zone of each group
    group_of: IntArray  # (links,): the group of each sorted link
    group_last: BoolArray  # (links,): the last link of its group
    group_first: IntArray  # (links,): the first sorted link of each link's group
    next_in_group: IntArray  # (links,): the next sorted link (itself for the last one)
    link_no: IntArray  # (links,): 0 .. links - 1
    exit_of: IntArray  # (links,): exit index, -1 for links between zones
    exit_names: tuple[str, ...]


def _reachable(n: int, links: Sequence[EvacLink], index: dict[str, int]) -> list[bool]:
    """Zones from which a chain of links with capacity > 0 leads to safety."""
    ok = [False] * n
    incoming: list[list[int]] = [[] for _ in range(n)]
    frontier: list[int] = []
    for lk in links:
        if lk.capacity_per_s == 0:
            continue
        s = index[lk.source]
        if lk.target is None:
            if not ok[s]:
                ok[s] = True
                frontier.append(s)
        else:
            incoming[index[lk.target]].append(s)
    while frontier:
        j = frontier.pop()
        for s in incoming[j]:
            if not ok[s]:
                ok[s] = True
                frontier.append(s)
    return ok


def _prepare(nodes: Sequence[EvacNode], links: Sequence[EvacLink], dt_s: float, free_speed: float) -> _Net:
    if not nodes:
        raise EvacuationError("no zones given")
    index: dict[str, int] = {}
    for node in nodes:
        if not isinstance(node, EvacNode):
            raise EvacuationError(f"zones must be EvacNode, got {type(node).__name__}")
        if node.code in index:
            raise EvacuationError(f"duplicate zone code {node.code!r}")
        index[node.code] = len(index)
    for lk in links:
        if not isinstance(lk, EvacLink):
            raise EvacuationError(f"links must be EvacLink, got {type(lk).__name__}")
        for end in (lk.source, lk.target):
            if end is not None and end not in index:
                raise EvacuationError(f"link {lk.label}: unknown zone {end!r}")
    ok = _reachable(len(nodes), links, index)
    stuck = [nd.code for nd, reach in zip(nodes, ok, strict=True) if nd.population > 0 and not reach]
    if stuck:
        more = f" (also: {', '.join(stuck[1:])})" if len(stuck) > 1 else ""
        raise EvacuationError(f"zone {stuck[0]} has no exit: no chain of passages with capacity > 0 leads from it "
                              f"to safety (a link with target None){more}")
    n = len(nodes)
    src_in = np.array([index[lk.source] for lk in links], dtype=np.int64)
    order = np.argsort(src_in, kind="stable").astype(np.int64)
    ordered = [links[int(i)] for i in order]
    src = src_in[order]
    m = len(ordered)
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = src[1:] != src[:-1]
    group_last = np.ones(m, dtype=bool)
    group_last[:-1] = new_group[1:]
    starts = np.flatnonzero(new_group)
    exits: dict[str, int] = {}
    for lk in links:  # input order: exits are numbered by first appearance
        if lk.target is None:
            exits.setdefault(lk.label, len(exits))
    fa = frozen_array
    return _Net(
        n=n, population=fa([nd.population for nd in nodes]), area=fa([nd.area_m2 for nd in nodes]),
        length=fa([nd.length_m for nd in nodes]), order=fa(order, np.int64), src=fa(src, np.int64),
        tgt=fa([n if lk.target is None else index[lk.target] for lk in ordered], np.int64),
        cap=fa([math.inf if lk.capacity_per_s is None else lk.capacity_per_s for lk in ordered]),
        link_len=fa([lk.length_m for lk in ordered]),
        delay=fa([round(lk.length_m / (free_speed * dt_s)) for lk in ordered], np.int64),
        starts=fa(starts, np.int64), group_node=fa(src[starts], np.int64),
        group_of=fa(np.cumsum(new_group) - 1, np.int64), group_last=fa(group_last, np.bool_),
        group_first=fa(starts[np.cumsum(new_group) - 1], np.int64),
        next_in_group=fa(np.minimum(np.arange(m) + 1, max(m - 1, 0)), np.int64), link_no=fa(np.arange(m), np.int64),
        exit_of=fa([exits[lk.label] if lk.target is None else -1 for lk in ordered], np.int64),
        exit_names=tuple(exits))


# --------------------------------------------------------------------------- step pieces

class _Level(NamedTuple):
    """The water level of each zone's group of links (:func:`_level`)."""

    level: FloatArray  # (groups,): seconds; inf when no link of the zone leads to safety
    rate: FloatArray  # (groups,): persons/s of the links that take people at the level (inf: an open one)
    fill: FloatArray | None  # (links,): persons each sorted link takes (when asked for)


def _level(net: _Net, amount: FloatArray, cost: FloatArray, rate: FloatArray, *, fill: bool = False) -> _Level:
    """Pour ``amount`` persons per group over its links (module docstring, route choice).

    cost: ``T(l)`` per sorted link, seconds; rate: persons/s each link serves (inf: open, 0: closed).
    Each person joins the link with the lowest ``T(l) + taken(l) / rate(l)``; the result is the common
    level and, with ``fill``, what each link takes. Open links cap the level at their ``T``: the rest
    goes to the zone's cheapest open link.
    """
    m = len(net.src)
    finite = np.isfinite(cost)
    usable = finite & (rate > 0) & (rate < math.inf)
    cw = np.where(usable, rate, 0.0)
    ew = np.where(usable, cost, math.inf)
    perm = np.lexsort((ew, net.src))  # by cost within each zone's group; the group boundaries stay put
    ew_s, cw_s = ew[perm], cw[perm]
    ce_s = cw_s * np.where(usable[perm], ew_s, 0.0)
    c_cum, e_cum = np.cumsum(cw_s), np.cumsum(ce_s)
    first = net.group_first
    c_grp = c_cum - (c_cum[first] - cw_s[first])  # the rate of the cheapest k links of the group
    e_grp = e_cum - (e_cum[first] - ce_s[first])
    positive = c_grp > 0
    level = np.full(m, math.inf)
    np.divide(amount[net.group_of] + e_grp, c_grp, out=level, where=positive)  # the level if those k take all
    next_e = ew_s[net.next_in_group]
    next_e[net.group_last] = math.inf
    position = np.where(positive & (level <= next_e), net.link_no, m)
    first_valid = np.minimum.reduceat(position, net.starts)
    found = first_valid < m
    pick = np.minimum(first_valid, m - 1)
    level_fin = np.where(found, level[pick], math.inf)
    e_open = np.where(finite & (rate == math.inf), cost, math.inf)
    open_level = np.minimum.reduceat(e_open, net.starts)
    to_open = open_level <= level_fin
    lam = np.where(to_open, open_level, level_fin)
    at_level = np.where(to_open, math.inf, np.where(found, c_grp[pick], 0.0))
    if not fill:
        return _Level(lam, at_level, None)
    fill_s = np.zeros(m)
    take = cw_s > 0  # in a group with such a link the level is finite
    fill_s[take] = cw_s[take] * np.maximum(lam[net.group_of[take]] - ew_s[take], 0.0)
    taken = np.zeros(m)
    taken[perm] = fill_s
    filled = np.bincount(net.group_of, weights=taken, minlength=len(net.starts))
    scale = np.ones(len(net.starts))
    np.divide(amount, filled, out=scale, where=~to_open & (filled > 0))  # rounding: the fills add up exactly
    taken *= scale[net.group_of]
    to_open &= np.isfinite(open_level)
    open_best = np.lexsort((e_open, net.src))[net.starts]
    taken[open_best[to_open]] += np.maximum(amount - filled, 0.0)[to_open]
    return _Level(lam, at_level, taken)


def _times_to_safety(net: _Net, queue: FloatArray, rate: FloatArray, walk: FloatArray, ahead: FloatArray,
                     free_speed: float, t_in: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``T(l)`` per sorted link (module docstring): value iteration from safety over the current state.

    rate: what each link serves now, persons/s (its capacity, less under spill-back; inf open, 0
    closed); walk: the time to walk across each zone now, seconds; ahead: persons in each zone not
    yet in a queue (walking or deciding), who will be served before a newcomer. t_in: ``T_in`` per
    zone and safety (n + 1,), the last step's values to start from (inf at first); updated in place.
    Sweeps until no zone's estimate moves by more than ``SETTLE_S`` (at most zones + 1 sweeps).
    Returns ``T`` (inf for closed links and links into zones without a route to safety) and the rate
    at which each link's ``T`` grows per person sent: its own rate, or for an open link into a zone
    the rate of the links that zone's people are taking (each newcomer adds ``1 / rate`` to the wait).
    """
    wait = np.where(queue > 0, queue / rate, 0.0)  # the caller silences 0/0 and x/inf
    wait[rate == 0] = math.inf
    base = wait + net.link_len / free_speed
    amount = ahead[net.group_node]
    open_in = np.isinf(rate) & (net.tgt < net.n)
    into = net.tgt[open_in]
    marginal = rate.copy()
    zone_rate = np.zeros(net.n + 1)
    walk_g = walk[net.group_node]
    cost: FloatArray = base + t_in[net.tgt]
    for _ in range(net.n + 1):
        lv = _level(net, amount, cost, marginal)
        new = walk_g + lv.level
        old = t_in[net.group_node]
        zone_rate[net.group_node] = lv.rate
        t_in[net.group_node] = new
        moved = np.abs(new - old)  # inf - inf (no route before and now) gives nan: not moved
        moved[np.isnan(moved)] = 0.0
        marginal[open_in] = zone_rate[into]
        cost = base + t_in[net.tgt]
        if moved.max() <= SETTLE_S:
            break
    return cost, marginal


@dataclass(eq=False)
class _Conveyor:
    """The walkers of every zone on a conveyor (Lagrangian: no numerical diffusion).

    All walkers of a zone move at the zone's speed, so their order and spacing never change: each zone
    keeps an odometer ``x`` (metres walked so far) and the persons by the odometer reading at which
    they reach the passages, in bins of ``w = max(length, free_speed * dt) / bins`` metres on a ring
    of ``2 * bins + 3`` bins (more than one zone length plus one step ahead). Persons entering at
    reading ``x`` arrive at ``x + length``; at t = 0 the population is spread evenly over ``[0, length]``.
    Within a bin the persons are taken as spread evenly over its part not yet passed.
    """

    x: FloatArray  # (zones,): metres walked
    w: FloatArray  # (zones,): bin width, metres
    length: FloatArray  # (zones,)
    ring: FloatArray  # (zones, slots): persons per bin
    slot: IntArray  # (slots,)

    @classmethod
    def start(cls, length: FloatArray, population: FloatArray, step_m: float, bins: int) -> _Conveyor:
        w = np.maximum(length, step_m) / bins
        slots = 2 * bins + 3
        ring = np.zeros((len(length), slots))
        edges = np.arange(slots + 1)[None, :] * w[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(length[:, None] > 0,
                             np.clip(np.minimum(edges[:, 1:], length[:, None]) - edges[:, :-1], 0, None)
                             / length[:, None], 0.0)
        share[length == 0, 0] = 1.0
        ring[:] = population[:, None] * share
        return cls(np.zeros(len(length)), w, length, ring, np.arange(slots))

    def walkers(self) -> FloatArray:
        out: FloatArray = self.ring.sum(axis=1)
        return out

    def walk(self, metres: FloatArray) -> FloatArray:
        """Advance each zone's odometer by ``metres``; returns the persons who reached the passages."""
        slots = len(self.slot)
        first = np.floor(self.x / self.w)
        number = first[:, None] + np.mod(self.slot[None, :] - first[:, None], slots)  # bin number in each slot
        low = np.maximum(self.x[:, None], number * self.w[:, None])
        high = (number + 1) * self.w[:, None]
        end = (self.x + metres)[:, None]
        frac = np.clip((end - low) / (high - low), 0.0, 1.0)
        out = self.ring * frac
        self.ring -= out
        self.x = self.x + metres
        arrived: FloatArray = out.sum(axis=1)
        return arrived

    def enter(self, persons: FloatArray) -> None:
        """``persons`` per zone come in at the far side of the zone."""
        slot = np.mod(np.floor((self.x + self.length) / self.w), len(self.slot)).astype(np.int64)
        self.ring[np.arange(len(persons)), slot] += persons


def _choose(net: _Net, deciding: FloatArray, cost: FloatArray, rate: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The deciding persons join the links of their zone by water-filling (module docstring).

    Returns (persons added to each sorted link's queue, persons still deciding per zone): people stay
    deciding only in a zone none of whose links leads to safety now.
    """
    supply = deciding[net.group_node]
    lv = _level(net, supply, cost, rate, fill=True)
    assert lv.fill is not None
    left = deciding.copy()
    left[net.group_node] = np.where(np.isfinite(lv.level), 0.0, supply)
    return lv.fill, left


@functools.lru_cache(maxsize=16)
def critical_density(free_speed: float = FREE_SPEED, jam_density: float = JAM_DENSITY) -> float:
    """The density of maximum flow ``rho * v(rho)`` of Weidmann's relation, persons/m2 (1.75 with the
    defaults: 0.70 m/s, 1.22 persons/(m s)), to 0.001 persons/m2."""
    rho = np.linspace(0.01, jam_density, max(100, round(jam_density * 1000)))
    flow = rho * walking_speed(rho, free_speed=free_speed, jam_density=jam_density, min_speed=0.0)
    return float(rho[int(np.argmax(flow))])


def _reach_time(cum: FloatArray, threshold: float, dt_s: float) -> float | None:
    """When the cumulative series ``cum`` (value at the end of each step) first reaches ``threshold``,
    interpolated linearly within the step; None if it never does."""
    hit = np.flatnonzero(cum >= threshold - 1e-9)
    if len(hit) == 0:
        return None
    k = int(hit[0])
    before = float(cum[k - 1]) if k > 0 else 0.0
    step = float(cum[k]) - before
    frac = 1.0 if step <= 0 else min(max((threshold - before) / step, 0.0), 1.0)
    return (k + frac) * dt_s


def _half(total: float) -> float:
    return min(HALF_PERSON, total / 2.0)


# --------------------------------------------------------------------------- the model

class _Run(NamedTuple):
    """What the step loop recorded (:func:`_run`)."""

    steps: int
    evacuated: float
    remaining: float
    exit_flow: FloatArray  # (steps, exits): persons reaching safety per step
    passed: FloatArray  # (links,) sorted: persons through each link
    max_queue: FloatArray  # (links,) sorted
    clear: FloatArray  # (zones,): when each emptied, nan if it holds people
    max_rho: FloatArray  # (zones,)
    max_rho_t: FloatArray  # (zones,)
    sample_t: list[float]
    sample_pop: list[FloatArray]
    sample_evac: list[float]


def _run(net: _Net, *, dt_s: float, max_s: float, sample_s: float, free_speed: float, jam_density: float,
         min_speed: float, queue_density: float, bins: int) -> _Run:
    """The step loop of the module docstring (callers silence numpy's 0/0 and x/inf warnings)."""
    n, m = net.n, len(net.src)
    crowded = critical_density(free_speed, jam_density)
    conveyor = _Conveyor.start(net.length, net.population, free_speed * dt_s, bins)
    deciding = np.zeros(n)
    queue = np.zeros(m)
    service = np.array(net.cap)
    t_in = np.full(n + 1, math.inf)
    t_in[n] = 0.0
    span = int(net.delay.max()) + 1 if m else 1
    ring = np.zeros((m, span))
    into = net.tgt < n
    into_zone = net.tgt[into]
    link_rows = np.arange(m)
    holding = jam_density * net.area
    exit_links = net.exit_of >= 0
    n_exits = len(net.exit_names)

    max_steps = max(1, math.ceil(max_s / dt_s - 1e-9))
    every = max(1, round(sample_s / dt_s))
    occupancy = net.population.copy()
    max_rho = occupancy / net.area
    max_rho_t = np.zeros(n)
    clear = np.where(occupancy < HALF_PERSON, 0.0, math.nan)
    exit_flow: list[FloatArray] = []
    passed = np.zeros(m)
    max_queue = np.zeros(m)
    sample_t, sample_pop, sample_evac = [0.0], [occupancy.copy()], [0.0]
    evacuated = 0.0
    remaining = float(net.population.sum())
    steps = 0
    while steps < max_steps and remaining > DONE_PERSONS:
        # 1-2: speeds (queues stand at queue_density; walkers share the rest of the zone) and T estimates
        queued = deciding + np.bincount(net.src, weights=queue, minlength=n)
        free_part = 1.0 - np.minimum(queued / (queue_density * net.area), MAX_QUEUE_AREA)
        walkers = occupancy - queued
        speed = walking_speed(np.minimum(walkers / (net.area * free_part), crowded), free_speed=free_speed,
                              jam_density=jam_density, min_speed=min_speed)
        cost, marginal = _times_to_safety(net, queue, service, net.length * free_part / speed,
                                          walkers + deciding, free_speed, t_in)
        # 3-4: walk to the back of the queues, choose a link
        deciding += conveyor.walk(speed * dt_s / free_part)
        add, deciding = _choose(net, deciding, cost, marginal)
        queue += add
        # 5: pass the links, at most capacity * dt, scaled down where the target zone is full
        flow = np.minimum(queue, net.cap * dt_s)
        on_way = np.bincount(into_zone, weights=ring[into].sum(axis=1), minlength=n)
        free = np.maximum(holding - occupancy - on_way, 0.0)
        asked = np.bincount(into_zone, weights=flow[into], minlength=n)
        factor = np.where(asked > free, free / asked, 1.0)
        flow[into] *= factor[into_zone]
        blocked = np.zeros(m, dtype=bool)
        blocked[into] = factor[into_zone] < 1.0
        service = np.where(blocked, np.maximum(flow / dt_s, MIN_SERVICE), net.cap)
        queue = np.maximum(queue - flow, 0.0)
        passed += flow
        np.maximum(max_queue, queue, out=max_queue)
        # 6: along the links, into the next zone or to safety
        slot = steps % span
        ring[link_rows, (slot + net.delay) % span] += flow
        out = ring[:, slot].copy()
        ring[:, slot] = 0.0
        conveyor.enter(np.bincount(into_zone, weights=out[into], minlength=n).astype(np.float64))
        safe = np.bincount(net.exit_of[exit_links], weights=out[exit_links], minlength=n_exits).astype(np.float64)
        exit_flow.append(safe)
        evacuated += float(safe.sum())
        t0 = steps * dt_s
        steps += 1
        t1 = steps * dt_s
        # records
        before = occupancy
        occupancy = conveyor.walkers() + deciding + np.bincount(net.src, weights=queue, minlength=n)
        remaining = float(occupancy.sum() + ring.sum())
        rho = occupancy / net.area
        higher = rho > max_rho
        max_rho = np.where(higher, rho, max_rho)
        max_rho_t = np.where(higher, t1, max_rho_t)
        down = (before >= HALF_PERSON) & (occupancy < HALF_PERSON)
        cross = t0 + dt_s * (before - HALF_PERSON) / (before - occupancy)
        clear = np.where(down, cross, np.where(occupancy >= HALF_PERSON, math.nan, clear))
        if steps % every == 0 or steps == max_steps or remaining <= DONE_PERSONS:
            sample_t.append(t1)
            sample_pop.append(occupancy.copy())
            sample_evac.append(evacuated)
    return _Run(steps=steps, evacuated=evacuated, remaining=remaining,
                exit_flow=np.array(exit_flow, dtype=np.float64).reshape(steps, n_exits), passed=passed,
                max_queue=max_queue, clear=clear, max_rho=max_rho, max_rho_t=max_rho_t, sample_t=sample_t,
                sample_pop=sample_pop, sample_evac=sample_evac)


def _exit_results(net: _Net, run: _Run, dt_s: float, finished: bool) -> tuple[ExitResult, ...]:
    window = min(max(1, round(1.0 / dt_s)), run.steps)
    exits = []
    for e, name in enumerate(net.exit_names):
        cum = np.cumsum(run.exit_flow[:, e])
        persons = float(cum[-1]) if run.steps else 0.0
        padded = np.concatenate([[0.0], cum])
        peak = float((padded[window:] - padded[:-window]).max() / (window * dt_s)) if run.steps else 0.0
        first = _reach_time(cum, _half(persons), dt_s) if persons > 0 else None
        last = _reach_time(cum, persons - _half(persons), dt_s) if persons > 0 and finished else None
        mean = None
        if first is not None and last is not None and last > first and persons >= 2:
            mean = (persons - 1.0) / (last - first)
        exits.append(ExitResult(name=name, persons=persons, peak_per_s=peak, mean_per_s=mean, first_s=first,
                                last_s=last))
    return tuple(exits)


def evacuate(nodes: Sequence[EvacNode], links: Sequence[EvacLink], *, dt_s: float = 1.0, max_s: float = 3600.0,
             sample_s: float = 10.0, free_speed: float = FREE_SPEED, jam_density: float = JAM_DENSITY,
             min_speed: float = 0.1, queue_density: float = QUEUE_DENSITY, bins: int = 40) -> EvacResult:
    """Evacuate ``nodes`` through ``links`` (model, route choice and result rules in the module docstring).

    dt_s: step, seconds; max_s: time cap, seconds (the partial result is returned with a warning);
    sample_s: interval of the time series, seconds; free_speed (m/s), jam_density (persons/m2) and
    min_speed (m/s): the speed-density relation; queue_density: persons/m2 of the queues at passages;
    bins: distance bins per zone length (the walkers' resolution).

    Raises :class:`EvacuationError` (a ValueError) for duplicate zone codes, links naming unknown
    zones, negative or non-finite values, or a zone holding people with no route to safety
    ("zone Z7 has no exit: ...").
    """
    for what, value in (("dt_s", dt_s), ("max_s", max_s), ("sample_s", sample_s), ("free_speed", free_speed),
                        ("jam_density", jam_density), ("min_speed", min_speed), ("queue_density", queue_density)):
        _check_number(what, value, positive=True)
    if not isinstance(bins, int) or bins < 1:
        raise EvacuationError(f"bins must be an integer >= 1, got {bins!r}")
    net = _prepare(nodes, links, dt_s, free_speed)
    total = float(net.population.sum())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        run = _run(net, dt_s=dt_s, max_s=max_s, sample_s=sample_s, free_speed=free_speed, jam_density=jam_density,
                   min_speed=min_speed, queue_density=queue_density, bins=bins)
    cum_all = np.cumsum(run.exit_flow.sum(axis=1))
    clearance = 0.0 if total < 1e-12 else _reach_time(cum_all, total - _half(total), dt_s)
    finished = clearance is not None and run.remaining <= _half(total) + DONE_PERSONS
    node_results = tuple(
        NodeResult(code=nd.code, population=float(nd.population),
                   clear_s=None if math.isnan(run.clear[i]) else float(run.clear[i]),
                   max_density=float(run.max_rho[i]), max_density_s=float(run.max_rho_t[i]))
        for i, nd in enumerate(nodes))
    sorted_at = np.empty(len(links), dtype=np.int64)
    sorted_at[net.order] = np.arange(len(links))
    link_results = []
    for i, lk in enumerate(links):
        j = int(sorted_at[i])
        cap, longest = float(net.cap[j]), float(run.max_queue[j])
        wait = 0.0 if math.isinf(cap) or longest == 0 else longest / cap if cap > 0 else math.inf
        link_results.append(LinkResult(source=lk.source, target=lk.target, name=lk.label,
                                       persons=float(run.passed[j]), max_queue=longest, max_wait_s=wait))
    warnings = []
    if not finished:
        warnings.append(f"模拟在 {max_s:g} 秒内未完成：仍有 {round(run.remaining)} 人未疏散")
    crowded = [f"{nd.code} {nd.population / nd.area_m2:.1f} 人/㎡" for nd in nodes
               if nd.population / nd.area_m2 > jam_density]
    if crowded:
        warnings.append(f"以下区域初始密度超过阻塞密度 {jam_density:g} 人/㎡：{'，'.join(crowded)}")
    samples = len(run.sample_t)
    return EvacResult(
        finished=finished, clearance_s=clearance if finished else None, total=total, evacuated=run.evacuated,
        remaining=run.remaining, warning="；".join(warnings) or None, exits=_exit_results(net, run, dt_s, finished),
        nodes=node_results, links=tuple(link_results), times_s=frozen_array(run.sample_t),
        populations=frozen_array(np.array(run.sample_pop).reshape(samples, net.n)),
        evacuated_series=frozen_array(run.sample_evac), dt_s=dt_s, steps=run.steps)
