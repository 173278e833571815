"""The zone network of the crowd-flow model: capacities, nodes, links, arrivals, surges, routes.

Pure and typed (no I/O); numpy arrays inside the frozen dataclasses are read-only. Units: persons,
seconds, metres, persons/s for capacities, persons/m2 for densities. Times ``t_s`` are seconds
relative to the show start (negative before it). The movement rules that run on a :class:`Network`
are in :mod:`anbao.algorithms.crowdflow`, whose docstring describes the whole model.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Green Guide flow through exits on the level, persons per metre width per minute
LEVEL_RATE_PER_M_MIN = 82.0
#: Green Guide flow on stairs, persons per metre width per minute
STAIR_RATE_PER_M_MIN = 66.0
#: throughput of one turnstile or screening lane, persons per hour (UK practice)
TURNSTILE_PER_H = 660.0
#: Weidmann (1993): free walking speed (m/s), jam density (persons/m2) and shape factor
FREE_SPEED = 1.34
JAM_DENSITY = 5.4
WEIDMANN_GAMMA = 1.913

STAY = -1  # next-hop code: at the destination (or no route): stay
DEPART = -2  # next-hop code: leave the network from this origin

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def width_capacity(width_m: float, *, stair: bool = False) -> float:
    """Flow capacity of a passage ``width_m`` metres wide in persons/s (82 or 66 persons/m/min)."""
    _non_negative("width_m", width_m)
    return width_m * (STAIR_RATE_PER_M_MIN if stair else LEVEL_RATE_PER_M_MIN) / 60.0


def lanes_capacity(lanes: int, *, per_lane_per_h: float = TURNSTILE_PER_H) -> float:
    """Flow capacity of ``lanes`` turnstiles or screening lanes in persons/s (660 per lane per hour)."""
    _non_negative("lanes", lanes)
    _non_negative("per_lane_per_h", per_lane_per_h)
    return lanes * per_lane_per_h / 3600.0


def walking_speed(density: FloatArray | float, *, free_speed: float = FREE_SPEED, jam_density: float = JAM_DENSITY,
                  min_speed: float = 0.1) -> FloatArray:
    """Weidmann's speed-density relation in m/s, floored at ``min_speed``; density in persons/m2."""
    rho = np.maximum(np.asarray(density, dtype=np.float64), 1e-9)
    v = free_speed * (1.0 - np.exp(-WEIDMANN_GAMMA * (1.0 / rho - 1.0 / jam_density)))
    out: FloatArray = np.clip(v, min_speed, free_speed)
    return out


def _non_negative(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def frozen_array(array: Any, dtype: Any = np.float64) -> Any:
    """A read-only numpy copy of ``array``."""
    out = np.array(array, dtype=dtype)
    out.flags.writeable = False
    return out


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class Node:
    """A zone: ``area_m2`` for density and space, ``length_m`` the typical walk across it."""

    code: str
    area_m2: float
    length_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.area_m2) and self.area_m2 > 0):
            raise ValueError(f"node {self.code}: area_m2 must be > 0, got {self.area_m2}")
        if not (math.isfinite(self.length_m) and self.length_m > 0):
            raise ValueError(f"node {self.code}: length_m must be > 0, got {self.length_m}")


@dataclass(frozen=True)
class GateShare:
    """A gate carried by a link: ``share`` of the link's flow passes it, ``inward`` into the gate's zone."""

    code: str
    share: float
    inward: bool = True


@dataclass(frozen=True)
class Link:
    """A one-way connection. ``capacity_pps`` in persons/s, ``None`` = open (no limit).

    ``gates`` are the gates the link stands for, each with the share of the flow it carries (its
    capacity share), so that gate counters can be read off the link flow. ``kind`` says how the link
    was found (``gate``, ``open``, ``nearest``...); informative only.
    """

    source: str
    target: str
    capacity_pps: float | None = None
    gates: tuple[GateShare, ...] = ()
    kind: str = "open"

    def __post_init__(self) -> None:
        if self.source == self.target:
            raise ValueError(f"link {self.source} -> {self.target} joins a node to itself")
        if self.capacity_pps is not None:
            _non_negative(f"capacity of link {self.source} -> {self.target}", self.capacity_pps)


