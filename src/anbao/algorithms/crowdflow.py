"""Macroscopic crowd flow on a zone network: arrivals, queues at gates, dwell, egress.

Pure and deterministic (no I/O); numpy arrays inside the frozen dataclasses are read-only.
Units: persons, seconds, metres, persons/s for capacities, persons/m2 for densities. Times ``t_s``
are seconds relative to the show start (negative before it).

The model
---------
* **Nodes** are zones with an area and a walking length. **Links** join two nodes in one direction
  with a capacity in persons/s (``None``: open, no limit beyond the receiving node's space). A gate
  link's capacity comes from the Green Guide figures (DOMAIN.md section 3): :func:`width_capacity`
  (82 persons per metre width per minute on the level, 66 on stairs) or :func:`lanes_capacity`
  (about 660 persons per hour per turnstile or screening lane).
* **People** are stored per (node, commodity): a commodity is a destination (a seat or standing
  zone whose ticket they hold) or, after the show, the origin they walk back to (``exit:<code>``).
  Each commodity follows a fixed route:
  the capacity-aware shortest path to its destination, link cost = walking time across the source
  node (``length / free_speed``) + ``route_penalty_s / capacity`` (a stand-in for the expected wait
  at narrow links: a 1 person/s gate costs 600 s more by default, a 10 person/s one 60 s).
* **Arrivals**: ``attendance`` persons arrive at the origin nodes (shares ``origins``) with tickets
  split by ``destinations`` shares. The arrival time, counted back from the show start, follows an
  Erlang distribution (gamma with integer shape ``k``), truncated to the arrival window
  (:class:`ArrivalCurve`: 150 min, mode 37.5 min before the show, k = 3, so the peak falls 45-30 min
  before the show, about 23 % are in 75 min before it and the tail is long, as observed at stadium
  gates). Per-step arrivals follow the curve with seeded multiplicative noise and correct themselves
  towards it, so the cumulative arrivals never drift from the curve; whoever is still out at the
  show start arrives in that step. At origins with a ``headway`` (metro, shuttle buses) people
  arrive by train: they count as pending until the next train, which brings them all at once.
* **Movement** in a step of ``dt`` seconds (a store-and-forward cell model):

  1. every node lets ``min(1, dt * v(rho) / length)`` of its people not yet at their destination
     move on (exponential dwell, mean = walking time across the node); ``v(rho)`` is Weidmann's
     fundamental diagram (1.34 m/s free, 0 at 5.4 persons/m2), floored at ``min_speed``;
  2. a link passes at most ``capacity * dt`` of what wants to cross; the rest waits in the source
     node: this is the queue at a gate;
  3. a node accepts at most its free space ``jam_density * area - occupancy``; all links into it are
     scaled down by the same factor when more want in (spill-back);
  4. people walking back to an origin leave the network there (``departed``).

  Everybody moves at most one link per step, and the order of nodes does not matter (all flows are
  computed from the state at the start of the step). People are conserved exactly:
  ``pending + sum(occupancy) + departed == attendance`` up to float rounding.
* **Phases**: from ``show_end_s`` on, everybody heads back to an origin, split by the origin
  shares (the model does not remember who came by which way; the mix is the same everywhere).
  A :class:`Surge` moves the tickets of ``fraction`` of the people bound for other destinations
  (``sources``) to ``target`` for its window (a rush to the stage front): they walk there through
  the ordinary links, so the target's inflow spikes; at the end of the window the same numbers are
  given back their own destinations.
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


def _frozen(array: Any, dtype: Any = np.float64) -> Any:
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


@dataclass(frozen=True)
class Network:
    """The zone network and the scenario that drives it.

    origins: node code -> weight of arrivals entering there (normalised).
    destinations: node code -> weight of tickets for that zone (normalised; e.g. its capacity).
    attendance: persons who will come. show_end_s: start of egress (seconds after the show start).
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
        exit_of = np.full(n_nodes, -1, dtype=np.int64)
        for j, code in enumerate(exit_origins):
            exit_of[node[code]] = len(dests) + j
        dest_share = np.array([self.destinations[c] for c in dests], dtype=np.float64)
        object.__setattr__(self, "index", _Index(
            node=node, dest=dest, area=_frozen([n.area_m2 for n in self.nodes]), length=_frozen(length),
            capacity=_frozen(capacity), link_source=_frozen(src, np.int64), link_target=_frozen(dst, np.int64),
            next_hop=_frozen(next_hop.T, np.int64), origin_share=_frozen(origin_share / origin_share.sum()),
            dest_share=_frozen(dest_share / dest_share.sum()), exit_share=_frozen(exit_share / exit_share.sum()),
            exit_of=_frozen(exit_of, np.int64), n_dest=len(dests), exits=tuple(exit_origins),
            pulsed=_frozen(pulsed), headway=_frozen(headway), phase=_frozen(phase),
            commodity=_frozen(np.broadcast_to(np.arange(n_com), (n_nodes, n_com)), np.int64),
            surge_sources=tuple(tuple(dest[c] for c in (s.sources or [d for d in dests if d != s.target]))
                                for s in self.surges),
            surge_target=tuple(dest[s.target] for s in self.surges)))

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


