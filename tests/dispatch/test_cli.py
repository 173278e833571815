"""``anbao roads import`` and ``anbao roads check`` on the test database."""

from __future__ import annotations

import json
from pathlib import Path

from tests.dispatch.conftest import HELSINKI, grid_geojson, lonlat
from tests.factories_cli import small_collection


def _event(sessions) -> int:
    from anbao.event import service
    from anbao.event.schemas import EventCreate
    from anbao.venue.flows import import_venue

    with sessions() as db:
        db.info["actor"] = "test"
        event = service.create(db=db, data=EventCreate(code="ROADS", name="路网", kind="concert"))
        import_venue(db=db, event_id=event.id, collection=small_collection())
        db.commit()
        return event.id


def test_import_and_check(anbao, sessions, tmp_path: Path) -> None:
    event_id = _event(sessions)
    r = anbao("roads", "check", "--event", str(event_id))
    assert r.exit_code == 2 and "no road network" in r.output
    r = anbao("roads", "import", str(grid_geojson(tmp_path / "grid.geojson")), "--event", str(event_id),
              "--name", "街道")
    assert r.exit_code == 0, r.output
    net = json.loads(r.stdout.strip().splitlines()[-1])
    assert (net["name"], net["kind"], net["nodes"]) == ("街道", "geojson", 121)
    assert (tmp_path / "var" / "roads" / f"{net['sha256'][:16]}-grid.geojson").is_file()
    r = anbao("roads", "check", "--event", str(event_id))
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.strip().splitlines()]
    assert [(z["zone_code"], z["status"]) for z in lines] == [("Z1", "ok"), ("Z2", "ok")]
    with sessions() as db:
        from anbao.core.time import utcnow
        from anbao.dispatch.models import RoadClosure

        db.info["actor"] = "test"
        ring = [list(lonlat(x, y)) for x, y in ((-60, -60), (60, -60), (60, 60), (-60, 60), (-60, -60))]
        # a closure nobody is exempt from (the corridor check is for emergency vehicles)
        db.add(RoadClosure(event_id=event_id, name="封闭", geometry={"type": "Polygon", "coordinates": [ring]},
                           applies_to="vehicles", starts_at=utcnow(), reason="", exempt=[]))
        db.commit()
    r = anbao("roads", "check", "--event", str(event_id))
    assert r.exit_code == 1
    # both zones are centred on the closed block (Z1 is the 200 m square round Z2)
    assert [(z["zone_code"], z["status"]) for z in map(json.loads, r.stdout.strip().splitlines())] == [
        ("Z1", "unreachable"), ("Z2", "unreachable")]
    assert "1 closures in force" in r.output and "2 unreachable" in r.output


def test_import_errors(anbao, sessions, tmp_path: Path) -> None:
    event_id = _event(sessions)
    r = anbao("roads", "import", str(tmp_path / "missing.osm"), "--event", str(event_id))
    assert r.exit_code == 2 and "no such file" in r.output
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><way", encoding="utf-8")
    r = anbao("roads", "import", str(bad), "--event", str(event_id))
    assert r.exit_code == 2 and "not a readable OpenStreetMap file" in r.output
    r = anbao("roads", "import", str(HELSINKI), "--event", "999")
    assert r.exit_code == 2 and "event 999 not found" in r.output
    r = anbao("roads", "import", str(HELSINKI), "--event", str(event_id))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["report"]["ways_read"] == 2650
