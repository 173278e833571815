"""Cost of one live-simulator tick of the demo event (readings through ingest, unit positions, crowd model).

Loads the demo into a fresh SQLite file (and PostgreSQL with --url), runs N ticks 3 simulated seconds apart
and prints one JSON line: the median and p95 of the whole tick and of the crowd model alone, and the
share of the tick the model takes (the rest is storage), per database. The target is a median tick well
under the 1 s a live demo ticks at (the old timed test asked for < 100 ms).

    python bench/sim_tick.py [--n 40] [--url postgresql+psycopg://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.core.migrate import upgrade
from anbao.core.time import utcnow
from anbao.demo.build import load_demo
from anbao.sim.live import Simulator


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def measure(url: str, n: int, var_dir: Path) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions, actor="bench") as db:
        event_id = load_demo(db=db, var_dir=var_dir).event_id
    sim = Simulator(sessions, event_id, speed=10, seed=1)
    start = utcnow() - timedelta(seconds=120)
    ticks = [sim.tick(start + timedelta(seconds=3 * i)) for i in range(n)]
    total = [t.total_ms for t in ticks[2:]]  # the first ticks warm caches up
    model = [t.model_ms for t in ticks[2:]]
    engine.dispose()
    return {"median_ms": round(statistics.median(total), 2), "p95_ms": round(_p95(total), 2),
            "model_median_ms": round(statistics.median(model), 2),
            "model_share": round(statistics.median(model) / statistics.median(total), 3),
            "units_reporting": len(sim.reporting)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--url", default=None, help="also measure this database (e.g. PostgreSQL, emptied first)")
    args = ap.parse_args()
    out: dict[str, object] = {"bench": "sim_tick", "ticks": args.n}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", args.n, Path(tmp))
        if args.url:
            out["other"] = measure(args.url, args.n, Path(tmp))
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
