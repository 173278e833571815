"""Safe capacity of an event's zones and venue 容量核定, by the Green Guide method (anbao.algorithms.capacity).

The venue is read as the crowd-flow network the simulator uses (:func:`anbao.venue.network.build_network`):
zones are nodes, gates and shared boundaries are links with a flow capacity. Then:

* **a zone** holds its seats (看台: seated capacity) or its standing area (内场站席, 广场): its declared
  standing capacity (the plan's figure, e.g. 2 persons/m2 on a concert floor) x S when set, else
  area x the event's default density (4.7 persons/m2, Green Guide standing terrace) x S; a declared
  figure above 4.7 persons/m2 counts as 4.7 (the Green Guide ceiling). The working names the source.
  Its exits are its links towards the outside (to a zone fewer links away from the outermost zones):
  each gate on such a link with its width (82 persons/m/min on the level, 66 on stairs), and an open
  boundary as the width that passes the same flow; a link the network only guessed between zones that
  do not touch is no exit. Its entries are the gates on its links from the outside, with their lanes
  (a zone that can also be entered over an open boundary has no entry limit). Circulation zones (环廊,
  安检区, 通道...) hold nobody for this purpose and show their exits only. A zone that holds people and
  has no way out is an error naming the zone.
* **the venue** holds what its seat and standing zones hold; its exit capacity is the bottleneck on
  the way from those zones to the outermost zones (the minimum cut of a maximum flow over the links, so
  that exits in series are not added up), its entry capacity the bottleneck on the way in. The gates
  on the cut are listed as the venue's limiting exits and entries.

Times, holding density and safety factors S per zone are the event's :class:`CapacitySetting`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.algorithms import capacity as cap
from anbao.algorithms.crowdnet import Link, Network
from anbao.core.errors import Invalid
from anbao.crowd.models import CapacitySetting
from anbao.event.models import Event
from anbao.venue.layout import DESTINATION_KINDS, Site, load_site
from anbao.venue.models import Zone
from anbao.venue.network import build_network, depth, is_guessed

#: zones whose standing area holds people (seats come from the seated capacity)
STANDING_KINDS = frozenset({"standing", "plaza"})
PER_MIN = 60.0
#: flow of an open boundary one metre wide, persons/s
LEVEL_PPS_PER_M = cap.LEVEL_FLOW / PER_MIN
#: capacity units are centi-persons/s; an open link without a limit counts as 10,000 persons/s
SCALE = 100
UNBOUNDED = 1_000_000


def settings(*, db: Session, event_id: int) -> CapacitySetting:
    row = db.get(CapacitySetting, event_id)
    return row if row is not None else CapacitySetting(event_id=event_id, entry_min=60.0, egress_min=8.0,
                                                       emergency_min=8.0, density=cap.HOLDING_DENSITY,
                                                       safety_factors={})


def save_settings(*, db: Session, event_id: int, data: dict[str, Any]) -> CapacitySetting:
    codes = set(db.execute(select(Zone.code).where(Zone.event_id == event_id)).scalars())
    for code in data.get("safety_factors") or {}:
        if code not in codes:
            raise Invalid(f"zone {code!r} does not exist in this event", loc=["body", "safety_factors", code])
    row = db.get(CapacitySetting, event_id)
    if row is None:
        row = CapacitySetting(event_id=event_id, **data)
        db.add(row)
    else:
        for k, v in data.items():
            setattr(row, k, v)
    db.flush()
    return row


def _exits(link: Link, gates: dict[str, Any]) -> list[dict[str, Any]]:
    """The exits a link stands for: its gates with their widths, and the rest of its flow as open boundary."""
    out = []
    gate_pps = 0.0
    for share in link.gates:
        g = gates.get(share.code)
        if g is None:
            continue
        out.append({"code": g.code, "width_m": float(g.width_m), "stairs": bool(g.stair), "kind": "gate",
                    "to": link.target})
        gate_pps += g.width_m * (cap.STAIR_FLOW if g.stair else cap.LEVEL_FLOW) / PER_MIN
    if link.capacity_pps is None:
        if not out:
            out.append({"code": f"→{link.target}", "width_m": None, "stairs": False, "kind": "open", "to": link.target})
    elif link.capacity_pps - gate_pps > 1e-6 and (not link.gates or "open" in link.kind):
        out.append({"code": f"→{link.target}", "width_m": round((link.capacity_pps - gate_pps) / LEVEL_PPS_PER_M, 2),
                    "stairs": False, "kind": "open", "to": link.target})
    return out


def _entries(link: Link, gates: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"code": g.code, "lanes": int(g.lanes)} for s in link.gates if s.inward
            for g in [gates.get(s.code)] if g is not None and g.kind != "exit"]


def _result(c: cap.Capacity) -> dict[str, Any]:
    d = asdict(c)
    d["steps"] = list(c.steps)
    d["limiting_zh"] = cap.FACTOR_ZH.get(c.limiting or "", None)
    return d


def _area(code: str, name: str, kind: str, zone: Zone | None, area_m2: float, s: CapacitySetting,
          exits: list[dict[str, Any]], entries: list[dict[str, Any]]) -> cap.Area:
    seats = int(zone.seated_capacity or 0) if zone is not None and kind in DESTINATION_KINDS else 0
    standing = area_m2 if kind in STANDING_KINDS else 0.0
    declared = int(zone.standing_capacity) if zone is not None and zone.standing_capacity and standing else None
    return cap.Area(code=code, name=name, standing_m2=standing, seats=seats,
                    exits=tuple(cap.Exit(e["code"], e["width_m"], e["stairs"]) for e in exits if e["width_m"]),
                    entries=tuple(cap.Entry(e["code"], e["lanes"]) for e in entries),
                    safety_factor=float((s.safety_factors or {}).get(code, 1.0)), density=s.density,
                    declared_standing=declared, density_source=density_source(s.density))


def density_source(density: float) -> str:
    """Where the event's default holding density comes from, for the working."""
    if math.isclose(density, cap.HOLDING_DENSITY):
        return cap.DEFAULT_SOURCE
    return "活动容量核定参数"  # set by the planner in 容量核定参数


