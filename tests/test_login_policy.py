"""Login policy: new passwords against length, a shipped common-password list and the user's and product's
names; failed logins limited per address across user names; X-Forwarded-For believed only from
configured proxies."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from anbao.app import create_app
from anbao.cli.common import DEMO_PASSWORD, DEMO_USER
from anbao.config import Settings
from anbao.core.audit import AuditEntry
from anbao.core.auth import (
    MIN_PASSWORD_LENGTH,
    TrustedProxies,
    client_address,
    common_passwords,
    parse_networks,
    password_problem,
)


def test_the_common_password_list_ships_with_the_package():
    common = common_passwords()
    assert len(common) > 19_000
    assert {"12345678", "password", "qwertyuiop", "1qaz2wsx3edc", "woaini1314"} <= common


@pytest.mark.parametrize(("password", "rule"), [
    ("12345678", "at least 10 characters"),
    ("password", "at least 10 characters"),
    ("1234567890", "common passwords"),
    ("QwertyUiop", "common passwords"),  # the list is compared without case
    ("woaini1314", "common passwords"),
    ("aaaaaaaaaaaa", "5 different characters"),
    ("fire-fighter-7", "user name"),  # the user's own name, symbols and digits around it
    ("Anbao2026!!", "product name"),
    ("安保安保安保安保安保", "5 different characters"),
])
def test_weak_passwords_are_refused_naming_the_rule(client, login, password, rule):
    r = client.post("/api/v1/users", json={"username": "fire-fighter", "password": password, "role": "officer"},
                    headers=login("admin"))
    assert r.status_code == 422, r.text
    [err] = r.json()["detail"]
    assert err["loc"] == ["body", "password"] and rule in err["msg"]


def test_a_good_password_and_the_demo_password_pass():
    assert password_problem("kettle-orbit-92", username="officer") is None
    assert password_problem(DEMO_PASSWORD, username=DEMO_USER, display_name="演示指挥长") is None
    assert password_problem("安保指挥平台二〇二六年", username="x") is None  # contains the name, is not it
    assert MIN_PASSWORD_LENGTH == 10


def test_an_admin_reset_meets_the_policy(client, login):
    admin = login("admin")
    uid = next(u["id"] for u in client.get("/api/v1/users", headers=admin).json() if u["username"] == "admin")
    r = client.patch(f"/api/v1/users/{uid}", json={"password": "password"}, headers=admin)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "password"]


def test_the_command_line_applies_the_policy(anbao):
    r = anbao("users", "add", "field1", "--role", "officer", "--password", "12345678")
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = anbao("users", "add", "field1", "--role", "officer", "--password", "kettle-orbit-92")
    assert r.exit_code == 0, r.output
    r = anbao("users", "password", "field1", "--password", "password")
    assert r.exit_code == 2 and "at least 10 characters" in r.output
    r = anbao("users", "password", "field1", input="lantern-quay-48\n")
    assert r.exit_code == 0 and "revoked" in r.output, r.output
    assert anbao("users", "password", "nobody", "--password", "lantern-quay-48").exit_code == 2


# ---------------------------------------------------------------------------------------------- rate limits


def _fail(client, name, **headers):
    return client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-wrong-1"}, headers=headers)


def test_spraying_many_names_from_one_address_is_limited(client, login):
    """20 failures a minute from one address across names (ANBAO_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE); then
    every login from it is refused, a right one too; another address is not affected."""
    login("officer")
    assert client.app.state.settings.login_attempts_per_address_per_minute == 20
    for i in range(20):
        assert _fail(client, f"spray-{i:02d}").status_code == 401
    r = _fail(client, "spray-20")
    assert r.status_code == 429 and "from this address" in r.json()["detail"] and "20 a minute" in r.json()["detail"]
    r = client.post("/api/v1/auth/login", json={"username": "officer", "password": "password-123"})
    assert r.status_code == 429
    with TestClient(client.app, client=("192.0.2.7", 40000)) as other:
        assert other.post("/api/v1/auth/login", json={"username": "officer", "password": "password-123"}
                          ).status_code == 200


def test_a_forged_forwarded_for_neither_escapes_the_limit_nor_reaches_the_audit_log(client, sessions):
    for i in range(20):
        r = _fail(client, f"name-{i}", **{"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status_code == 401
    assert _fail(client, "name-x", **{"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    with sessions() as db:
        rows = db.execute(select(AuditEntry).where(AuditEntry.action.in_(["login_failed", "login_blocked"]))
                          ).scalars().all()
    assert len(rows) == 21
    assert {r.after["client"] for r in rows} == {"testclient"}
    assert {r.actor for r in rows} == {"anonymous@testclient"}


@pytest.fixture
def proxied(settings):
    """The app behind a proxy at 10.0.0.0/24 (ANBAO_TRUSTED_PROXIES)."""
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/24, 2001:db8::/64"}))
    with TestClient(app, client=("10.0.0.5", 40000)) as via_proxy, \
            TestClient(app, client=("198.51.100.9", 40000)) as direct:
        yield via_proxy, direct


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(proxied, sessions):
    via_proxy, direct = proxied
    _fail(via_proxy, "a", **{"X-Forwarded-For": "6.6.6.6, 192.0.2.1"})  # 6.6.6.6 is the client's own say-so
    _fail(direct, "b", **{"X-Forwarded-For": "192.0.2.2"})  # not from the proxy: ignored
    with sessions() as db:
        rows = db.execute(select(AuditEntry).where(AuditEntry.action == "login_failed").order_by(AuditEntry.id)
                          ).scalars().all()
    assert [r.after["client"] for r in rows] == ["192.0.2.1", "198.51.100.9"]


def test_each_client_behind_the_proxy_has_its_own_address_limit(proxied):
    via_proxy, _direct = proxied
    for i in range(20):
        _fail(via_proxy, f"n{i}", **{"X-Forwarded-For": "192.0.2.50"})
    assert _fail(via_proxy, "n20", **{"X-Forwarded-For": "192.0.2.50"}).status_code == 429
    assert _fail(via_proxy, "n21", **{"X-Forwarded-For": "192.0.2.51"}).status_code == 401


def test_client_address_rules():
    trusted = parse_networks("10.0.0.0/24,::1")
    assert client_address("10.0.0.5", ["1.1.1.1, 2.2.2.2"], trusted) == "2.2.2.2"
    assert client_address("10.0.0.5", ["1.1.1.1", "2.2.2.2, 10.0.0.7"], trusted) == "2.2.2.2"  # a proxy chain
    assert client_address("10.0.0.5", [], trusted) == "10.0.0.5"
    assert client_address("8.8.8.8", ["1.1.1.1"], trusted) == "8.8.8.8"
    assert client_address("10.0.0.5", ["1.1.1.1"], ()) == "10.0.0.5"
    assert client_address("::1", ["2001:db8::9"], trusted) == "2001:db8::9"


def test_the_middleware_rewrites_the_client_of_a_trusted_peer_only():
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["client"], scope.get("scheme")))

    mw = TrustedProxies(app, parse_networks("10.0.0.0/24"))
    headers = [(b"x-forwarded-for", b"192.0.2.4"), (b"x-forwarded-proto", b"https")]
    for kind, peer, scheme in (("http", "10.0.0.5", "http"), ("http", "192.0.2.9", "http"),
                               ("websocket", "10.0.0.5", "ws")):
        asyncio.run(mw({"type": kind, "client": (peer, 1), "headers": headers, "scheme": scheme}, None, None))
    assert seen == [(("192.0.2.4", 0), "https"), (("192.0.2.9", 1), "http"), (("192.0.2.4", 0), "wss")]


def test_a_bad_trusted_proxy_setting_names_the_entry(tmp_path):
    with pytest.raises(ValidationError, match="'10.0.0.300' is not an IP address"):
        Settings(var_dir=tmp_path, trusted_proxies="10.0.0.1, 10.0.0.300")
