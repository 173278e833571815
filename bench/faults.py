"""Faults under load: kill -9 of each kind of process while readings flow at 10,000/s.

    python bench/faults.py [--seconds 20] [--rate 10000] [--replicas 2] [--workers 2]

Runs the multi-host cluster of tests/scale/cluster.py (network namespaces, needs root, PostgreSQL's
server binaries, mosquitto and nginx): two API replicas behind nginx, two MQTT ingest workers, one
PostgreSQL and one Mosquitto of its own. While readings flow (90 % over MQTT in gateway messages of
100, 10 % over HTTP through the proxy with idempotency keys), a replica and a worker are killed with
-9 and started again, the broker is restarted and PostgreSQL is restarted. Prints one JSON line:
{"sent", "acknowledged", "stored", "lost", "duplicates", ...} where ``lost`` counts acknowledged
readings (a broker PUBACK, an HTTP 2xx) that are not stored. Target: lost 0, duplicates 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scale import cluster as cl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=10_000, help="readings per second offered")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    lacks = cl.missing_tools()
    if lacks:
        sys.exit(f"bench/faults.py needs {', '.join(lacks)}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with cl.cluster(replicas=args.replicas, workers=args.workers, log=log) as c:
        result = cl.fault_run(c, seconds=args.seconds, rate_per_s=args.rate, log=log)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
