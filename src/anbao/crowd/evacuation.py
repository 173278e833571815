"""Evacuation of an event's venue 疏散推演: the macroscopic model for the venue or one zone, JuPedSim for
the detail of one zone (anbao.algorithms.evacuation and anbao.algorithms.pedsim).

The venue is read as the same flow network as the capacity calculation (:mod:`anbao.crowd.capacity`).
**Inside** are the zones of the core ring and the fenced zones of the buffer ring (环廊, 安检区,
出入口区); everything else (广场, roads, stops, car parks) is **safe**: a person is out when they pass
a link from inside to a safe zone. Each gate on such a link is its own exit (its share of the link's
capacity); the rest of an open boundary is an exit named ``→ZONE``. Links the network only guessed
between zones that do not touch are left out, so a zone with no real way out is an error naming it.

People: the event's expected attendance (or ``people``) split over the seat and standing zones by
their capacity; a single zone alone gets its share (or its safe holding capacity when it holds no
tickets). The Green Guide time for the same people through the same exits (persons / exit flow at 82
or 66 persons/m/min) is given next to the simulated clearance time, with the difference.

:func:`prepare` reads the database and checks the input (errors are 422 at once); :func:`run` is the
computation without the database, for a worker thread; progress is reported through a callback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.algorithms import evacuation as macro
from anbao.algorithms import pedsim
from anbao.algorithms.crowdnet import Link, Network, width_capacity
from anbao.core.errors import Invalid
from anbao.crowd import capacity
from anbao.crowd.heatmap import heatmap_png
from anbao.event.models import Event
from anbao.venue.layout import load_site
from anbao.venue.models import Gate, Zone
from anbao.venue.network import FENCED_KINDS, build_network, depth, is_guessed

MODELS = ("macro", "jupedsim")
#: JuPedSim agents by default at most (CollisionFreeSpeedModel ~200k agent-steps/s on 2 cores)
DEFAULT_AGENTS = 1000
MAX_AGENTS = 5000
SERIES_POINTS = 240
Progress = Callable[[float], None]


@dataclass(frozen=True)
class Job:
    """A prepared evacuation run: everything the computation needs, no database."""

    model: str
    zone: str | None
    names: dict[str, str]
    nodes: tuple[macro.EvacNode, ...] = ()
    links: tuple[macro.EvacLink, ...] = ()
    scene: pedsim.PedScene | None = None
    exit_flow_per_s: float = 0.0  # Green Guide flow through the same exits
    max_s: float = 3600.0
    #: gate code -> its name, for the exit labels of the result (一号出口, not EX1)
    gate_names: dict[str, str] = field(default_factory=dict)


def _inside(kind: str, ring: int) -> bool:
    return ring <= 1 or kind in FENCED_KINDS


def _split(lk: Link, target: str | None) -> list[macro.EvacLink]:
    """One link as exits: each gate with its share of the capacity, the rest as the open boundary."""
    if target is not None or lk.capacity_pps is None:
        name = "" if target is not None else (lk.gates[0].code if len(lk.gates) == 1 and "open" not in lk.kind
                                             else f"→{lk.target}")
        return [macro.EvacLink(lk.source, target, lk.capacity_pps, 0.0, name)]
    out = [macro.EvacLink(lk.source, None, lk.capacity_pps * g.share, 0.0, g.code) for g in lk.gates if g.share > 0]
    rest = lk.capacity_pps * (1.0 - sum(g.share for g in lk.gates))
    if rest > 1e-6:
        out.append(macro.EvacLink(lk.source, None, rest, 0.0, f"→{lk.target}"))
    return out


def _largest(geom: BaseGeometry) -> Polygon:
    if isinstance(geom, MultiPolygon):
        return max(geom.geoms, key=lambda g: g.area)
    if not isinstance(geom, Polygon):
        raise Invalid("the zone is not drawn as an area")
    return geom


def prepare(*, db: Session, event_id: int, model: str = "macro", zone: str | None = None, people: int | None = None,
            agents: int | None = None, max_s: float | None = None) -> Job:
    """Check the request and build the run (Invalid names the zone or the field)."""
    if model not in MODELS:
        raise Invalid(f"model must be one of {', '.join(MODELS)}, got {model!r}", loc=["body", "model"])
    if model == "jupedsim" and not zone:
        raise Invalid("JuPedSim simulates one zone or exit area: give a zone code (the whole venue: model macro)",
                      loc=["body", "zone"])
    event = db.get(Event, event_id)
    site = load_site(db=db, event_id=event_id)
    network: Network = build_network(site.zones, site.gates, attendance=max(site.attendance, 1))
    sites = {z.code: z for z in site.zones}
    names = dict(db.execute(select(Zone.code, Zone.name).where(Zone.event_id == event_id)).all())
    gate_names = dict(db.execute(select(Gate.code, Gate.name).where(Gate.event_id == event_id)).all())
    nodes = {n.code for n in network.nodes}
    if zone is not None and zone not in sites:
        raise Invalid(f"zone {zone!r} does not exist in this event", loc=["body", "zone"])
    if zone is not None and zone not in nodes:
        raise Invalid(f"zone {zone} ({names.get(zone, zone)}) is not a public zone of the venue network "
                      "(staff areas and zones that contain others are left out)", loc=["body", "zone"])
    total = people if people is not None else (event.expected_attendance if event else 0) or site.attendance
    weights = dict(network.destinations)
    wsum = sum(weights.values()) or 1.0
    share = {c: total * w / wsum for c, w in weights.items()}
    links = [lk for lk in network.links if not is_guessed(lk)]
    if zone is None:
        inside = {c for c in nodes if _inside(sites[c].kind, sites[c].ring)}
        if not inside:
            raise Invalid("the venue has no zone of the core ring to evacuate")
        enodes = tuple(macro.EvacNode(c, share.get(c, 0.0), sites[c].area_m2, max(5.0, math.sqrt(sites[c].area_m2)))
                       for c in sorted(inside))
        elinks = tuple(x for lk in links if lk.source in inside
                       for x in _split(lk, lk.target if lk.target in inside else None))
        max_s = max_s or 3600.0
    else:
        depths = {c: depth(sites[c]) for c in nodes}
        far = capacity.steps_out(network, {c for c, d in depths.items() if d == min(depths.values())})
        never = len(nodes) + 1
        mine = far.get(zone, never)
        own = [lk for lk in links if lk.source == zone and far.get(lk.target, never) < mine]
        if not own:
            raise Invalid(f"zone {zone} ({names.get(zone, zone)}) has no exit: no gate or open boundary leads "
                          "out of it", loc=["body", "zone"])
        if zone in share:
            pop = share[zone]
        else:
            calc = next((z for z in capacity.compute(db=db, event_id=event_id)["zones"] if z["code"] == zone), None)
            pop = float((calc or {}).get("holding") or 0)
        if people is not None:
            pop = float(people)
        s = sites[zone]
        enodes = (macro.EvacNode(zone, pop, s.area_m2, max(5.0, math.sqrt(s.area_m2))),)
        elinks = tuple(x for lk in own for x in _split(lk, None))
        max_s = max_s or (1800.0 if model == "jupedsim" else 3600.0)
    try:  # one step checks the network: a zone holding people with no way to safety is named at once
        macro.evacuate(enodes, elinks, max_s=1.0)
    except macro.EvacuationError as exc:
        raise Invalid(str(exc), loc=["body", "zone"]) from exc
    flow = sum(lk.capacity_per_s or 0.0 for lk in elinks if lk.target is None)
    if zone is None:  # the venue's exit bottleneck (maximum flow), as in the capacity calculation
        flow = float(capacity.compute(db=db, event_id=event_id)["venue"]["exit_bottleneck_pps"] or flow)
    if model == "macro":
        return Job("macro", zone, names, enodes, elinks, None, flow, max_s, gate_names)
    assert zone is not None
    n_agents = agents if agents is not None else int(min(DEFAULT_AGENTS, round(enodes[0].population)))
    if not 1 <= n_agents <= MAX_AGENTS:
        why = " (nobody is expected in this zone: give the number of agents)" if agents is None else ""
        raise Invalid(f"agents must be between 1 and {MAX_AGENTS}, got {n_agents}{why}", loc=["body", "agents"])
    scene = _scene(zone, names.get(zone, zone), sites, site.gates, own, n_agents)
    return Job("jupedsim", zone, names, enodes, elinks, scene, _green_guide_pps(scene, site.gates), max_s,
               gate_names)


def _green_guide_pps(scene: pedsim.PedScene, gates: tuple[Any, ...]) -> float:
    """The Green Guide flow through the scene's exits, persons/s: a door by its real width (82 persons/m/min,
    66 on stairs), an open boundary by the width of its exit strips."""
    by_code = {g.code: g for g in gates}
    total = 0.0
    for name, poly in scene.exits:
        g = by_code.get(name)
        total += width_capacity(g.width_m, stair=g.stair) if g is not None else \
            pedsim.exit_width(poly) * capacity.LEVEL_PPS_PER_M
    return total


def _convex_inside(poly: BaseGeometry, walk: Polygon) -> Polygon | None:
    """JuPedSim wants convex exit areas inside the walkable area: the hull of ``poly`` if it stays inside."""
    if poly.is_empty or poly.area < 0.01:
        return None
    hull = poly.convex_hull
    return hull if isinstance(hull, Polygon) and walk.buffer(1e-6).contains(hull) else None


def _scene(zone: str, name: str, sites: dict[str, Any], gates: tuple[Any, ...], own: list[Link],
           agents: int) -> pedsim.PedScene:
    """The zone as walkable area with its exits drawn at the doors: a gate as a half-disc of its real width
    (radius width / 2; a quarter of the width where that does not fit, e.g. in a corner) at the nearest
    point of the outline, an open boundary as 1 m deep strips along each straight piece of the shared
    edge (convex, as JuPedSim needs). A door was drawn at least 0.8 m wide until issue 13: a 0.5 m door
    passed 3.1 persons/s, three times what is measured."""
    walk = _largest(sites[zone].shape)
    by_code = {g.code: g for g in gates}
    exits: list[tuple[str, Polygon]] = []
    for lk in own:
        for share in lk.gates:
            g = by_code.get(share.code)
            if g is None:
                continue
            at = walk.exterior.interpolate(walk.exterior.project(Point(g.x, g.y)))
            for r in (g.width_m / 2, g.width_m / 4):
                hull = _convex_inside(walk.intersection(at.buffer(r)), walk)
                if hull is not None:
                    exits.append((g.code, hull))
                    break
        if not lk.gates or "open" in lk.kind:
            edge = walk.exterior.intersection(sites[lk.target].shape.buffer(2.0))
            coords = [list(part.coords) for part in getattr(edge, "geoms", [edge]) if hasattr(part, "coords")]
            for line in coords:
                for a, b in zip(line, line[1:], strict=False):
                    if math.dist(a, b) < 0.8:
                        continue
                    hull = _convex_inside(walk.intersection(LineString([a, b]).buffer(1.0, cap_style="flat")), walk)
                    if hull is not None:
                        exits.append((f"→{lk.target}#{sum(1 for n, _ in exits if n.startswith('→' + lk.target))+1}",
                                      hull))
    if not exits:
        raise Invalid(f"zone {zone} ({name}) has no exit that can be drawn on its outline", loc=["body", "zone"])
    try:
        return pedsim.PedScene(walkable=walk, exits=tuple(exits), agents=agents, seed=0)
    except pedsim.PedSimError as exc:
        raise Invalid(f"zone {zone} ({name}): {exc}", loc=["body", "zone"]) from exc


def _sampled(times: Any, values: Any) -> tuple[list[float], Any]:
    n = len(times)
    if n <= SERIES_POINTS:
        return [float(t) for t in times], values
    idx = np.unique(np.linspace(0, n - 1, SERIES_POINTS).round().astype(int))
    return [float(times[i]) for i in idx], values[idx]


def _compare(people: float, flow_pps: float, clearance_s: float | None) -> dict[str, Any]:
    gg = people / flow_pps / 60.0 if flow_pps > 0 and people > 0 else None
    sim = clearance_s / 60.0 if clearance_s is not None else None
    diff = round((sim - gg) / gg * 100.0, 1) if gg and sim is not None else None
    return {"people": round(people), "evacuation_min": round(gg, 2) if gg is not None else None,
            "simulated_min": round(sim, 2) if sim is not None else None, "difference_pct": diff,
            "exit_flow_per_min": round(flow_pps * 60.0, 1)}


def run(job: Job, *, progress: Progress | None = None) -> tuple[dict[str, Any], bytes | None]:
    """Run a prepared job; the JSON-ready result and, for JuPedSim, the density heat-map PNG."""
    if job.model == "macro":
        r = macro.evacuate(job.nodes, job.links, max_s=job.max_s)
        t, pops = _sampled(r.times_s, r.populations)
        result = {
            "model": "macro", "zone": job.zone, "finished": r.finished, "jammed": False, "clearance_s": r.clearance_s,
            "warning": r.warning or "", "total": round(r.total), "evacuated": round(r.evacuated, 1),
            "remaining": round(r.remaining, 1),
            "exits": [{"name": e.name, "label": exit_label(e.name, job), "persons": round(e.persons, 1),
                       "peak_per_s": round(e.peak_per_s, 2),
                       "first_s": e.first_s, "last_s": e.last_s} for e in r.exits],
            "zones": [{"code": n.code, "name": job.names.get(n.code, n.code), "clear_s": n.clear_s,
                       "max_density": round(n.max_density, 2), "max_density_at_s": n.max_density_s}
                      for n in r.nodes],
            "series": {"t": t, "zones": {n.code: [round(float(v), 1) for v in pops[:, i]]
                                         for i, n in enumerate(r.nodes) if r.nodes[i].population > 0}},
            "heatmap_url": None, "hotspots": [], "capacity": _compare(r.total, job.exit_flow_per_s, r.clearance_s)}
        if progress is not None:
            progress(1.0)
        return result, None
    assert job.scene is not None
    p = pedsim.simulate(job.scene, max_s=job.max_s, progress=progress)
    png = heatmap_png(p, title=f"{job.names.get(job.zone or '', job.zone)} 最大密度")
    result = {
        "model": "jupedsim", "zone": job.zone, "finished": p.finished, "jammed": p.jammed, "clearance_s": p.clearance_s,
        "warning": p.warning or "", "total": job.scene.agents, "evacuated": p.evacuated, "remaining": p.remaining,
        "exits": [{**row, "label": exit_label(row["name"], job)} for row in _by_name(p.exits)],
        "zones": [{"code": job.zone, "name": job.names.get(job.zone or "", job.zone),
                   "clear_s": p.clearance_s, "max_density": round(float(np.nanmax(p.density)), 2)
                   if p.density.size else 0.0, "max_density_at_s": p.hot_spots[0].time_s if p.hot_spots else None}],
        "series": None, "heatmap_url": None,
        "hotspots": [{"x": h.x, "y": h.y, "t": h.time_s, "density": h.density} for h in p.hot_spots],
        "capacity": _compare(job.scene.agents, job.exit_flow_per_s, p.clearance_s),
        "agent_steps": p.agent_steps}
    if progress is not None:
        progress(1.0)
    return result, png


def exit_label(name: str, job: Job) -> str:
    """An exit of a result in words: a gate by its name (一号出口), an open boundary as 通往 + the zone's name,
    a link without a gate as its zones' names; several merged doors (``G1+G2``) joined by 、."""
    def one(part: str) -> str:
        if part in job.gate_names:
            return job.gate_names[part] or part
        if part.startswith("→"):
            return f"通往{job.names.get(part[1:], part[1:])}"
        source, arrow, target = part.partition("->")
        if arrow:
            where = job.names.get(source, source)
            return f"{where}出口" if target == "safe" else f"{where}→{job.names.get(target, target)}"
        return part
    return "、".join(one(p) for p in name.split("+") if p) or name


def _by_name(exits: tuple[pedsim.PedExit, ...]) -> list[dict[str, Any]]:
    """The exit areas of one door or boundary (named NAME#k) added up under NAME."""
    out: dict[str, dict[str, Any]] = {}
    for e in exits:
        name = e.name.split("#", 1)[0]
        d = out.setdefault(name, {"name": name, "persons": 0, "times": []})
        d["persons"] += e.persons
        d["times"] += list(e.times_s)
    rows = []
    for d in out.values():
        t = sorted(d.pop("times"))
        d["first_s"], d["last_s"] = (t[0], t[-1]) if t else (None, None)
        d["peak_per_s"] = round((len(t) - 1) / (t[-1] - t[0]), 2) if len(t) > 1 and t[-1] > t[0] else None
        rows.append(d)
    return rows
