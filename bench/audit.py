"""Cost of the hash-chained audit log on writes, and the speed of chain verification.

Creates N devices, one transaction each (as the API does), with the audit listener on and off
(baseline) on the same database kind, then verifies the chain. Prints one JSON line.

    python bench/audit.py [--n 2000] [--url sqlite:///...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from anbao.core import audit, crud
from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.core.migrate import upgrade
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.venue import service as venues


def _run(url: str, n: int, with_audit: bool) -> tuple[float, int]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    if not with_audit:
        sa_event.remove(Session, "after_flush", audit._audit_flush)
    try:
        with transaction(factory, actor="bench") as db:
            ev = events.create(db=db, data=EventCreate(code=f"B{with_audit:d}", name="bench", kind="other"))
            venue = crud.create_row(db=db, kind=venues.VENUES, event_id=ev.id,
                                    data={"code": "V", "name": "v", "crs": "local"})
            ev_id, venue_id = ev.id, venue.id
        t0 = time.perf_counter()
        for i in range(n):
            with transaction(factory, actor="bench") as db:
                crud.create_row(db=db, kind=venues.DEVICES, event_id=ev_id,
                                data={"venue_id": venue_id, "code": f"D{i}", "name": f"d{i}", "kind": "smoke",
                                      "lon": float(i % 100), "lat": float(i // 100)})
        elapsed = time.perf_counter() - t0
    finally:
        if not with_audit:
            sa_event.listen(Session, "after_flush", audit._audit_flush)
    engine.dispose()
    return elapsed, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--url", default=None, help="database URL (default: temporary SQLite files)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url_a = args.url or f"sqlite:///{tmp / 'audit.db'}"
    url_b = args.url or f"sqlite:///{tmp / 'plain.db'}"
    base_s, n = _run(url_b, args.n, with_audit=False)
    audit_s, _ = _run(url_a, args.n, with_audit=True)
    engine = make_engine(url_a)
    with make_sessionmaker(engine)() as db:
        t0 = time.perf_counter()
        result = audit.verify(db)
        verify_s = time.perf_counter() - t0
    engine.dispose()
    print(json.dumps({
        "bench": "audit", "database": url_a.split(":")[0], "writes": n,
        "writes_per_s_baseline_no_audit": round(n / base_s, 1),
        "writes_per_s_with_audit": round(n / audit_s, 1),
        "audit_cost_ratio": round(audit_s / base_s, 3),
        "verify_rows": result.checked, "verify_ok": result.ok,
        "verify_rows_per_s": round(result.checked / verify_s, 1),
    }))


if __name__ == "__main__":
    main()