def _cut(network: Network, sources: set[str], sinks: set[str]) -> tuple[float, list[Link]]:
    """Maximum flow (persons/s) from ``sources`` to ``sinks`` over the links, and the links of the minimum cut."""
    codes = [n.code for n in network.nodes]
    index = {c: i for i, c in enumerate(codes)}
    n = len(codes) + 2
    src, dst = n - 2, n - 1
    capm = np.zeros((n, n), dtype=np.int64)
    by_pair: dict[tuple[int, int], Link] = {}
    for lk in network.links:
        u, v = index[lk.source], index[lk.target]
        capm[u, v] += UNBOUNDED if lk.capacity_pps is None else int(round(lk.capacity_pps * SCALE))
        by_pair[(u, v)] = lk
    for code in sources:
        capm[src, index[code]] = UNBOUNDED
    for code in sinks:
        capm[index[code], dst] = UNBOUNDED
    capm = np.minimum(capm, UNBOUNDED)
    res = maximum_flow(csr_matrix(capm.astype(np.int32)), src, dst)
    flow = res.flow.toarray()
    residual = capm - flow
    seen = {src}
    todo = deque([src])
    while todo:
        here = todo.popleft()
        for there in (int(x) for x in np.nonzero(residual[here] > 0)[0]):
            if there not in seen:
                seen.add(there)
                todo.append(there)
    cut = [lk for (u, v), lk in by_pair.items() if u in seen and v not in seen]
    return float(res.flow_value) / SCALE, cut


def steps_out(network: Network, outside: set[str]) -> dict[str, int]:
    """How many links each zone is from the nearest outermost zone (following the links' direction)."""
    into: dict[str, list[str]] = {}
    for lk in network.links:
        into.setdefault(lk.target, []).append(lk.source)
    dist = dict.fromkeys(outside, 0)
    todo = deque(sorted(outside))
    while todo:
        v = todo.popleft()
        for u in into.get(v, []):
            if u not in dist:
                dist[u] = dist[v] + 1
                todo.append(u)
    return dist


