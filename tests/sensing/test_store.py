"""The reading store under the ingest path, on SQLite and PostgreSQL: COPY and its staging table,
idempotency keys, rejection reasons, storage form, and the cache of the event's devices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from anbao.core import crud
from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.sensing import service
from anbao.sensing.models import DeviceLatest, Reading
from anbao.venue import service as venues
from anbao.venue.models import Device, Zone
from tests.sensing.conftest import Site, build_site

NOW = datetime(2026, 12, 19, 12, 0, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (NOW - timedelta(minutes=10) + timedelta(seconds=seconds)).isoformat()


def _ingest(sessions: sessionmaker[Session], site: Site, items: list[dict[str, Any]],
            source: str = "test") -> service.Outcome:
    with transaction(sessions, actor="test") as db:
        return service.ingest(db=db, event_id=site.event_id, items=items, source=source, now=NOW)


def _stored(sessions: sessionmaker[Session], site: Site) -> list[Reading]:
    with sessions() as db:
        return list(db.execute(select(Reading).where(Reading.event_id == site.event_id)
                               .order_by(Reading.id)).scalars())


def test_duplicate_keys_are_skipped_not_stored_twice_and_do_not_fail_the_batch(sessions, site):
    first = _ingest(sessions, site, [{"sensor": "C1", "at": _at(k), "value": k, "idempotency_key": f"k{k}"}
                                     for k in range(3)])
    assert (first.accepted, first.duplicates) == (3, 0)
    # k1 is stored already, k5 comes twice in this batch, the unkeyed reading goes in as it is
    batch = [{"sensor": "C1", "at": _at(10), "value": 10, "idempotency_key": "k1"},
             {"sensor": "C2", "at": _at(11), "value": 11, "idempotency_key": "k5"},
             {"sensor": "C2", "at": _at(12), "value": 12},
             {"sensor": "C1", "at": _at(13), "value": 13, "idempotency_key": "k5"},
             {"sensor": "C1", "at": _at(14), "value": 14, "idempotency_key": "k6"}]
    out = _ingest(sessions, site, batch)
    assert (out.accepted, out.duplicates, out.rejected) == (3, 2, [])
    rows = _stored(sessions, site)
    assert [r.value for r in rows] == [0, 1, 2, 11, 12, 14]  # in the order of the batches
    assert [r.idem_key for r in rows] == ["k0", "k1", "k2", "k5", None, "k6"]


def test_several_keyed_batches_in_one_transaction(sessions, site):
    """The staging table of PostgreSQL is emptied after each batch, not at commit (an MQTT transaction
    stores the batches of several events)."""
    with transaction(sessions, actor="test") as db:
        a = service.ingest(db=db, event_id=site.event_id, now=NOW, items=[
            {"sensor": "C1", "at": _at(1), "value": 1, "idempotency_key": "a"},
            {"sensor": "C1", "at": _at(2), "value": 2}])
        b = service.ingest(db=db, event_id=site.event_id, now=NOW, items=[
            {"sensor": "C1", "at": _at(3), "value": 3, "idempotency_key": "b"},
            {"sensor": "C1", "at": _at(4), "value": 4, "idempotency_key": "a"}])
    assert (a.accepted, a.duplicates, b.accepted, b.duplicates) == (2, 0, 1, 1)
    assert [r.value for r in _stored(sessions, site)] == [1, 2, 3]


def test_a_rolled_back_batch_leaves_nothing_behind(sessions, site):
    with pytest.raises(RuntimeError), transaction(sessions, actor="test") as db:
        service.ingest(db=db, event_id=site.event_id, now=NOW,
                       items=[{"sensor": "C1", "at": _at(1), "value": 1, "idempotency_key": "r"}])
        raise RuntimeError("later step failed")
    out = _ingest(sessions, site, [{"sensor": "C1", "at": _at(1), "value": 1, "idempotency_key": "r"}])
    assert (out.accepted, out.duplicates) == (1, 0)
    assert len(_stored(sessions, site)) == 1


def test_every_reason_is_kept_and_every_accepted_reading_is_stored(sessions, site):
    items: list[Any] = [{"sensor": f"C{1 + k % 2}", "at": _at(k / 100), "value": k % 50} for k in range(12_000)]
    bad = {
        12_000: ({"sensor": "NOPE", "at": _at(1), "value": 1}, ["body", 12_000, "sensor"], "unknown sensor 'NOPE'"),
        12_001: ({"sensor": "C1", "at": _at(1)}, ["body", 12_001], "needs value or values"),
        12_002: ({"sensor": "C1", "at": (NOW + timedelta(minutes=6)).isoformat(), "value": 1},
                 ["body", 12_002, "at"], "in the future"),
        12_003: ({"sensor": "C1", "at": (NOW - timedelta(days=8)).isoformat(), "value": 1},
                 ["body", 12_003, "at"], "more than 7 days old"),
        12_004: ({"sensor": "G1", "at": _at(1), "value": -3}, ["body", 12_004, "value"], "is negative"),
        12_005: ({"sensor": "C1", "at": _at(1), "value": 130_000}, ["body", 12_005, "value"], "not a crowd"),
        12_006: ({"sensor": "C1", "at": "2026-12-19 12:00", "value": 1}, ["body", 12_006, "at"], "timezone"),
        12_007: ({"sensor": "C1", "at": _at(1), "value": "x"}, ["body", 12_007, "value"], "number"),
    }
    items += [item for item, _, _ in bad.values()]
    with transaction(sessions, actor="test") as db:
        out = service.ingest(db=db, event_id=site.event_id, items=items, now=NOW)
    assert out.accepted == 12_000 and out.duplicates == 0
    assert [r["index"] for r in out.rejected] == list(bad)
    for r in out.rejected:
        _, loc, words = bad[r["index"]]
        assert r["loc"] == loc and words in r["msg"], r
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(Reading).where(Reading.event_id == site.event_id)) == 12_000


def test_storage_form_survives_copy(sessions, site):
    """Offsets become UTC, values and sources with tabs, backslashes, quotes and newlines arrive intact."""
    source = 'gw\t1\\x\n"y"'
    values = {'a\\b"c\td': 1.5, "density": 0.25}
    out = _ingest(sessions, site, [
        {"sensor": "C1", "at": "2026-12-19T19:55:03.25+08:00", "value": 7.5, "values": values,
         "idempotency_key": "tab\tkey\\"},
        {"sensor": "G1", "at": "2026-12-19T11:55:04Z", "value": 3}], source=source)
    assert out.accepted == 2
    first, second = _stored(sessions, site)
    assert first.at == datetime(2026, 12, 19, 11, 55, 3, 250_000, tzinfo=UTC)
    assert (first.value, first.values, first.source, first.idem_key) == (7.5, values, source, "tab\tkey\\")
    assert (first.zone_id, first.device_id, first.received_at) == (site.zone_id, site.devices["C1"], NOW)
    assert second.at == datetime(2026, 12, 19, 11, 55, 4, tzinfo=UTC) and second.values is None
    with sessions() as db:
        latest = {r.device_id: r for r in db.execute(select(DeviceLatest)).scalars()}
    assert latest[site.devices["C1"]].values == values and latest[site.devices["G1"]].value == 3


# -- the cache of the event's devices ----------------------------------------------------------------

@pytest.fixture
def other(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions of a second engine on the same database: another process or replica."""
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _device_loads(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "device.code" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def device_loads(engine: Engine) -> Iterator[list[str]]:
    yield from _device_loads(engine)


def test_devices_are_not_read_again_for_each_batch(sessions, site, device_loads):
    for k in range(3):
        assert _ingest(sessions, site, [{"sensor": "C1", "at": _at(k), "value": k}]).accepted == 1
    assert len(device_loads) == 1


def test_device_changes_elsewhere_reach_the_cache(sessions, site, other, device_loads):
    clock = iter(range(1000))

    def one(sensor: str, value: float) -> service.Outcome:
        return _ingest(sessions, site, [{"sensor": sensor, "at": _at(next(clock)), "value": value}])

    assert one("G1", 1).accepted == 1 and one("G1", -1).rejected  # a gas level is not negative
    with transaction(other, actor="test") as db:  # another replica: a new device, a renamed one, a new kind
        venue_id = db.scalar(select(Device.venue_id).where(Device.id == site.devices["G1"]))
        crud.create_row(db=db, kind=venues.DEVICES, event_id=site.event_id, data={
            "venue_id": venue_id, "code": "N1", "name": "n", "kind": "video_count", "lon": 1.0, "lat": 1.0})
        crud.update_row(db=db, kind=venues.DEVICES, row=db.get(Device, site.devices["C2"]), data={"code": "C9"})
        crud.update_row(db=db, kind=venues.DEVICES, row=db.get(Device, site.devices["G1"]),
                        data={"kind": "temperature"})
    assert one("N1", 2).accepted == 1
    assert one("C9", 3).accepted == 1 and "unknown sensor 'C2'" in one("C2", 4).rejected[0]["msg"]
    assert one("G1", -5).accepted == 1  # a temperature may be negative

    # the zone shrinks to 100 m2: 1,300 heads are now over 12 persons/m2
    assert one("C1", 1300).accepted == 1
    with transaction(other, actor="test") as db:
        crud.update_row(db=db, kind=venues.ZONES, row=db.get(Zone, site.zone_id), data={"geometry": {
            "type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}})
    assert "not a crowd" in one("C1", 1300).rejected[0]["msg"]

    with transaction(other, actor="test") as db:  # moved out of the zone, then deleted
        crud.update_row(db=db, kind=venues.DEVICES, row=db.get(Device, site.devices["C1"]), data={"zone_id": None})
    assert one("C1", 1300).accepted == 1
    with sessions() as db:
        assert db.scalar(select(Reading.zone_id).order_by(Reading.id.desc()).limit(1)) is None
    with transaction(other, actor="test") as db:
        crud.delete_row(db=db, row=db.get(Device, site.devices["C1"]))
    assert "unknown sensor 'C1'" in one("C1", 5).rejected[0]["msg"]
    assert len(device_loads) == 5  # the first batch, then once after each of the four changing transactions


def test_the_cache_is_per_database(db_url, sessions, tmp_path):
    """Two databases with the same event id and device codes do not share cached devices."""
    if not db_url.startswith("sqlite"):
        pytest.skip("one SQLite file more is enough to show it")
    second = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        from anbao.core.migrate import upgrade

        upgrade(second)
        a = build_site(sessions, {"C1": "gas"})
        b = build_site(make_sessionmaker(second), {"C1": "temperature"})
        assert a.event_id == b.event_id
        item = [{"sensor": "C1", "at": _at(1), "value": -1}]
        assert _ingest(sessions, a, item).rejected and _ingest(make_sessionmaker(second), b, item).accepted == 1
    finally:
        second.dispose()
