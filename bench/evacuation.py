"""Evacuation models: macroscopic speed, JuPedSim throughput, measured corridor comparison. Prints one JSON line.

    python bench/evacuation.py [--people 50000] [--repeat 3] [--room-agents 200] [--corridor-agents 150]

Figures:
- macro_*: :func:`anbao.algorithms.evacuation.evacuate` on a generated stadium-like venue (16 stands,
  a pitch, 8 concourse segments, 8 gate plazas, 8 roads: 41 zones, 118 links; 80 % of the people in the
  stands, 20 % on the pitch) at dt 1 s: best wall time of ``--repeat`` runs (macro_wall_s), steps,
  clearance (macro_clearance_s), the conservation error ``|evacuated + remaining - total|``.
- baseline_*: the same model and venue at dt 0.1 s (ten times the steps), measured in the same run:
  wall time, clearance, speed ratio baseline / dt 1 s, and the clearance difference in percent (the
  discretisation error of the 1 s step).
- jps_*: JuPedSim (collision-free speed model, dt 0.01 s) evacuating ``--room-agents`` from a 20 m x 15 m
  room through a 1.8 m and a 1.2 m door: agent-steps per second (placement and exit choice included),
  clearance, and the macroscopic model's clearance of the same room with the ratio.
- corridor: per Jülich run (tests/data/pedestrian) the measured steady-state flow over y = 0, the Green
  Guide, macroscopic and JuPedSim (``--corridor-agents``) flows in persons/s and their differences from
  the measured flow in percent.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from anbao.algorithms.corridor import (
    CorridorRun,
    Door,
    compare_corridor,
    room_case,
)
from anbao.algorithms.corridor import stadium_network as stadium
from anbao.algorithms.evacuation import EvacLink, EvacNode, EvacResult, evacuate
from anbao.algorithms.pedsim import simulate
from anbao.crowd.pedestrian_io import load_trajectories

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pedestrian"
RUNS = {"uo-180-180-120": (300, 1099), "uo-180-180-180": (400, 1284)}




def _timed(nodes: list[EvacNode], links: list[EvacLink], dt_s: float, repeat: int) -> tuple[float, EvacResult]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = evacuate(nodes, links, dt_s=dt_s)
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=float, default=50_000.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--room-agents", type=int, default=200)
    parser.add_argument("--corridor-agents", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    nodes, links = stadium(args.people)
    wall, fast = _timed(nodes, links, 1.0, args.repeat)
    base_wall, base = _timed(nodes, links, 0.1, 1)
    assert fast.clearance_s is not None and base.clearance_s is not None
    out: dict[str, Any] = {
        "bench": "evacuation", "zones": len(nodes), "links": len(links), "people": args.people,
        "macro_wall_s": round(wall, 3), "macro_steps": fast.steps, "macro_clearance_s": round(fast.clearance_s, 1),
        "macro_finished": fast.finished,
        "macro_conservation_error": abs(fast.evacuated + fast.remaining - fast.total),
        "baseline": "same model, dt 0.1 s", "baseline_wall_s": round(base_wall, 3),
        "baseline_clearance_s": round(base.clearance_s, 1), "baseline_ratio": round(base_wall / wall, 1),
        "dt_clearance_diff_pct": round(100 * (fast.clearance_s - base.clearance_s) / base.clearance_s, 2),
    }

    case = room_case(20.0, 15.0, (Door("E1", "east", 1.8), Door("E2", "west", 1.2)), args.room_agents,
                     seed=args.seed)
    micro = simulate(case.scene, snapshot_s=2.0)
    macro = evacuate(case.nodes, case.links, dt_s=0.1)
    assert micro.clearance_s is not None and macro.clearance_s is not None
    out.update({
        "jps_agents": args.room_agents, "jps_agent_steps": micro.agent_steps, "jps_wall_s": round(micro.wall_s, 2),
        "jps_agent_steps_per_s": round(micro.agent_steps / micro.wall_s),
        "jps_room_clearance_s": round(micro.clearance_s, 2), "macro_room_clearance_s": round(macro.clearance_s, 2),
        "room_clearance_ratio": round(macro.clearance_s / micro.clearance_s, 3),
        "jps_room_specific_flow": {e.name: round((e.flow_per_s or 0.0) / w, 3)
                                   for e, w in zip(micro.exits, (1.8, 1.2), strict=True)},
    })

    corridor: dict[str, Any] = {}
    for name, frames in RUNS.items():
        run = CorridorRun.from_name(name, frames)
        rows = compare_corridor(run, load_trajectories(DATA / f"{name}.txt"), agents=args.corridor_agents,
                                seed=args.seed)
        corridor[name] = {r.source: {"per_s": round(r.persons_per_s, 3), "per_m_s": round(r.specific, 3),
                                     "diff_pct": None if r.difference_pct is None else round(r.difference_pct, 1)}
                          for r in rows}
    out["corridor_agents"] = args.corridor_agents
    out["corridor"] = corridor
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