@dataclass(frozen=True)
class ArrivalCurve:
    """Arrival times before the show: Erlang(``shape``) in time-before-show, truncated to the window.

    ``mode_s`` seconds before the show is the busiest moment; the scale is ``mode_s / (shape - 1)``.
    """

    window_s: float = 150 * 60.0
    mode_s: float = 37.5 * 60.0
    shape: int = 3

    def __post_init__(self) -> None:
        if self.shape < 2:
            raise ValueError(f"shape must be an integer >= 2, got {self.shape}")
        if not (0 < self.mode_s < self.window_s):
            raise ValueError(f"mode_s must be in (0, window_s), got {self.mode_s}")

    @property
    def scale_s(self) -> float:
        return self.mode_s / (self.shape - 1)

    def _before(self, u: float) -> float:
        """P(arrival earlier than ``u`` seconds before the show), untruncated Erlang CDF."""
        if u <= 0:
            return 0.0
        x = u / self.scale_s
        term, total = 1.0, 1.0
        for n in range(1, self.shape):
            term *= x / n
            total += term
        return 1.0 - math.exp(-x) * total

    def cumulative(self, t_s: float) -> float:
        """Fraction of the crowd arrived by ``t_s`` (seconds relative to the show start), in [0, 1]."""
        if t_s <= -self.window_s:
            return 0.0
        if t_s >= 0:
            return 1.0
        full = self._before(self.window_s)
        return (full - self._before(-t_s)) / full

    def rate(self, t_s: float) -> float:
        """Arrival rate at ``t_s`` as a fraction of the crowd per second."""
        if not -self.window_s < t_s < 0:
            return 0.0
        u = -t_s / self.scale_s
        pdf = u ** (self.shape - 1) * math.exp(-u) / (math.factorial(self.shape - 1) * self.scale_s)
        return pdf / self._before(self.window_s)


@dataclass(frozen=True)
class Surge:
    """From ``start_s`` to ``end_s``, ``fraction`` of the people bound for ``sources`` head for ``target``."""

    target: str
    start_s: float
    end_s: float
    fraction: float = 0.35
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.start_s < self.end_s:
            raise ValueError(f"surge window must have start_s < end_s, got {self.start_s} >= {self.end_s}")
        if not 0 <= self.fraction <= 1:
            raise ValueError(f"fraction must be in [0, 1], got {self.fraction}")


@dataclass(frozen=True)
class Slowdown:
    """From ``start_s`` to ``end_s`` gate ``gate`` serves at ``factor`` of its capacity (安检拥堵: a
    screening slowdown, a lane closed, a stricter check). ``factor`` in (0, 1]."""

    gate: str
    start_s: float
    end_s: float
    factor: float = 0.3

    def __post_init__(self) -> None:
        if not self.start_s < self.end_s:
            raise ValueError(f"slowdown window must have start_s < end_s, got {self.start_s} >= {self.end_s}")
        if not 0 < self.factor <= 1:
            raise ValueError(f"factor must be in (0, 1], got {self.factor}")


