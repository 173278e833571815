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

  The people held back at a link are its **queue** (:meth:`FlowState.queue`): of those ready to
  cross in the step, the link passed ``flow`` of ``asked``; ``(asked - flow) / rate`` is the number
  in the source node who would be through by now without the limit (the others are still walking
  to it). A gate's queue is its share of its link's queue, and its expected wait the queue over
  what it serves (:meth:`FlowState.gate_queues`).

  Everybody moves at most one link per step, and the order of nodes does not matter (all flows are
  computed from the state at the start of the step). People are conserved exactly:
  ``pending + sum(occupancy) + departed == attendance`` up to float rounding.
* **Phases**: from ``show_end_s`` on, everybody heads back to an origin, split by the origin
  shares (the model does not remember who came by which way; the mix is the same everywhere).
  A :class:`Surge` moves the tickets of ``fraction`` of the people bound for other destinations
  (``sources``) to ``target`` for its window (a rush to the stage front): they walk there through
  the ordinary links, so the target's inflow spikes; at the end of the window the same numbers are
  given back their own destinations. A :class:`Slowdown` makes one gate serve at ``factor`` of its
  capacity for its window (安检拥堵, a screening slowdown): its link loses ``share x (1 - factor)``
  of its capacity, and the link's flow splits over its gates by what each serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from anbao.algorithms.crowdnet import (
    DEPART,
    FREE_SPEED,
    JAM_DENSITY,
    LEVEL_RATE_PER_M_MIN,
    STAIR_RATE_PER_M_MIN,
    STAY,
    TURNSTILE_PER_H,
    WEIDMANN_GAMMA,
    ArrivalCurve,
    FloatArray,
    GateShare,
    IntArray,
    Link,
    Network,
    Node,
    Slowdown,
    Surge,
    aggregate_links,
    frozen_array,
    lanes_capacity,
    walking_speed,
    width_capacity,
)

__all__ = [
    "DEPART", "FREE_SPEED", "JAM_DENSITY", "LEVEL_RATE_PER_M_MIN", "STAIR_RATE_PER_M_MIN", "STAY", "TURNSTILE_PER_H",
    "WEIDMANN_GAMMA", "ArrivalCurve", "FloatArray", "FlowState", "GateQueue", "GateShare", "IntArray", "Link",
    "Network", "Node", "Slowdown", "Surge", "advance", "aggregate_links", "initial_state", "lanes_capacity", "step",
    "walking_speed", "width_capacity",
]

# --------------------------------------------------------------------------- state

