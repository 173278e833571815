"""A partner agency (协作单位) sees only the units of its own agency and those shared with it, on every surface
that names a unit: unit positions, the map and its status, incident assignments, the planning documents and
the live stream. One rule (anbao.org.scope.unit_scope) behind all of them. Before the fix every surface here
showed the partner all units (issue 12, defect 2).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.conftest import BACKENDS
from tests.factories import point, url
from tests.partner_world import FIRE, HIDDEN, OWN, SHARED, World, world


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest) -> Iterator[World]:
    with world(request.param) as built:
        yield built


def get(w: World, path: str, role: str) -> object:
    r = w.client.get(url(w.shared, path), headers=w.headers[role])
    assert r.status_code == 200, f"{role} GET {path}: {r.status_code} {r.text[:300]}"
    return r.json()


def test_unit_positions(w):
    assert {p["call_sign"] for p in get(w, "unit-positions", "dispatcher")} == {HIDDEN, SHARED, OWN}
    assert {p["call_sign"] for p in get(w, "unit-positions", "partner")} == {SHARED, OWN}


def _post(collection: dict) -> dict:
    return next(f["properties"] for f in collection["features"] if f["properties"]["layer"] == "post")


def test_map_post_presence(w):
    police, partner = _post(get(w, "map", "analyst")), _post(get(w, "map", "partner"))
    assert set(police["units"]) == {HIDDEN, SHARED, OWN} and police["present"] == 3
    assert set(partner["units"]) == {SHARED, OWN} and partner["present"] == 2
    assert HIDDEN not in json.dumps(get(w, "map", "partner"), ensure_ascii=False)


def test_map_status_presence(w):
    police, partner = get(w, "map-status", "analyst")["posts"][0], get(w, "map-status", "partner")["posts"][0]
    assert set(police["units"]) == {HIDDEN, SHARED, OWN} and police["present"] == 3
    assert set(partner["units"]) == {SHARED, OWN} and partner["present"] == 2


def _docx_text(w: World, name: str, role: str) -> str:
    r = w.client.get(url(w.shared, f"plan-documents/{name}.docx"), headers=w.headers[role])
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        return z.read("word/document.xml").decode()


def test_assignment_list_document(w):
    assert HIDDEN in _docx_text(w, "assignments", "analyst")
    text = _docx_text(w, "assignments", "partner")
    assert SHARED in text and OWN in text and HIDDEN not in text


def test_work_plan_counts_only_visible_units(w):
    assert "共编组执勤单元 3 个" in _docx_text(w, "work-plan", "analyst")
    assert "共编组执勤单元 2 个" in _docx_text(w, "work-plan", "partner")


def test_incident_assignments(w):
    path = f"incidents/{w.incident}/assignments"
    assert {a["call_sign"] for a in get(w, path, "dispatcher")} == {HIDDEN, SHARED}
    assert [a["call_sign"] for a in get(w, path, "partner")] == [SHARED]
    assert [a["call_sign"] for a in get(w, f"incidents/{w.incident}", "partner")["assignments"]] == [SHARED]


def test_unshared_event_hides_every_surface(w):
    for path in ("unit-positions", "map", "map-status", "plan-documents/assignments.docx",
                 f"incidents/{w.incident}/assignments"):
        r = w.client.get(url(w.private, path), headers=w.headers["partner"])
        assert r.status_code == 404, path


# ----------------------------------------------------------------------------------------------- live stream


def _position(w: World, sign: str, n: int) -> None:
    lon, lat = point(11.0 + n, 12.0)
    r = w.client.post(url(w.shared, "positions"), headers=w.headers["dispatcher"], json={
        "client_key": f"live-position-{w.units[sign]}-{n}", "unit_id": w.units[sign], "lon": lon, "lat": lat,
        "at": datetime.now(UTC).isoformat()})
    assert r.status_code == 201, r.text


def _socket(w: World):
    return w.client.websocket_connect(f"/api/v1/events/{w.shared}/live")


def _messages(ws, n: int) -> list[dict]:
    return [ws.receive_json() for _ in range(n)]


def test_live_unit_positions_and_statuses(w):
    """A hidden unit's position and status messages never reach the partner; tasks naming it lose the unit."""
    with _socket(w) as partner, _socket(w) as police:
        partner.send_json({"type": "auth", "token": w.token("partner")})
        police.send_json({"type": "auth", "token": w.token("analyst")})
        assert partner.receive_json()["type"] == police.receive_json()["type"] == "hello"
        _position(w, HIDDEN, 1)
        _position(w, SHARED, 1)
        seen = [m["payload"]["call_sign"] for m in _messages(police, 2)]
        assert seen == [HIDDEN, SHARED]
        # the partner's next message is the shared unit's: the hidden one's was never sent
        got = partner.receive_json()
        assert (got["topic"].rsplit("/", 1)[-1], got["payload"]["call_sign"]) == ("unit-position", SHARED)

        hidden_assignment = next(a for a in get(w, f"incidents/{w.incident}/assignments", "dispatcher")
                                 if a["call_sign"] == HIDDEN)
        r = w.client.post(url(w.shared, f"incidents/{w.incident}/assignments/{hidden_assignment['id']}/status"),
                          json={"status": "en_route"}, headers=w.headers["dispatcher"])
        assert r.status_code == 200, r.text
        _position(w, OWN, 2)  # a marker after the change
        police_kinds = []
        while not police_kinds or police_kinds[-1] != "unit-position":
            m = police.receive_json()
            police_kinds.append(m["topic"].rsplit("/", 1)[-1])
            if police_kinds[-1] == "task":
                assert m["payload"]["unit_id"] == w.units[HIDDEN]
        partner_msgs = []
        while not partner_msgs or partner_msgs[-1]["topic"].rsplit("/", 1)[-1] != "unit-position":
            partner_msgs.append(partner.receive_json())
    assert "unit" in police_kinds and "task" in police_kinds
    kinds = [m["topic"].rsplit("/", 1)[-1] for m in partner_msgs]
    assert "unit" not in kinds and "task" in kinds and kinds[-1] == "unit-position"
    assert all(m["payload"].get("unit_id") is None for m in partner_msgs if m["topic"].endswith("/task"))
    assert partner_msgs[-1]["payload"]["call_sign"] == OWN
    assert HIDDEN not in json.dumps(partner_msgs, ensure_ascii=False)


