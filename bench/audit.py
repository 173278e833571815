"""Cost of the hash-chained audit log on writes, and the speed of chain verification.

Creates N devices, one transaction each (as the API does), with the audit listener off (baseline),
on with the unkeyed SHA-256 chain (before issue 12) and on with the keyed HMAC-SHA256 chain (now), on the
same database kind, then verifies each chain. Prints one JSON line.

    python bench/audit.py [--n 2000]
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

KEY = "bench-audit-key-0123456789abcdef"


def _run(url: str, n: int, with_audit: bool, keyed: bool = True) -> tuple[float, int]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine, info={audit.KEY_INFO: audit.use_keys([KEY])} if keyed else None)
    saved = list(audit._current)
    if not keyed:
        audit._current.clear()  # a process without a key: the unkeyed sha256 chain of before
    if not with_audit:
        sa_event.remove(Session, "after_flush", audit._audit_flush)
    try:
        with transaction(factory, actor="bench") as db:
            ev = events.create(db=db, data=EventCreate(code=f"B{with_audit:d}{keyed:d}", name="bench", kind="other"))
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
        audit._current[:] = saved
        if not with_audit:
            sa_event.listen(Session, "after_flush", audit._audit_flush)
    engine.dispose()
    return elapsed, n


def _verify(url: str) -> tuple[audit.VerifyResult, float]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        t0 = time.perf_counter()
        result = audit.verify(db)
        took = time.perf_counter() - t0
    engine.dispose()
    return result, took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    if args.url:
        raise SystemExit("--url: one database cannot hold three chains; run against temporary SQLite files")
    base_s, n = _run(f"sqlite:///{tmp / 'plain.db'}", args.n, with_audit=False)
    unkeyed_s, _ = _run(f"sqlite:///{tmp / 'unkeyed.db'}", args.n, with_audit=True, keyed=False)
    keyed_s, _ = _run(f"sqlite:///{tmp / 'keyed.db'}", args.n, with_audit=True, keyed=True)
    unkeyed, unkeyed_v = _verify(f"sqlite:///{tmp / 'unkeyed.db'}")
    keyed, keyed_v = _verify(f"sqlite:///{tmp / 'keyed.db'}")
    print(json.dumps({
        "bench": "audit", "database": "sqlite", "writes": n,
        "writes_per_s_baseline_no_audit": round(n / base_s, 1),
        "writes_per_s_with_audit_unkeyed": round(n / unkeyed_s, 1),
        "writes_per_s_with_audit": round(n / keyed_s, 1),
        "audit_cost_ratio_unkeyed": round(unkeyed_s / base_s, 3),
        "audit_cost_ratio": round(keyed_s / base_s, 3),
        "verify_rows": keyed.checked, "verify_ok": keyed.ok and unkeyed.ok,
        "verify_keyed_rows": keyed.keyed, "verify_unkeyed_rows": unkeyed.unkeyed,
        "verify_rows_per_s_unkeyed": round(unkeyed.checked / unkeyed_v, 1),
        "verify_rows_per_s": round(keyed.checked / keyed_v, 1),
    }))


if __name__ == "__main__":
    main()
