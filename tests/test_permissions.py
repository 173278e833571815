"""Deny by default: every API route needs a login and a declared permission; the authorisation matrix
(every route x every role x a partner on a shared and an unshared event) against the documented table."""

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute

from anbao.api.deps import visible_event
from anbao.core.auth import ROLE_PERMISSIONS, Perm, Role
from tests.conftest import BACKENDS
from tests.partner_world import FIRE, HIDDEN, ROLES, SHARED, World, world

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login")}
#: the live WebSocket logs in with its first message and checks the permission itself (tests/live/test_ws.py)
SELF_CHECKED = {"/events/{event_id}/live"}


def _walk(router):
    for route in router.routes:
        if isinstance(route, APIRoute | APIWebSocketRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router)


def _has_permission_check(dependant) -> bool:
    if getattr(dependant.call, "required_permissions", None) is not None:
        return True
    return any(_has_permission_check(d) for d in dependant.dependencies)


def test_every_route_declares_a_permission(client):
    """Every route the app serves (``app.routes``, not a list of routers), WebSockets included."""
    routes = list(_walk(client.app))
    assert len(routes) > 120 and any(isinstance(r, APIWebSocketRoute) for r in routes)
    unguarded = [f"{sorted(getattr(r, 'methods', None) or ['WS'])} {r.path}" for r in routes
                 if not _has_permission_check(r.dependant)
                 and not r.path.endswith(("/health", "/auth/login", "/auth/me", "/api/docs"))
                 and r.path not in SELF_CHECKED]
    assert unguarded == []


def test_every_documented_route_refuses_anonymous_calls(client):
    spec = client.get("/api/v1/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        for method in ops:
            if (method.upper(), path) in PUBLIC:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)
            r = client.request(method.upper(), url, json={})
            assert r.status_code == 401, f"{method.upper()} {path} -> {r.status_code}"
            assert r.headers.get("www-authenticate") == "Bearer"
            checked += 1
    assert checked > 40


def test_health_needs_no_login(client):
    assert client.get("/api/v1/health").json()["database"] in ("sqlite", "postgresql")


def test_bad_and_expired_tokens_are_401(client):
    r = client.get("/api/v1/events", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid token"


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("analyst", "POST", "/api/v1/events", {"code": "X", "name": "x", "kind": "other"}, 403),
        ("officer", "POST", "/api/v1/events", {"code": "X", "name": "x", "kind": "other"}, 403),
        ("auditor", "POST", "/api/v1/events", {"code": "X", "name": "x", "kind": "other"}, 403),
        ("planner", "POST", "/api/v1/events", {"code": "X", "name": "x", "kind": "other"}, 201),
        ("planner", "GET", "/api/v1/users", None, 403),
        ("admin", "GET", "/api/v1/users", None, 200),
        ("planner", "GET", "/api/v1/audit", None, 403),
        ("auditor", "GET", "/api/v1/audit", None, 200),
        ("commander", "GET", "/api/v1/audit/verify", None, 200),
    ],
)
def test_role_matrix(client, login, role, method, path, body, status):
    r = client.request(method, path, json=body, headers=login(role))
    assert r.status_code == status, r.text
    if status == 403:
        assert "lacks permission" in r.json()["detail"]


def test_login_is_rate_limited_and_failures_audited(client, login, sessions):
    login("officer")
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"username": "officer", "password": "nope-nope"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "officer", "password": "password-123"})
    assert r.status_code == 429 and "try again" in r.json()["detail"]


def test_deactivated_user_is_locked_out(client, login):
    admin = login("admin")
    officer = login("officer")
    users = client.get("/api/v1/users", headers=admin).json()
    uid = next(u["id"] for u in users if u["username"] == "officer")
    assert client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin).status_code == 200
    assert client.get("/api/v1/events", headers=officer).status_code == 401


def test_partner_user_needs_agency(client, login):
    r = client.post("/api/v1/users", json={"username": "fire1", "password": "password-123", "role": "partner"},
                    headers=login("admin"))
    assert r.status_code == 422 and "agency" in r.json()["detail"][0]["msg"]


# ----------------------------------------------------------------------------------------------- the matrix
# Every route of app.routes x every role (and no login) x a partner on a shared and an unshared event, against
# the documented table: core/auth.py ROLE_PERMISSIONS and each route's require(...). One seeded app per module
# and backend (tests/partner_world.py). Nothing is changed by the calls: bodies are invalid (0 where an object
# or list is expected) and ids other than the event's are "x", so an authorised call ends in 422 after the
# authorisation dependencies (which FastAPI resolves before it validates the endpoint's own parameters);
# reads run for real. The surfaces that name units run for real with real ids and are checked for scoping.

API = "/api/v1"
#: callers: (label, role or None for no login, which event: "shared" with 消防 or "private")
CALLERS = [("anonymous", None, "shared"), *[(r, r, "shared") for r in ROLES], ("partner-unshared", "partner",
                                                                                 "private")]


@pytest.fixture(scope="module", params=BACKENDS)
def w(request: pytest.FixtureRequest) -> Iterator[World]:
    with world(request.param) as built:
        yield built


def _calls(dependant) -> list:
    """The dependency callables in the order FastAPI calls them (each one's own dependencies first)."""
    out = []
    for sub in dependant.dependencies:
        out += _calls(sub)
        out.append(sub.call)
    return out


