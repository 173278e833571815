"""Tokens carry the user's token version: a password change, an admin's reset, deactivation or a new role
revokes every earlier token (401 "log in again"); no log line of the served app carries a token."""

from __future__ import annotations

import logging

import jwt
import pytest

from anbao.account import service as accounts
from anbao.core.auth import RedactTokens, issue_token, keep_tokens_out_of_logs, redact_tokens
from anbao.core.errors import Unauthorized

NEW = "kettle-orbit-92"


def _uid(client, headers) -> int:
    return client.get("/api/v1/auth/me", headers=headers).json()["id"]


def _refused(client, headers) -> str:
    r = client.get("/api/v1/events", headers=headers)
    assert r.status_code == 401, r.text
    assert "log in again" in r.json()["detail"]
    return r.json()["detail"]


def test_tokens_carry_the_version(client, login):
    token = login("officer")["Authorization"].split()[1]
    assert jwt.decode(token, options={"verify_signature": False})["ver"] == 0


def test_a_token_without_a_version_is_refused(client, login):
    login("officer")
    key = client.app.state.signing_key
    old_style = jwt.encode({"sub": "1", "name": "officer", "exp": 4_102_444_800}, key, algorithm="HS256")
    r = client.get("/api/v1/events", headers={"Authorization": f"Bearer {old_style}"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid token"


def test_changing_my_password_revokes_my_earlier_tokens(client, login):
    first, second = login("officer"), login("officer")  # two devices
    r = client.post("/api/v1/auth/password", json={"old_password": "password-123", "new_password": NEW},
                    headers=first)
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert "password changed" in _refused(client, first)
    _refused(client, second)
    assert client.get("/api/v1/events", headers=fresh).status_code == 200
    for password, status in (("password-123", 401), (NEW, 200)):
        r = client.post("/api/v1/auth/login", json={"username": "officer", "password": password})
        assert r.status_code == status


def test_wrong_old_password_changes_nothing_and_counts_as_a_failed_login(client, login):
    me = login("officer")
    for _ in range(5):
        r = client.post("/api/v1/auth/password", json={"old_password": "guess-guess-1", "new_password": NEW},
                        headers=me)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "old_password"]
    r = client.post("/api/v1/auth/password", json={"old_password": "password-123", "new_password": NEW}, headers=me)
    assert r.status_code == 429  # guessing the old password with a stolen token is rate limited
    assert client.get("/api/v1/events", headers=me).status_code == 200  # nothing changed


def test_the_new_password_must_differ_and_meet_the_policy(client, login):
    me = login("officer")
    for new, words in (("password-123", "same as the old"), ("12345678", "at least 10 characters"),
                       ("qwertyuiop", "common passwords")):
        r = client.post("/api/v1/auth/password", json={"old_password": "password-123", "new_password": new},
                        headers=me)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "new_password"] and words in r.json()["detail"][0]["msg"]


def test_admin_reset_deactivation_and_role_change_revoke(client, login):
    admin = login("admin")
    officer = login("officer")
    uid = _uid(client, officer)
    r = client.patch(f"/api/v1/users/{uid}", json={"password": NEW}, headers=admin)
    assert r.status_code == 200, r.text
    _refused(client, officer)

    officer = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
        "username": "officer", "password": NEW}).json()["access_token"]}
    assert client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin).status_code == 200
    _refused(client, officer)
    assert client.patch(f"/api/v1/users/{uid}", json={"active": True}, headers=admin).status_code == 200
    _refused(client, officer)  # reactivating does not bring the old tokens back

    officer = {"Authorization": "Bearer " + client.post("/api/v1/auth/login", json={
        "username": "officer", "password": NEW}).json()["access_token"]}
    assert client.patch(f"/api/v1/users/{uid}", json={"display_name": "张三"}, headers=admin).status_code == 200
    assert client.get("/api/v1/events", headers=officer).status_code == 200  # a name change keeps the login
    assert client.patch(f"/api/v1/users/{uid}", json={"role": "analyst"}, headers=admin).status_code == 200
    _refused(client, officer)


def test_principal_for_token_is_the_one_check(client, login, sessions):
    """The function REST uses (and the WebSocket): the version is compared with the database's."""
    login("officer")
    key = client.app.state.signing_key
    with sessions() as db:
        user = accounts.get_by_username(db=db, username="officer")
        token, _ = issue_token(key=key, user_id=user.id, username="officer", ttl_minutes=5, version=0)
        assert accounts.principal_for_token(db, token, key).username == "officer"
        accounts.revoke_tokens(user=user)
        db.commit()
        with pytest.raises(Unauthorized, match="log in again"):
            accounts.principal_for_token(db, token, key)
        newer, _ = issue_token(key=key, user_id=user.id, username="officer", ttl_minutes=5, version=1)
        assert accounts.principal_for_token(db, newer, key).role.value == "officer"


JWT = issue_token(key="k" * 32, user_id=1, username="u", ttl_minutes=5)[0]


def test_redaction_removes_jwts_and_token_parameters():
    line = f'1.2.3.4:5 - "GET /api/v1/events/1/live?token={JWT}&since=3 HTTP/1.1" 101 Bearer {JWT}'
    out = redact_tokens(line)
    assert JWT not in out and JWT.split(".")[1] not in out
    assert out == ('1.2.3.4:5 - "GET /api/v1/events/1/live?token=[redacted]&since=3 HTTP/1.1" 101 '
                   'Bearer [token redacted]')
    assert redact_tokens("/api/v1/x?access_token=abc") == "/api/v1/x?access_token=[redacted]"


def test_the_served_app_logs_no_token(client, caplog):
    """uvicorn logs each request's path and query (access log) and each WebSocket handshake (error log).
    The app puts a filter on those loggers that survives uvicorn's logging set-up."""
    import uvicorn.config

    uvicorn.config.Config(client.app, log_level="info").configure_logging()  # what uvicorn.run does
    keep_tokens_out_of_logs()  # idempotent: a second app adds no second filter
    access, error = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")
    assert sum(isinstance(f, RedactTokens) for f in access.filters) == 1
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    for logger in (access, error):
        logger.addHandler(keep)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", f"/api/v1/events/1/live?token={JWT}", "1.1", 101)
        error.info('%s - "WebSocket %s" [accepted]', "1.2.3.4:5", f"/api/v1/events/1/live?token={JWT}")
    finally:
        for logger in (access, error):
            logger.removeHandler(keep)
    assert len(records) == 2
    for record in records:
        text = record.getMessage()
        assert JWT not in text and "live?token=[redacted]" in text and "[redacted] redacted]" not in text


def test_anbao_serve_leaves_forwarded_headers_to_the_app(monkeypatch, tmp_path):
    """uvicorn's own proxy-headers handling would believe X-Forwarded-For from 127.0.0.1: it is off."""
    import uvicorn

    from anbao.cli import main as cli
    from anbao.config import get_settings

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setenv("ANBAO_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setenv("ANBAO_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        cli._serve("127.0.0.1", 8999)
    finally:
        get_settings.cache_clear()
    assert seen["proxy_headers"] is False