# --------------------------------------------------------------------------- state

@dataclass(frozen=True, eq=False)
class FlowState:
    """The crowd at time ``t_s`` (seconds after the show start).

    occupancy: persons per (node, commodity); pending: not yet arrived; departed: left after the show.
    held: per node, the part of ``pending`` waiting for the next train to a pulsed origin.
    cum_flow / last_flow: persons through each link since the start / in the last step.
    surge_status: per surge 0 pending, 1 active, 2 over; surge_diverted: persons re-ticketed per source.
    """

    network: Network
    t_s: float
    step_no: int
    occupancy: FloatArray
    pending: float
    departed: float
    cum_flow: FloatArray
    held: FloatArray
    last_flow: FloatArray
    egress: bool = False
    surge_status: tuple[int, ...] = ()
    surge_diverted: tuple[tuple[float, ...], ...] = ()

    @property
    def present(self) -> float:
        return float(self.occupancy.sum())

    @property
    def total(self) -> float:
        """pending + present + departed: equals the attendance at every step."""
        return self.pending + self.present + self.departed

    def counts(self) -> dict[str, float]:
        """Persons per node code."""
        per_node = self.occupancy.sum(axis=1)
        return {n.code: float(per_node[i]) for i, n in enumerate(self.network.nodes)}

    def densities(self) -> dict[str, float]:
        """Persons/m2 per node code."""
        per_node = self.occupancy.sum(axis=1) / self.network.index.area
        return {n.code: float(per_node[i]) for i, n in enumerate(self.network.nodes)}

    def waiting(self, link: int) -> float:
        """Persons in the link's source node whose next step is this link: the queue when it is saturated."""
        idx = self.network.index
        i = int(idx.link_source[link])
        return float(self.occupancy[i][idx.next_hop[i] == link].sum())

    def gate_flows(self) -> dict[str, tuple[float, float]]:
        """Cumulative persons through each named gate: (into the gate's zone, out of it).

        A gate link whose target is the gate's own zone is "in"; the reverse link is "out".
        """
        out: dict[str, tuple[float, float]] = {}
        for li, link in enumerate(self.network.links):
            for g in link.gates:
                inward, outward = out.get(g.code, (0.0, 0.0))
                flow = float(self.cum_flow[li]) * g.share
                out[g.code] = (inward + flow, outward) if g.inward else (inward, outward + flow)
        return out


def initial_state(network: Network, t_s: float | None = None) -> FlowState:
    """Nobody arrived yet; the clock at ``t_s`` (default the start of the arrival window)."""
    t = -network.arrival.window_s if t_s is None else t_s
    n_links = len(network.links)
    return FlowState(
        network=network, t_s=t, step_no=0,
        occupancy=_frozen(np.zeros((len(network.nodes), len(network.commodities)))),
        pending=float(network.attendance), departed=0.0, cum_flow=_frozen(np.zeros(n_links)),
        held=_frozen(np.zeros(len(network.nodes))),
        last_flow=_frozen(np.zeros(n_links)), surge_status=tuple(0 for _ in network.surges),
        surge_diverted=tuple(() for _ in network.surges))


def _surges(state: FlowState, n: FloatArray) -> tuple[tuple[int, ...], tuple[tuple[float, ...], ...]]:
    net, idx = state.network, state.network.index
    status, diverted = list(state.surge_status), list(state.surge_diverted)
    for j, surge in enumerate(net.surges):
        target, sources = idx.surge_target[j], list(idx.surge_sources[j])
        if status[j] == 0 and state.t_s >= surge.start_s:
            if state.t_s >= surge.end_s or state.egress:
                status[j] = 2
                continue
            moved = n[:, sources] * surge.fraction
            n[:, sources] -= moved
            n[:, target] += moved.sum(axis=1)
            status[j], diverted[j] = 1, tuple(float(x) for x in moved.sum(axis=0))
        elif status[j] == 1 and (state.t_s >= surge.end_s or state.egress):
            total = float(n[:, target].sum())
            if total > 0 and not state.egress:
                column = n[:, target].copy()
                share = np.array(diverted[j]) / total
                if share.sum() > 1.0:  # the target's people cannot give back more than they are
                    share /= share.sum()
                back = np.outer(column, share)
                n[:, sources] += back
                n[:, target] -= back.sum(axis=1)
            status[j] = 2
    return tuple(status), tuple(diverted)