@dataclass(frozen=True)
class _Index:
    """Arrays derived from a :class:`Network` once."""

    node: dict[str, int]
    dest: dict[str, int]
    area: FloatArray
    length: FloatArray
    capacity: FloatArray  # inf = open
    link_source: IntArray
    link_target: IntArray
    next_hop: IntArray  # (nodes, commodities): link index, STAY or DEPART
    origin_share: FloatArray  # (nodes,)
    dest_share: FloatArray  # (destinations,)
    exit_share: FloatArray  # (exit commodities,): origin weights, normalised
    exit_of: IntArray  # (nodes,): the exit commodity of an origin node, -1 elsewhere
    n_dest: int
    exits: tuple[str, ...]  # origin code of each exit commodity
    pulsed: FloatArray  # (nodes,): 1.0 where arrivals come by train
    headway: FloatArray  # (nodes,): seconds between trains (inf elsewhere)
    phase: FloatArray  # (nodes,): time of the first train after t = 0, modulo the headway
    commodity: IntArray  # (nodes, commodities): the commodity index of each cell
    surge_sources: tuple[tuple[int, ...], ...]
    surge_target: tuple[int, ...]
    gates: tuple[str, ...]  # gate codes in order of first appearance on the links
    entry_link: IntArray  # (entries,): one entry per gate on a link: the link
    entry_gate: IntArray  # (entries,): the gate (index into ``gates``)
    entry_share: FloatArray  # (entries,): the gate's share of the link's capacity
    entry_inward: NDArray[np.bool_]  # (entries,): the gate's "in" direction
    slow_entries: tuple[IntArray, ...]  # per slowdown: the entries of its gate


