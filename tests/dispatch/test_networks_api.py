"""Road networks through the API: the real Helsinki .pbf, a broken .osm, limits, permissions, storage."""

from __future__ import annotations

import json
from pathlib import Path

from anbao.dispatch import service
from tests.dispatch.conftest import HELSINKI, Ops


def test_upload_helsinki_pbf_list_and_delete(ops: Ops, settings) -> None:
    r = ops.upload(HELSINKI, name="赫尔辛基市中心")
    assert r.status_code == 201, r.text
    net = r.json()
    assert (net["name"], net["kind"], net["filename"]) == ("赫尔辛基市中心", "osm", "helsinki-centre.osm.pbf")
    assert net["size_bytes"] == HELSINKI.stat().st_size and len(net["sha256"]) == 64
    report = net["report"]
    assert report["sources"] == ["helsinki-centre.osm.pbf"]  # never the server's temporary path
    assert report["ways_read"] == 2650 and report["ways_used"] + sum(report["skipped"].values()) == 2650
    assert report["skipped"]["not_routable"] == 5 and report["notes"]["cut_at_missing_nodes"] > 50
    assert 5_000 < net["nodes"] < 10_000 and report["main_nodes"]["car"] > 1_000
    stored = settings.var_dir / "roads"
    files = [p for p in stored.iterdir() if p.is_file()]
    assert [p.name for p in files] == [f"{net['sha256'][:16]}-helsinki-centre.osm.pbf"]
    assert not any((stored / ".incoming").iterdir())
    listed = ops.client.get(f"{ops.url}/road-networks", headers=ops.h["analyst"]).json()
    assert [n["id"] for n in listed] == [net["id"]]
    # the same file in another event is stored once; deleting one row keeps it for the other
    other = ops.client.post("/api/v1/events", json={"code": "DSP2", "name": "二", "kind": "concert"},
                            headers=ops.h["planner"]).json()["id"]
    with HELSINKI.open("rb") as f:
        r2 = ops.client.post(f"/api/v1/events/{other}/road-networks", files={"file": (HELSINKI.name, f)},
                             headers=ops.h["planner"])
    assert r2.status_code == 201 and r2.json()["report"] == report
    assert ops.client.delete(f"{ops.url}/road-networks/{net['id']}", headers=ops.h["officer"]).status_code == 403
    assert ops.client.delete(f"{ops.url}/road-networks/{net['id']}", headers=ops.h["planner"]).status_code == 204
    assert files[0].exists()
    assert ops.client.get(f"{ops.url}/road-networks", headers=ops.h["planner"]).json() == []
    # deleting the other event takes its network, and then the file no row names any more
    assert ops.client.delete(f"/api/v1/events/{other}", headers=ops.h["planner"]).status_code == 204
    assert not files[0].exists()
    assert ops.client.delete(f"{ops.url}/road-networks/{net['id']}", headers=ops.h["planner"]).status_code == 404


def _broken_osm(tmp_path: Path) -> Path:
    path = tmp_path / "broken.osm"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><osm version="0.6"><node id="1" lat="60.1" lon="24.9"/>'
                    '<way id="5"><nd ref="1"/><nd ref="', encoding="utf-8")
    return path


def test_unreadable_files_are_422_naming_the_file(ops: Ops, tmp_path: Path, settings) -> None:
    r = ops.upload(_broken_osm(tmp_path))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "file"]
    assert "broken.osm: not a readable OpenStreetMap file" in detail["msg"] and ".incoming" not in detail["msg"]
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"highway": "construction"},
         "geometry": {"type": "LineString", "coordinates": [[24.9, 60.1], [24.91, 60.1]]}}]}), encoding="utf-8")
    r = ops.upload(empty)
    assert r.status_code == 422 and "no usable roads or paths" in r.json()["detail"][0]["msg"]
    assert "not_routable" in r.json()["detail"][0]["msg"]
    text = tmp_path / "roads.txt"
    text.write_text("x", encoding="utf-8")
    r = ops.upload(text)
    assert r.status_code == 422 and "unsupported file type" in r.json()["detail"][0]["msg"]
    r = ops.client.post(f"{ops.url}/road-networks", data={"name": "x"}, headers=ops.h["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    r = ops.client.post(f"{ops.url}/road-networks", json={"file": "x"}, headers=ops.h["planner"])
    assert r.status_code == 422 and "multipart" in r.json()["detail"][0]["msg"]
    assert not any((settings.var_dir / "roads" / ".incoming").iterdir())  # nothing left behind
    assert ops.client.get(f"{ops.url}/road-networks", headers=ops.h["planner"]).json() == []


def test_too_large_is_413_and_writers_only(ops: Ops, monkeypatch) -> None:
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", 100_000)
    r = ops.upload(HELSINKI)  # 685 kB: refused from its Content-Length before the body is read
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    monkeypatch.setattr(service, "MAX_UPLOAD_BYTES", HELSINKI.stat().st_size - 1)
    r = ops.upload(HELSINKI)  # within the header slack: refused while copying
    assert r.status_code == 413, r.text
    assert ops.upload(HELSINKI, role="dispatcher").status_code == 403
    assert ops.client.get(f"{ops.url}/road-networks").status_code == 401
    assert ops.client.get("/api/v1/events/999/road-networks", headers=ops.h["planner"]).status_code == 404