@dataclass(frozen=True, eq=False)
class FlowState:
    """The crowd at time ``t_s`` (seconds after the show start).

    occupancy: persons per (node, commodity); pending: not yet arrived; departed: left after the show.
    held: per node, the part of ``pending`` waiting for the next train to a pulsed origin.
    cum_flow / last_flow: persons through each link since the start / in the last step.
    queue: persons held back at each link in the last step (see :meth:`queue`).
    gate_cum: persons through each gate entry (``network.index.entry_*``) since the start.
    link_factor / split: the links' capacity factors and the entries' shares of their link's flow
    in the last step (:meth:`Network.service`); dt_s: the length of the last step.
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
    queue_now: FloatArray
    gate_cum: FloatArray
    link_factor: FloatArray
    split: FloatArray
    dt_s: float = 0.0
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

    def queue(self, link: int) -> float:
        """Persons queuing at the link: those of :meth:`waiting` who would have crossed by now if the
        link had no capacity limit (and its target had room), in persons.

        In the last step the link passed ``flow`` of the ``asked`` who were ready to cross; the people
        still walking to it are ``flow / rate`` (the rate at which the source node lets its people
        move on), so the queue is ``(asked - flow) / rate``: 0 while the link keeps up.
        """
        return float(self.queue_now[link])

    def gate_flows(self) -> dict[str, tuple[float, float]]:
        """Cumulative persons through each named gate: (into the gate's zone, out of it).

        A gate link whose target is the gate's own zone is "in"; the reverse link is "out". A link's
        flow splits over its gates by what each serves (capacity shares, less any slowdown).
        """
        idx = self.network.index
        inward = np.bincount(idx.entry_gate, weights=np.where(idx.entry_inward, self.gate_cum, 0.0),
                             minlength=len(idx.gates))
        outward = np.bincount(idx.entry_gate, weights=np.where(idx.entry_inward, 0.0, self.gate_cum),
                              minlength=len(idx.gates))
        return {code: (float(inward[i]), float(outward[i])) for i, code in enumerate(idx.gates)}

    def gate_queues(self) -> dict[str, GateQueue]:
        """The queue at each named gate now, in its busier direction (see :class:`GateQueue`).

        A link's queue splits over its parallel gates by their capacity shares (people line up at
        the gate they walk to, as the gates were planned), and each gate's wait is its own line over
        what it serves now: a slowed gate has the same line as before but a longer wait. Summed over
        the gates, the waits agree with the link's (Little's law).
        """
        idx = self.network.index
        link = idx.entry_link
        queue = self.queue_now[link] * idx.entry_share
        service = self.last_flow[link] * self.split / self.dt_s if self.dt_s > 0 else np.zeros(len(link))
        capacity = idx.capacity[link] * self.link_factor[link] * self.split
        out: dict[str, GateQueue] = {}
        for k, g in enumerate(idx.entry_gate):
            code = idx.gates[int(g)]
            q, serve, cap = float(queue[k]), float(service[k]), float(capacity[k])
            rate = serve if serve > 1e-9 else cap
            wait = 0.0 if q <= 0 else q / rate if rate > 0 else math.inf
            here = GateQueue(q, wait, serve, cap, bool(idx.entry_inward[k]))
            if code not in out or (here.persons, here.inward) > (out[code].persons, out[code].inward):
                out[code] = here
        return out


@dataclass(frozen=True)
class GateQueue:
    """The queue at a gate. persons: queuing now; wait_s: expected wait, ``persons / service_pps``, or
    ``persons / capacity_pps`` when nobody passes (inf when the gate serves nobody at all);
    service_pps: persons/s through the gate in the last step; capacity_pps: what the gate can serve
    now (persons/s, inf for an open passage); inward: the direction, into the gate's zone or out.
    """

    persons: float
    wait_s: float
    service_pps: float
    capacity_pps: float
    inward: bool


def initial_state(network: Network, t_s: float | None = None) -> FlowState:
    """Nobody arrived yet; the clock at ``t_s`` (default the start of the arrival window)."""
    t = -network.arrival.window_s if t_s is None else t_s
    n_links = len(network.links)
    return FlowState(
        network=network, t_s=t, step_no=0,
        occupancy=frozen_array(np.zeros((len(network.nodes), len(network.commodities)))),
        pending=float(network.attendance), departed=0.0, cum_flow=frozen_array(np.zeros(n_links)),
        held=frozen_array(np.zeros(len(network.nodes))), queue_now=frozen_array(np.zeros(n_links)),
        gate_cum=frozen_array(np.zeros(len(network.index.entry_link))), link_factor=frozen_array(np.ones(n_links)),
        split=frozen_array(network.index.entry_share),
        last_flow=frozen_array(np.zeros(n_links)), surge_status=tuple(0 for _ in network.surges),
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
    queue = np.zeros(n_links)
    link_factor, split = net.service(t0)
    if n_links:
        asked = np.bincount(links, weights=wants, minlength=n_links)
        with np.errstate(invalid="ignore"):  # inf x 0: an open link whose gates all stopped
            capacity = np.nan_to_num(idx.capacity * link_factor, nan=0.0, posinf=math.inf)
        flow = np.minimum(asked, capacity * dt_s)
        inflow = np.bincount(idx.link_target, weights=flow, minlength=len(net.nodes))
        space = np.maximum(0.0, net.jam_density * idx.area - occ)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(inflow > space, space / inflow, 1.0)
            flow = flow * scale[idx.link_target]
            passed = np.where(asked > 0, flow / asked, 0.0)
            source_rate = rate[idx.link_source]
            queue = np.where((asked - flow > 1e-9) & (source_rate > 0), (asked - flow) / source_rate, 0.0)
        moved = wants * passed[links]
        n[moving] -= moved
        np.add.at(n, (idx.link_target[links], idx.commodity[moving]), moved)
    leaving = hop == DEPART
    gone = demand[leaving]
    n[leaving] -= gone
    departed = state.departed + float(gone.sum())

    return FlowState(network=net, t_s=t1, step_no=state.step_no + 1, occupancy=frozen_array(n), pending=pending,
                     departed=departed, cum_flow=frozen_array(state.cum_flow + flow), last_flow=frozen_array(flow),
                     held=frozen_array(held), queue_now=frozen_array(queue),
                     gate_cum=frozen_array(state.gate_cum + flow[idx.entry_link] * split),
                     link_factor=frozen_array(link_factor), split=frozen_array(split), dt_s=dt_s, egress=egress,
                     surge_status=status, surge_diverted=diverted)


def advance(state: FlowState, seconds: float, *, max_dt_s: float = 2.0) -> FlowState:
    """Step ``seconds`` forward in equal steps of at most ``max_dt_s``."""
    if seconds <= 0:
        return state
    steps = max(1, math.ceil(seconds / max_dt_s - 1e-9))
    dt = seconds / steps
    for _ in range(steps):
        state = step(state, dt)
    return state