def compute(*, db: Session, event_id: int) -> dict[str, Any]:
    """Capacity of every public zone and of the venue, with the working (see the module docstring)."""
    site: Site = load_site(db=db, event_id=event_id)
    network = build_network(site.zones, site.gates, attendance=max(site.attendance, 1))
    s = settings(db=db, event_id=event_id)
    times = cap.Times(entry_min=s.entry_min, egress_min=s.egress_min, emergency_min=s.emergency_min)
    rows = {z.code: z for z in db.execute(select(Zone).where(Zone.event_id == event_id)).scalars()}
    gates = {g.code: g for g in site.gates}
    sites = {z.code: z for z in site.zones}
    depths = {n.code: depth(sites[n.code]) for n in network.nodes}
    outermost = min(depths.values())
    far = steps_out(network, {c for c, d in depths.items() if d == outermost})
    never = len(depths) + 1
    zones_out: list[dict[str, Any]] = []
    areas: dict[str, cap.Area] = {}
    for node in network.nodes:
        z = sites[node.code]
        if depths[z.code] == outermost:
            continue  # the outermost zones (roads, stops, car parks) are where people go, not what they fill
        row = rows.get(z.code)
        name = row.name if row is not None else z.code
        mine = far.get(z.code, never)
        exits = [e for lk in network.links if lk.source == z.code and far.get(lk.target, never) < mine
                 and not is_guessed(lk) for e in _exits(lk, gates)]
        ways_in = [lk for lk in network.links if lk.target == z.code and far.get(lk.source, never) < mine]
        open_in = any(lk.capacity_pps is None or not lk.gates or "open" in lk.kind for lk in ways_in)
        entries = [] if open_in else [e for lk in ways_in for e in _entries(lk, gates)]
        declared = ((row.seated_capacity or 0) + (row.standing_capacity or 0)) if row is not None else 0
        item: dict[str, Any] = {"code": z.code, "name": name, "kind": z.kind, "ring": z.ring,
                                "area_m2": round(z.area_m2, 1), "declared": declared or None, "exits": exits,
                                "entries": entries, "error": None}
        try:
            area = _area(z.code, name, z.kind, row, z.area_m2, s, exits, entries)
            if (area.seats or area.standing_m2) and not exits:
                raise cap.CapacityError(f"zone {z.code} ({name}) has no exit: no gate or open boundary leads "
                                        "out of it; add an exit or draw the zone so that it touches its neighbours")
            item.update(_result(cap.capacity(area, times)))
            areas[z.code] = area
        except cap.CapacityError as exc:
            item.update({"holding": None, "entry": None, "exit": None, "emergency": None, "safe_capacity": None,
                         "limiting": None, "limiting_zh": None, "exit_flow_per_min": 0.0, "evacuation_min": None,
                         "steps": [], "error": str(exc)})
        item["over_declared"] = bool(declared and item["safe_capacity"] is not None
                                     and declared > item["safe_capacity"])
        zones_out.append(item)
    venue = _venue(db, event_id, network, depths, outermost, sites, gates, areas, times)
    return {"settings": {"entry_min": s.entry_min, "egress_min": s.egress_min, "emergency_min": s.emergency_min,
                         "density": s.density, "safety_factors": dict(s.safety_factors or {})},
            "zones": zones_out, "venue": venue}


def _venue(db: Session, event_id: int, network: Network, depths: dict[str, int], outermost: int,
           sites: dict[str, Any], gates: dict[str, Any], areas: dict[str, cap.Area], times: cap.Times
           ) -> dict[str, Any]:
    event = db.get(Event, event_id)
    held = {c: a for c, a in areas.items() if sites[c].kind in DESTINATION_KINDS}
    outside = {c for c, d in depths.items() if d == outermost}
    out_pps, out_cut = _cut(network, set(held), outside)
    in_pps, in_cut = _cut(network, outside, set(held))
    exits = [e for lk in out_cut for e in _exits(lk, gates)]
    entries = [e for lk in in_cut for e in _entries(lk, gates)]
    base: dict[str, Any] = {"code": "VENUE", "name": "场馆", "exits": exits, "entries": entries,
                            "exit_bottleneck_pps": round(out_pps, 2), "entry_bottleneck_pps": round(in_pps, 2),
                            "expected_attendance": event.expected_attendance if event else None,
                            "approved_attendance": event.approved_attendance if event else None,
                            "tickets_issued": event.tickets_issued if event else None, "error": None}
    if not held:
        return {**base, "holding": None, "entry": None, "exit": None, "emergency": None, "safe_capacity": None,
                "limiting": None, "limiting_zh": None, "exit_flow_per_min": 0.0, "evacuation_min": None,
                "steps": [], "error": "the venue has no seat or standing zone to hold people"}
    try:
        c = cap.venue_capacity(list(held.values()),
                               [cap.Exit(e["code"], e["width_m"], e["stairs"]) for e in exits if e["width_m"]],
                               [cap.Entry(e["code"], e["lanes"]) for e in entries], times)
    except cap.CapacityError as exc:
        return {**base, "holding": None, "entry": None, "exit": None, "emergency": None, "safe_capacity": None,
                "limiting": None, "limiting_zh": None, "exit_flow_per_min": 0.0, "evacuation_min": None,
                "steps": [], "error": str(exc)}
    steps = [f"出场瓶颈：从看台和内场到外围的最大通行能力为每秒 {out_pps:.1f} 人，受 "
             f"{'、'.join(e['code'] for e in exits) or '开放连接'} 限制",
             f"入场瓶颈：从外围到看台和内场的最大通行能力为每秒 {in_pps:.1f} 人，受 "
             f"{'、'.join(e['code'] for e in entries) or '开放连接'} 限制", *c.steps]
    return {**base, **_result(c), "steps": steps,
            "holding_by_zone": {code: cap.holding_of(a) for code, a in held.items()}}
