"""Route choice of the evacuation model 选择出口: each zone's estimated time to safety and the
water-filling that spreads the people deciding at a zone's passages over its links (not everybody
on one shortest path).

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

Units: persons, seconds, persons/s. Works on the arrays of
:class:`anbao.algorithms.evacuation_network.Net`; the step loop is in :mod:`anbao.algorithms.evacuation`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from anbao.algorithms.crowdnet import FloatArray
from anbao.algorithms.evacuation_network import Net

__all__ = ["SETTLE_S", "WaterLevel", "choose", "times_to_safety", "water_level"]

#: seconds: the time-to-safety estimates are settled when no zone's moves by more than this in a sweep
SETTLE_S = 0.01


class WaterLevel(NamedTuple):
    """The water level of each zone's group of links (:func:`water_level`)."""

    level: FloatArray  # (groups,): seconds; inf when no link of the zone leads to safety
    rate: FloatArray  # (groups,): persons/s of the links that take people at the level (inf: an open one)
    fill: FloatArray | None  # (links,): persons each sorted link takes (when asked for)


def water_level(net: Net, amount: FloatArray, cost: FloatArray, rate: FloatArray, *,
                fill: bool = False) -> WaterLevel:
    """Pour ``amount`` persons per group over its links (module docstring).

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
        return WaterLevel(lam, at_level, None)
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
    return WaterLevel(lam, at_level, taken)


def times_to_safety(net: Net, queue: FloatArray, rate: FloatArray, walk: FloatArray, ahead: FloatArray,
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
        lv = water_level(net, amount, cost, marginal)
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



def choose(net: Net, deciding: FloatArray, cost: FloatArray, rate: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The deciding persons join the links of their zone by water-filling (module docstring).

    Returns (persons added to each sorted link's queue, persons still deciding per zone): people stay
    deciding only in a zone none of whose links leads to safety now.
    """
    supply = deciding[net.group_node]
    lv = water_level(net, supply, cost, rate, fill=True)
    assert lv.fill is not None
    left = deciding.copy()
    left[net.group_node] = np.where(np.isfinite(lv.level), 0.0, supply)
    return lv.fill, left
