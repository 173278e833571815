"""The live WebSocket: login by token, hello, messages of the event only, replay after reconnect."""

import pytest
from starlette.websockets import WebSocketDisconnect


def _token(headers):
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def event_id(client, login):
    h = login("planner")
    return client.post("/api/v1/events", json={"code": "L", "name": "实时", "kind": "concert"}, headers=h).json()["id"]


def test_messages_of_the_event_arrive_in_order(client, login, event_id):
    bus = client.app.state.bus
    with client.websocket_connect(f"/api/v1/events/{event_id}/live?token={_token(login('officer'))}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        bus.publish(f"event/{event_id + 1}/warning", {"ignored": True})
        bus.publish(f"event/{event_id}/warning", {"level": "orange"})
        bus.publish(f"event/{event_id}/zone-state", {"zones": {"Z1": 3.2}})
        first, second = ws.receive_json(), ws.receive_json()
    assert [first["topic"], second["topic"]] == [f"event/{event_id}/warning", f"event/{event_id}/zone-state"]
    assert first["payload"] == {"level": "orange"} and second["seq"] == first["seq"] + 1 > hello["seq"]


def test_reconnect_with_since_replays_what_was_missed(client, login, event_id):
    bus = client.app.state.bus
    token = _token(login("officer"))
    seen = bus.publish(f"event/{event_id}/warning", {"n": 1}).seq
    bus.publish(f"event/{event_id}/warning", {"n": 2})
    bus.publish(f"event/{event_id}/task", {"n": 3})
    with client.websocket_connect(f"/api/v1/events/{event_id}/live?token={token}&since={seen}") as ws:
        got = [ws.receive_json() for _ in range(3)]
    assert [g.get("payload", {}).get("n") for g in got[:2]] == [2, 3]
    assert got[2] == {"type": "hello", "seq": seen + 2}


def test_a_number_from_before_a_server_restart_gets_a_resync(client, login, event_id):
    bus = client.app.state.bus
    token = _token(login("officer"))
    last = bus.publish(f"event/{event_id}/warning", {"n": 1}).seq
    with client.websocket_connect(f"/api/v1/events/{event_id}/live?token={token}&since={last + 500}") as ws:
        got = [ws.receive_json() for _ in range(2)]
        bus.publish(f"event/{event_id}/task", {"n": 2})
        after = ws.receive_json()
    assert got == [{"type": "resync", "seq": last}, {"type": "hello", "seq": last}]
    assert after["payload"] == {"n": 2}


@pytest.mark.parametrize(("who", "code"), [(None, 4401), ("bad-token", 4401), ("gateway", 4403)])
def test_refused_connections_get_close_codes(client, login, event_id, who, code):
    token = "" if who is None else who if who == "bad-token" else _token(login(who))
    with pytest.raises(WebSocketDisconnect) as info, \
            client.websocket_connect(f"/api/v1/events/{event_id}/live?token={token}") as ws:
        ws.receive_json()
    assert info.value.code == code


def test_unshared_event_is_4404_for_a_partner(client, login, event_id):
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(
            f"/api/v1/events/{event_id}/live?token={_token(login('partner', agency='消防'))}") as ws:
        ws.receive_json()
    assert info.value.code == 4404