def step(state: FlowState, dt_s: float) -> FlowState:
    """The state ``dt_s`` seconds later (see the module docstring for the rules)."""
    if not (math.isfinite(dt_s) and dt_s > 0):
        raise ValueError(f"dt_s must be > 0, got {dt_s}")
    net, idx = state.network, state.network.index
    n: FloatArray = np.array(state.occupancy, dtype=np.float64)
    t0, t1 = state.t_s, state.t_s + dt_s

    status, diverted = _surges(state, n)
    egress = state.egress or t0 >= net.show_end_s
    if egress:
        d = idx.n_dest
        n[:, d:] += np.outer(n[:, :d].sum(axis=1), idx.exit_share)
        n[:, :d] = 0.0

    # arrivals: follow the curve, with noise that corrects itself towards it; people bound for a
    # pulsed origin wait (still pending) for their train, which brings them all at once
    held = np.array(state.held, dtype=np.float64)
    unassigned = state.pending - float(held.sum())
    inject = np.zeros(len(net.nodes))
    if unassigned > 0 and t1 > -net.arrival.window_s:
        if t1 >= 0:
            arrive = unassigned
        else:
            behind = net.attendance * net.arrival.cumulative(t1) - (net.attendance - unassigned)
            noise = 0.0
            if net.arrival_noise > 0:
                rng = np.random.default_rng((net.seed, state.step_no))
                noise = float(np.clip(rng.normal(0.0, net.arrival_noise), -0.5, 0.5))
            arrive = min(unassigned, max(0.0, behind) * (1.0 + noise))
        held += arrive * idx.origin_share * idx.pulsed
        inject += arrive * idx.origin_share * (1.0 - idx.pulsed)
        unassigned = 0.0 if arrive >= unassigned else unassigned - arrive
    if idx.pulsed.any():
        with np.errstate(invalid="ignore"):
            due = (idx.pulsed > 0) & ((t1 >= 0) | (np.floor((t1 - idx.phase) / idx.headway)
                                                   > np.floor((t0 - idx.phase) / idx.headway)))
        inject[due] += held[due]
        held[due] = 0.0
    if inject.any():
        if egress:  # late comers after the show: straight back out where they are
            at = np.flatnonzero(inject)
            n[at, idx.exit_of[at]] += inject[at]
        else:
            n[:, :idx.n_dest] += np.outer(inject, idx.dest_share)
    pending = unassigned + float(held.sum())

    # movement
    occ = n.sum(axis=1)
    rate = np.minimum(1.0, dt_s * walking_speed(occ / idx.area, free_speed=net.free_speed,
                                                jam_density=net.jam_density, min_speed=net.min_speed) / idx.length)
    demand = n * rate[:, None]
    hop = idx.next_hop
    moving = hop >= 0
    links = hop[moving]
    wants = demand[moving]
    n_links = len(net.links)
    flow = np.zeros(n_links)
    if n_links:
        asked = np.bincount(links, weights=wants, minlength=n_links)
        flow = np.minimum(asked, idx.capacity * dt_s)
        inflow = np.bincount(idx.link_target, weights=flow, minlength=len(net.nodes))
        space = np.maximum(0.0, net.jam_density * idx.area - occ)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(inflow > space, space / inflow, 1.0)
            flow = flow * scale[idx.link_target]
            passed = np.where(asked > 0, flow / asked, 0.0)
        moved = wants * passed[links]
        n[moving] -= moved
        np.add.at(n, (idx.link_target[links], idx.commodity[moving]), moved)
    leaving = hop == DEPART
    gone = demand[leaving]
    n[leaving] -= gone
    departed = state.departed + float(gone.sum())

    return FlowState(network=net, t_s=t1, step_no=state.step_no + 1, occupancy=_frozen(n), pending=pending,
                     departed=departed, cum_flow=_frozen(state.cum_flow + flow), last_flow=_frozen(flow),
                     held=_frozen(held),
                     egress=egress, surge_status=status, surge_diverted=diverted)


def advance(state: FlowState, seconds: float, *, max_dt_s: float = 2.0) -> FlowState:
    """Step ``seconds`` forward in equal steps of at most ``max_dt_s``."""
    if seconds <= 0:
        return state
    steps = max(1, math.ceil(seconds / max_dt_s - 1e-9))
    dt = seconds / steps
    for _ in range(steps):
        state = step(state, dt)
    return state


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