def test_replay_is_scoped_too(w):
    bus = w.client.app.state.bus
    before = bus.last_seq
    _position(w, HIDDEN, 3)
    _position(w, OWN, 3)
    with w.client.websocket_connect(f"/api/v1/events/{w.shared}/live?since={before}") as ws:
        ws.send_json({"type": "auth", "token": w.token("partner")})
        first, hello = ws.receive_json(), ws.receive_json()
    assert first["payload"]["call_sign"] == OWN and hello["type"] == "hello"


def test_a_unit_shared_later_shows_at_once_on_rest(w):
    planner = w.headers["planner"]
    unit = w.units[HIDDEN]
    try:
        r = w.client.patch(url(w.shared, "units", unit), json={"shared_with": [FIRE]}, headers=planner)
        assert r.status_code == 200, r.text
        assert HIDDEN in {p["call_sign"] for p in get(w, "unit-positions", "partner")}
    finally:
        w.client.patch(url(w.shared, "units", unit), json={"shared_with": []}, headers=planner)
    assert HIDDEN not in {p["call_sign"] for p in get(w, "unit-positions", "partner")}


def test_tasks_and_reporting_units_name_no_unshared_unit(w):
    """A task given to an unshared unit, and an incident reported by one, show the partner no unit id."""
    c, dispatcher = w.client, w.headers["dispatcher"]
    hidden, shared = w.units[HIDDEN], w.units[SHARED]
    tasks = {}
    for sign, unit_id in ((HIDDEN, hidden), (SHARED, shared)):
        r = c.post(url(w.shared, "tasks"), json={"title": f"巡查 {sign}", "unit_id": unit_id}, headers=dispatcher)
        assert r.status_code == 201, r.text
        tasks[sign] = r.json()["id"]
    police = {t["id"]: t["unit_id"] for t in get(w, "tasks", "analyst")}
    partner = {t["id"]: t["unit_id"] for t in get(w, "tasks", "partner")}
    assert police[tasks[HIDDEN]] == hidden and police[tasks[SHARED]] == shared
    assert partner[tasks[HIDDEN]] is None and partner[tasks[SHARED]] == shared
    assert get(w, f"tasks/{tasks[HIDDEN]}", "partner")["unit_id"] is None
    assert get(w, f"tasks?unit_id={hidden}", "partner") == []  # asking by the hidden id learns nothing
    by_unit = get(w, f"tasks?unit_id={hidden}", "analyst")
    assert tasks[HIDDEN] in [t["id"] for t in by_unit] and {t["unit_id"] for t in by_unit} == {hidden}
    lon, lat = point(10.0, 12.0)
    r = c.post(url(w.shared, "incidents"), json={"client_key": "incident-by-hidden", "type": "theft", "lon": lon,
                                                 "lat": lat, "unit_id": hidden}, headers=dispatcher)
    assert r.status_code == 201, r.text
    inc = r.json()["id"]
    assert get(w, f"incidents/{inc}", "analyst")["unit_id"] == hidden
    assert get(w, f"incidents/{inc}", "partner")["unit_id"] is None
    assert next(i for i in get(w, "incidents", "partner") if i["id"] == inc)["unit_id"] is None


def test_review_counts_only_the_units_a_partner_may_see(w):
    """The review's police strength (issue 15) follows the same rule: the partner's figures cover its own units
    and those shared with it."""
    police = get(w, "review", "analyst")["statistics"]["police"]
    partner = get(w, "review", "partner")["statistics"]["police"]
    assert police["units"] == 3 and not police["scoped"]
    assert partner["units"] == 2 and partner["scoped"]
    assert HIDDEN not in json.dumps(get(w, "review", "partner"), ensure_ascii=False)