def _routes(app) -> list:
    return [r for r in _walk(app) if isinstance(r, APIRoute) and not r.path.startswith("/api/docs")]


def expected(route, role: str | None, event: str) -> int | None:
    """The refusal the table gives (401, 403, 404), or None when the caller is authorised."""
    path = API + route.path
    methods = set(route.methods)
    if any((m, path) in PUBLIC for m in methods):
        return None
    if role is None:
        return 401
    calls = _calls(route.dependant)
    checks = [i for i, c in enumerate(calls) if getattr(c, "required_permissions", None) is not None]
    needed = {p for i in checks for p in calls[i].required_permissions}
    lacks = not needed <= ROLE_PERMISSIONS[Role(role)]
    hidden = event == "private" and "{event_id}" in route.path
    first_event = next((i for i, c in enumerate(calls) if c is visible_event), None)
    if hidden and lacks:
        return 404 if first_event is not None and first_event < min(checks) else 403
    return 403 if lacks else 404 if hidden else None


def _url(w: World, route, event: str) -> str:
    ids = {"event_id": str(w.shared if event == "shared" else w.private)}
    return API + re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "x"), route.path)


def test_every_event_route_checks_the_event_is_visible(w):
    unchecked = [r.path for r in _routes(w.client.app)
                 if "{event_id}" in r.path and visible_event not in _calls(r.dependant)]
    assert unchecked == []


def test_authorisation_matrix(w):
    """Every route x every caller: the documented outcome, never a 5xx."""
    routes = _routes(w.client.app)
    # the route that deletes an event works on events of its own (one per authorised caller)
    wrong: list[str] = []
    tally: Counter[tuple[int | None, int]] = Counter()
    n = 0
    for route in sorted(routes, key=lambda r: r.path.startswith("/auth")):  # log-in routes last
        for method in sorted(route.methods):
            for label, role, event in CALLERS:
                if event == "private" and "{event_id}" not in route.path:
                    continue
                want = expected(route, role, event)
                target = _url(w, route, event)
                if (method, route.path) == ("DELETE", "/events/{event_id}") and want is None:
                    scratch = w.client.post(f"{API}/events", headers=w.headers["planner"], json={
                        "code": f"DEL{n}", "name": "删除", "kind": "other", "shared_agencies": [FIRE]}).json()["id"]
                    target = f"{API}/events/{scratch}"
                headers = w.headers.get(role or "", {})
                body = None if method in ("GET", "DELETE") else 0
                r = w.client.request(method, target, headers=headers, json=body)
                n += 1
                got = r.status_code
                tally[want, got] += 1
                detail = r.text[:160]
                ok = (got == want) if want is not None else (
                    got not in (401, 403) and got < 500 and not (got == 404 and "event" in detail
                                                                 and f"event {target.split('/')[4]} not found"
                                                                 in detail))
                if not ok:
                    wrong.append(f"{label:16} {method:6} {route.path}: want {want or 'authorised'}, got {got} {detail}")
    print(f"authorisation matrix: {n} calls over {len(routes)} routes: {sorted(tally.items(), key=str)}")
    assert n > 1400 and all(tally[want, want] > 50 for want in (401, 403, 404))
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize(("label", "role", "event"), CALLERS)
def test_live_socket_matrix(w, label, role, event):
    """The WebSocket: 4401 without login, 4403 without event:read, 4404 for a hidden event, else hello."""
    from starlette.websockets import WebSocketDisconnect

    eid = w.shared if event == "shared" else w.private
    want = 4401 if role is None else 4403 if Perm.event_read not in ROLE_PERMISSIONS[Role(role)] else \
        4404 if event == "private" else None
    with w.client.websocket_connect(f"{API}/events/{eid}/live") as ws:
        ws.send_json({"type": "auth", "token": w.token(role) if role else ""})
        if want is None:
            assert ws.receive_json()["type"] == "hello"
            return
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == want


def _text(r) -> str:
    if r.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            return z.read("word/document.xml").decode()
    return r.text


SURFACES = ["unit-positions", "map", "map-status", "plan-documents/assignments.docx", "incidents/{i}/assignments",
            "incidents/{i}"]


@pytest.mark.parametrize("surface", SURFACES)
def test_matrix_scoping_of_the_surfaces_that_name_units(w, surface):
    """Each role that may read the surface: police roles see the unit not shared with 消防, the partner does not
    (and sees the shared one); on the unshared event the partner gets 404."""
    path = f"{API}/events/{w.shared}/" + surface.replace("{i}", str(w.incident))
    for role in ROLES:
        r = w.client.get(path, headers=w.headers[role])
        if r.status_code == 403:
            assert Perm.venue_read not in ROLE_PERMISSIONS[Role(role)] or \
                Perm.sensing_read not in ROLE_PERMISSIONS[Role(role)] or Perm.event_read not in \
                ROLE_PERMISSIONS[Role(role)], role
            continue
        assert r.status_code == 200, (role, r.text[:200])
        text = _text(r)
        if role == "partner":
            assert HIDDEN not in text and SHARED in text, role
        else:
            assert HIDDEN in text, role
    r = w.client.get(path.replace(f"/events/{w.shared}/", f"/events/{w.private}/"), headers=w.headers["partner"])
    assert r.status_code == 404
