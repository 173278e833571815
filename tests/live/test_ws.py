"""The live WebSocket: login by the first frame (never the URL), hello, messages of the event only, replay
after reconnect, close codes after the handshake, logins checked again while the socket is open."""

import contextlib

import pytest
from starlette.websockets import WebSocketDisconnect

from anbao.live import views as live_views


def _token(headers):
    return headers["Authorization"].removeprefix("Bearer ")


@contextlib.contextmanager
def connect(client, event_id, token, query=""):
    """Open the socket and send the auth frame."""
    with client.websocket_connect(f"/api/v1/events/{event_id}/live{query}") as ws:
        ws.send_json({"type": "auth", "token": token})
        yield ws


@pytest.fixture
def event_id(client, login):
    h = login("planner")
    return client.post("/api/v1/events", json={"code": "L", "name": "实时", "kind": "concert"}, headers=h).json()["id"]


def test_messages_of_the_event_arrive_in_order(client, login, event_id):
    bus = client.app.state.bus
    with connect(client, event_id, _token(login("officer"))) as ws:
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
    with connect(client, event_id, token, f"?since={seen}") as ws:
        got = [ws.receive_json() for _ in range(3)]
    assert [g.get("payload", {}).get("n") for g in got[:2]] == [2, 3]
    assert got[2] == {"type": "hello", "seq": seen + 2}


def test_a_number_from_before_a_server_restart_gets_a_resync(client, login, event_id):
    bus = client.app.state.bus
    token = _token(login("officer"))
    last = bus.publish(f"event/{event_id}/warning", {"n": 1}).seq
    with connect(client, event_id, token, f"?since={last + 500}") as ws:
        got = [ws.receive_json() for _ in range(2)]
        bus.publish(f"event/{event_id}/task", {"n": 2})
        after = ws.receive_json()
    assert got == [{"type": "resync", "seq": last}, {"type": "hello", "seq": last}]
    assert after["payload"] == {"n": 2}


def _closed(client, path, first=None):
    """The close code and reason of a refused socket: the handshake is accepted, then closed."""
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(path) as ws:
        if first is not None:
            ws.send_json(first) if not isinstance(first, str) else ws.send_text(first)
        ws.receive_json()
    return info.value.code, info.value.reason


@pytest.mark.parametrize(("who", "code"), [("", 4401), ("bad-token", 4401), ("gateway", 4403)])
def test_refused_connections_get_close_codes(client, login, event_id, who, code):
    token = _token(login(who)) if who == "gateway" else who
    assert _closed(client, f"/api/v1/events/{event_id}/live", {"type": "auth", "token": token})[0] == code


def test_refusals_are_close_codes_after_the_handshake_never_http_403(client, login, event_id):
    """Before: a refused handshake was an HTTP 403 (the browser saw 1006 and could not tell why)."""
    token = _token(login("officer"))
    base = f"/api/v1/events/{event_id}/live"
    code, reason = _closed(client, f"{base}?token={token}")
    assert code == 4400 and "first frame" in reason and "URL" in reason
    assert _closed(client, f"{base}?since=-3", {"type": "auth", "token": token})[0] == 4400
    assert _closed(client, "/api/v1/events/not-a-number/live", {"type": "auth", "token": token})[0] == 4404
    assert _closed(client, f"/api/v1/events/{event_id + 99}/live", {"type": "auth", "token": token})[0] == 4404
    assert _closed(client, base, "not json")[0] == 4400
    assert _closed(client, base, {"type": "hello"}) == (4401, 'log in first: send {"type": "auth", "token": ...}')


def test_no_auth_frame_in_time_is_4401(client, event_id, monkeypatch):
    monkeypatch.setattr(live_views, "AUTH_TIMEOUT_S", 0.2)
    code, reason = _closed(client, f"/api/v1/events/{event_id}/live")
    assert code == 4401 and "0.2 s" in reason


def test_unshared_event_is_4404_for_a_partner(client, login, event_id):
    token = _token(login("partner", agency="消防"))
    assert _closed(client, f"/api/v1/events/{event_id}/live", {"type": "auth", "token": token})[0] == 4404


def test_a_deactivated_user_stops_receiving(client, login, event_id, monkeypatch):
    """Before: the socket of a deactivated user kept receiving every message."""
    monkeypatch.setattr(live_views, "RECHECK_S", 0.1)
    admin = login("admin")
    with connect(client, event_id, _token(login("officer"))) as ws, pytest.raises(WebSocketDisconnect) as info:
        assert ws.receive_json()["type"] == "hello"
        uid = next(u["id"] for u in client.get("/api/v1/users", headers=admin).json() if u["username"] == "officer")
        assert client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin).status_code == 200
        client.app.state.bus.publish(f"event/{event_id}/warning", {"secret": 1})
        while True:  # at most the message published before the next check, then the close
            assert ws.receive_json()["type"] == "message"
    assert info.value.code == 4401


def test_a_revoked_token_stops_receiving(client, login, sessions, event_id, monkeypatch):
    """A token whose version is no longer the user's (password changed) is closed with 4401."""
    from anbao.account import service as accounts

    monkeypatch.setattr(live_views, "RECHECK_S", 0.1)
    with connect(client, event_id, _token(login("officer"))) as ws, pytest.raises(WebSocketDisconnect) as info:
        assert ws.receive_json()["type"] == "hello"
        with sessions() as s:
            s.info["actor"] = "test"
            user = accounts.get_by_username(db=s, username="officer")
            user.token_version = (user.token_version or 0) + 1
            s.commit()
        while True:
            ws.receive_json()
    assert info.value.code == 4401 and "log in again" in info.value.reason
