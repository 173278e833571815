"""device_latest: the newest reading per device, moved forward only; zone states and latest() read it."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from anbao.core import crud
from anbao.core.db import transaction
from anbao.crowd import state
from anbao.sensing import service
from anbao.sensing.models import DeviceLatest
from anbao.venue import service as venues
from anbao.venue.models import Device


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _ingest(sessions, site, items):
    with transaction(sessions, actor="test") as db:
        return service.ingest(db=db, event_id=site.event_id, items=items)


def _item(sensor, at, value=None, **extra):
    return {"sensor": sensor, "at": at.isoformat(), **({"value": value} if value is not None else {}), **extra}


def test_newest_reading_per_device_moves_forward_only(sessions, site):
    now = _now()
    ago = lambda s: now - timedelta(seconds=s)  # noqa: E731
    out = _ingest(sessions, site, [_item("C1", ago(20), 10), _item("C1", ago(5), 30), _item("C1", ago(10), 20),
                                   _item("G1", ago(8), values={"co_ppm": 12.5})])
    assert out.accepted == 4
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=30), 99)])  # late, older: ignored
    with sessions() as db:
        rows = {r.device_id: r for r in db.execute(select(DeviceLatest)).scalars()}
        got = state.latest(db=db, event_id=site.event_id)
    c1 = rows[site.devices["C1"]]
    assert (c1.value, c1.at, c1.zone_id, c1.event_id) == (30, now - timedelta(seconds=5), site.zone_id, site.event_id)
    assert [d.code for d in got] == ["C1", "G1"]  # only devices that reported
    g1 = got[1]
    assert (g1.kind, g1.value, g1.values, g1.at, g1.zone_id) == ("gas", None, {"co_ppm": 12.5},
                                                                 now - timedelta(seconds=8), site.zone_id)
    assert g1.received_at.tzinfo is not None and abs((g1.received_at - datetime.now(UTC)).total_seconds()) < 30
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=1), 40)])
    with sessions() as db:
        assert next(d for d in state.latest(db=db, event_id=site.event_id) if d.code == "C1").value == 40


def test_zone_state_from_the_latest_rows(sessions, site):
    now = _now()
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=30), 25_000),
                             _item("C2", now - timedelta(seconds=90), 45_000)])  # C2 stale after 60 s
    with sessions() as db:
        (z,) = state.zone_states(db=db, event_id=site.event_id, now=now)
    assert (z.count, z.density, z.level, z.sensors_used, z.sensors_stale) == (25_000, 2.5, "blue", ("C1",), ("C2",))
    # a newest reading without a value (only named values) does not hide the count before it
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=2), values={"in": 3, "out": 1})])
    with sessions() as db:
        (z,) = state.zone_states(db=db, event_id=site.event_id, now=now)
    assert z.count == 25_000
    # a state asked for a past time uses the readings of that time, not the newest ones
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=1), 52_000)])
    with sessions() as db:
        (z,) = state.zone_states(db=db, event_id=site.event_id, now=now)
        (past,) = state.zone_states(db=db, event_id=site.event_id, now=now - timedelta(seconds=40))
    assert (z.count, z.level) == (52_000, "red")
    # 40 s ago C2 was fresh and C1 had not reported yet (its readings lie after that time)
    assert (past.count, past.level, past.sensors_used, past.sensors_stale) == (45_000, "orange", ("C2",), ("C1",))


def test_duplicates_and_rejected_items_do_not_move_latest(sessions, site):
    now = _now()
    _ingest(sessions, site, [_item("C1", now - timedelta(seconds=5), 7, idempotency_key="a")])
    out = _ingest(sessions, site, [_item("C1", now - timedelta(seconds=5), 7, idempotency_key="a"),
                                   _item("C1", now + timedelta(hours=1), 8)])
    assert (out.accepted, out.duplicates, len(out.rejected)) == (0, 1, 1)
    with sessions() as db:
        (d,) = state.latest(db=db, event_id=site.event_id)
    assert (d.value, d.at) == (7, now - timedelta(seconds=5))


def test_latest_goes_with_its_device(sessions, site):
    _ingest(sessions, site, [_item("C1", _now(), 1), _item("G1", _now(), 2)])
    with transaction(sessions, actor="test") as db:
        crud.delete_row(db=db, row=db.get(Device, site.devices["C1"]))
    with sessions() as db:
        assert [d.code for d in state.latest(db=db, event_id=site.event_id)] == ["G1"]
        assert crud.get_row(db=db, kind=venues.DEVICES, event_id=site.event_id, row_id=site.devices["C1"]) is None


def test_concurrent_writers_keep_the_newest(sessions, site):
    """Four writers store batches of the same devices in random order: the newest reading wins, no deadlock."""
    now = _now()
    items = [_item(code, now - timedelta(seconds=600) + timedelta(milliseconds=10 * k), k)
             for k in range(400) for code in ("C1", "C2", "G1", "X1")]
    rng = random.Random(7)
    batches = [items[k:k + 40] for k in range(0, len(items), 40)]
    rng.shuffle(batches)
    errors: list[BaseException] = []

    def write(part):
        try:
            for batch in part:
                _ingest(sessions, site, rng.sample(batch, len(batch)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(batches[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with sessions() as db:
        got = {d.code: (d.value, d.at) for d in state.latest(db=db, event_id=site.event_id)}
    last = now - timedelta(seconds=600) + timedelta(milliseconds=10 * 399)
    assert got == {code: (399, last) for code in ("C1", "C2", "G1", "X1")}


def test_latest_of_an_event_without_readings(sessions, site):
    with sessions() as db:
        assert state.latest(db=db, event_id=site.event_id) == []
        assert state.zone_states(db=db, event_id=site.event_id, now=_now())[0].count is None