@dataclass(frozen=True)
class Network:
    """The zone network and the scenario that drives it.

    origins: node code -> weight of arrivals entering there (normalised).
    destinations: node code -> weight of tickets for that zone (normalised; e.g. its capacity).
    attendance: persons who will come. show_end_s: start of egress (seconds after the show start).
    slowdowns: gates serving below capacity for a while (:class:`Slowdown`).
    headways: origin code -> seconds between trains: arrivals there come in pulses, one train every
        headway (phase set by ``seed``), instead of a steady stream (metro and shuttle stops).
    seed: noise of the arrivals; ``arrival_noise`` its relative standard deviation per step.
    """

    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    origins: Mapping[str, float]
    destinations: Mapping[str, float]
    attendance: float
    show_end_s: float = 3 * 3600.0
    arrival: ArrivalCurve = field(default_factory=ArrivalCurve)
    surges: tuple[Surge, ...] = ()
    slowdowns: tuple[Slowdown, ...] = ()
    headways: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    arrival_noise: float = 0.1
    free_speed: float = FREE_SPEED
    jam_density: float = JAM_DENSITY
    min_speed: float = 0.1
    route_penalty_s: float = 600.0
    index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _non_negative("attendance", self.attendance)
        _non_negative("arrival_noise", self.arrival_noise)
        codes = [n.code for n in self.nodes]
        if len(set(codes)) != len(codes):
            raise ValueError("node codes must be unique")
        node = {c: i for i, c in enumerate(codes)}
        for link in self.links:
            for end in (link.source, link.target):
                if end not in node:
                    raise ValueError(f"link {link.source} -> {link.target}: unknown node {end!r}")
        for name, weights in (("origins", self.origins), ("destinations", self.destinations)):
            if not weights or sum(weights.values()) <= 0:
                raise ValueError(f"{name} need at least one positive weight")
            for code, w in weights.items():
                if code not in node:
                    raise ValueError(f"{name}: unknown node {code!r}")
                _non_negative(f"{name} weight of {code}", w)
        dests = list(self.destinations)
        dest = {c: k for k, c in enumerate(dests)}
        for s in self.surges:
            for code in (s.target, *s.sources):
                if code not in dest:
                    raise ValueError(f"surge: {code!r} is not a destination")
        for code, h in self.headways.items():
            if code not in self.origins:
                raise ValueError(f"headways: {code!r} is not an origin")
            if not (math.isfinite(h) and h > 0):
                raise ValueError(f"headway of {code} must be > 0, got {h}")
        object.__setattr__(self, "headways", dict(self.headways))
        object.__setattr__(self, "origins", dict(self.origins))
        object.__setattr__(self, "destinations", dict(self.destinations))

        exit_origins = [c for c, w in self.origins.items() if w > 0]
        n_nodes, n_links, n_com = len(codes), len(self.links), len(dests) + len(exit_origins)
        length = np.array([n.length_m for n in self.nodes])
        capacity = np.array([math.inf if lk.capacity_pps is None else lk.capacity_pps for lk in self.links])
        src = np.array([node[lk.source] for lk in self.links], dtype=np.int64)
        dst = np.array([node[lk.target] for lk in self.links], dtype=np.int64)
        with np.errstate(divide="ignore"):
            cost = length[src] / self.free_speed + np.where(capacity > 0, self.route_penalty_s / capacity, math.inf)
        incoming: list[list[int]] = [[] for _ in range(n_nodes)]
        for li in range(n_links):
            incoming[int(dst[li])].append(li)

        next_hop = np.full((n_com, n_nodes), STAY, dtype=np.int64)
        origin_idx = [node[c] for c, w in self.origins.items() if w > 0]
        for k, code in enumerate(dests):
            best = self._routes(n_nodes, incoming, src, cost, {node[code]: 0.0}, next_hop[k])
            unreachable = [codes[o] for o in origin_idx if not math.isfinite(best[o])]
            if unreachable:
                raise ValueError(f"destination {code} cannot be reached from {', '.join(unreachable)}")
        for j, code in enumerate(exit_origins):
            k = len(dests) + j
            self._routes(n_nodes, incoming, src, cost, {node[code]: 0.0}, next_hop[k])
            next_hop[k, node[code]] = DEPART

        origin_share = np.zeros(n_nodes)
        for c, w in self.origins.items():
            origin_share[node[c]] = w
        exit_share = np.array([self.origins[c] for c in exit_origins], dtype=np.float64)
        pulsed, headway, phase = np.zeros(n_nodes), np.full(n_nodes, math.inf), np.zeros(n_nodes)
        trains = np.random.default_rng((self.seed, 1)).uniform(0.0, 1.0, size=len(self.headways))
        for (code, h), u in zip(sorted(self.headways.items()), trains, strict=True):
            pulsed[node[code]], headway[node[code]], phase[node[code]] = 1.0, h, u * h
        entries = [(li, g) for li, lk in enumerate(self.links) for g in lk.gates]
        gates = tuple(dict.fromkeys(g.code for _, g in entries))
        gate_no = {c: i for i, c in enumerate(gates)}
        for sd in self.slowdowns:
            if sd.gate not in gate_no:
                raise ValueError(f"slowdown: {sd.gate!r} is not a gate of any link")
        exit_of = np.full(n_nodes, -1, dtype=np.int64)
        for j, code in enumerate(exit_origins):
            exit_of[node[code]] = len(dests) + j
        dest_share = np.array([self.destinations[c] for c in dests], dtype=np.float64)
        fa = frozen_array
        object.__setattr__(self, "index", _Index(
            node=node, dest=dest, area=fa([n.area_m2 for n in self.nodes]), length=fa(length),
            capacity=fa(capacity), link_source=fa(src, np.int64), link_target=fa(dst, np.int64),
            next_hop=fa(next_hop.T, np.int64), origin_share=fa(origin_share / origin_share.sum()),
            dest_share=fa(dest_share / dest_share.sum()), exit_share=fa(exit_share / exit_share.sum()),
            exit_of=fa(exit_of, np.int64), n_dest=len(dests), exits=tuple(exit_origins),
            pulsed=fa(pulsed), headway=fa(headway), phase=fa(phase),
            commodity=fa(np.broadcast_to(np.arange(n_com), (n_nodes, n_com)), np.int64),
            surge_sources=tuple(tuple(dest[c] for c in (s.sources or [d for d in dests if d != s.target]))
                                for s in self.surges),
            surge_target=tuple(dest[s.target] for s in self.surges),
            gates=gates, entry_link=fa([li for li, _ in entries], np.int64),
            entry_gate=fa([gate_no[g.code] for _, g in entries], np.int64),
            entry_share=fa([g.share for _, g in entries]), entry_inward=fa([g.inward for _, g in entries], np.bool_),
            slow_entries=tuple(fa([k for k, (_, g) in enumerate(entries) if g.code == sd.gate], np.int64)
                               for sd in self.slowdowns)))

    @staticmethod
    def _routes(n_nodes: int, incoming: list[list[int]], src: IntArray, cost: FloatArray,
                roots: dict[int, float], hop: IntArray) -> list[float]:
        """Dijkstra backwards from ``roots`` (node -> cost there); fills ``hop`` with the next link."""
        best = [math.inf] * n_nodes
        heap: list[tuple[float, int]] = []
        for r, c in roots.items():
            best[r] = c
            heapq.heappush(heap, (c, r))
        while heap:
            c, j = heapq.heappop(heap)
            if c > best[j]:
                continue
            for li in incoming[j]:
                i = int(src[li])
                nc = c + float(cost[li])
                if nc < best[i] and i not in roots:
                    best[i] = nc
                    hop[i] = li
                    heapq.heappush(heap, (nc, i))
        return best

    @property
    def commodities(self) -> tuple[str, ...]:
        """Commodity names: the destination codes, then ``"exit:<origin code>"``."""
        return (*self.destinations, *(f"exit:{c}" for c in self.index.exits))

    def service(self, t_s: float) -> tuple[FloatArray, FloatArray]:
        """Capacity factor per link and each gate entry's share of its link's flow at ``t_s``.

        A slowed gate (:class:`Slowdown`) takes ``share x (1 - factor)`` off its link's capacity; the
        link's flow splits over its gates in proportion to what each serves now (without slowdowns:
        the capacity shares).
        """
        idx = self.index
        factor = np.ones(len(idx.entry_share))
        active = False
        for sd, entries in zip(self.slowdowns, idx.slow_entries, strict=True):
            if sd.start_s <= t_s < sd.end_s:
                factor[entries] *= sd.factor
                active = True
        if not active:
            return np.ones(len(self.links)), np.array(idx.entry_share)
        serving = idx.entry_share * factor
        loss = np.bincount(idx.entry_link, weights=idx.entry_share - serving, minlength=len(self.links))
        link_factor = np.clip(1.0 - loss, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            split = np.where(link_factor[idx.entry_link] > 0, serving / link_factor[idx.entry_link], 0.0)
        return link_factor, split

    def link_index(self, source: str, target: str) -> int:
        for i, lk in enumerate(self.links):
            if lk.source == source and lk.target == target:
                return i
        raise KeyError(f"no link {source} -> {target}")

    def route(self, origin: str, destination: str) -> list[str]:
        """Node codes from ``origin`` to ``destination`` (a destination or ``"exit:<origin code>"``)."""
        k = self.commodities.index(destination)
        i = self.index.node[origin]
        path = [origin]
        for _ in range(len(self.nodes)):
            hop = int(self.index.next_hop[i, k])
            if hop < 0:
                break
            i = int(self.index.link_target[hop])
            path.append(self.nodes[i].code)
        return path

def aggregate_links(links: Sequence[Link]) -> tuple[Link, ...]:
    """Merge parallel links (same source and target) into one: capacities add, ``None`` wins.

    Gate shares are rescaled to the merged capacity (a gate's share of an open merged link is 0).
    """
    groups: dict[tuple[str, str], list[Link]] = {}
    for link in links:
        groups.setdefault((link.source, link.target), []).append(link)
    out = []
    for (source, target), group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        caps = [lk.capacity_pps for lk in group]
        total = None if any(c is None for c in caps) else sum(c for c in caps if c is not None)
        gates: list[GateShare] = []
        for lk in group:
            for g in lk.gates:
                own = (lk.capacity_pps or 0.0) * g.share
                gates.append(GateShare(g.code, own / total if total else 0.0, g.inward))
        kinds = sorted({lk.kind for lk in group})
        out.append(Link(source, target, total, tuple(gates), "+".join(kinds)))
    return tuple(out)
