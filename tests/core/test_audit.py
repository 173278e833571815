import json

import pytest
from sqlalchemy import select, text, update

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.core import audit
from anbao.core.audit import AuditEntry, AuditHead
from anbao.event import service as events
from anbao.event.schemas import EventCreate, EventUpdate

KEY = "test-audit-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def audit_key():
    """Every test of this module signs with one known key (the app's own key from var/ stays known too)."""
    return audit.use_keys([KEY])


def _make_history(db):
    event = events.create(db=db, data=EventCreate(code="A1", name="审计测试", kind="concert"))
    db.commit()
    events.update(db=db, event=event, data=EventUpdate(name="审计测试二", expected_attendance=1200))
    db.commit()
    audit.record(db, action="read", entity="person", entity_id="7", event_id=event.id)
    db.commit()
    events.delete(db=db, event=event)
    db.commit()
    return event


def test_chain_records_every_change_with_before_and_after(db):
    event = _make_history(db)
    rows = db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(r.action, r.entity) for r in rows] == [("create", "event"), ("update", "event"), ("read", "person"),
                                                   ("delete", "event")]
    assert [r.id for r in rows] == [1, 2, 3, 4]
    upd = rows[1]
    assert upd.before == {"expected_attendance": 0, "name": "审计测试"}
    assert upd.after["name"] == "审计测试二" and upd.after["expected_attendance"] == 1200
    assert all(r.actor == "test" for r in rows)
    assert rows[0].event_id == event.id and rows[3].before["code"] == "A1"
    assert audit.verify(db).ok and audit.verify(db).checked == 4


def test_edited_row_is_detected(db):
    _make_history(db)
    db.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="user:someone-else"))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 2 and "edited" in (result.reason or "")


def test_deleted_middle_row_is_detected(db):
    _make_history(db)
    db.execute(text("DELETE FROM audit_log WHERE id = 3"))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 3 and "missing" in (result.reason or "")


def test_cut_tail_is_detected(db):
    _make_history(db)
    db.execute(text("DELETE FROM audit_log WHERE id = 4"))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 4


def test_rehashed_forgery_still_breaks_the_next_link(db):
    _make_history(db)
    row = db.get(AuditEntry, 2)
    fields = dict(id=row.id, at=row.at, actor="user:forger", action=row.action, entity=row.entity,
                  entity_id=row.entity_id, event_id=row.event_id, cause=row.cause, before=row.before,
                  after=row.after)
    forged = audit.row_hash(prev_hash=row.prev_hash, key=audit.known_key(row.key_id), **fields)
    db.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="user:forger", hash=forged))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 3


def _rewrite_from(db, first_id: int, *, key: audit.AuditKey | None, key_id: str | None) -> None:
    """What someone with write access to the database but not the key can do: edit a row, then re-hash
    every row after it and the head, with sha256 (the unkeyed formula) or a key of their own."""
    rows = db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    prev = audit.GENESIS
    for row in rows:
        if row.id >= first_id:
            if row.id == first_id:
                row.actor = "user:forger"
            row.prev_hash = prev
            row.key_id = key_id
            row.hash = audit.row_hash(prev_hash=prev, id=row.id, at=row.at, actor=row.actor, action=row.action,
                                      entity=row.entity, entity_id=row.entity_id, event_id=row.event_id,
                                      cause=row.cause, before=row.before, after=row.after, key=key)
        prev = row.hash
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))
    db.commit()


def test_rewritten_and_rehashed_chain_fails_without_the_key(db):
    """Defect 5: before the key, re-hashing the chain and the head after an edit passed verify."""
    _make_history(db)
    assert audit.verify(db).keyed == 4
    _rewrite_from(db, 2, key=None, key_id=None)  # sha256 as the unkeyed rows had it
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 2 and "unkeyed row after keyed rows" in (result.reason or "")


def test_rehashing_the_whole_chain_unkeyed_or_with_another_key_fails(db):
    _make_history(db)
    _rewrite_from(db, 1, key=None, key_id=None)  # every row unkeyed: the rows name no key at all...
    assert audit.verify(db).ok and audit.verify(db).unkeyed == 4  # ...which verify can only report (as
    # unkeyed rows), so a signed checkpoint kept off the database is what catches it (test below); a made-up key:
    db.execute(text("DELETE FROM audit_log"))
    db.execute(text("DELETE FROM audit_head"))
    db.commit()
    _make_history(db)
    own = audit.AuditKey.of("the-forgers-own-key-0123456789")
    _rewrite_from(db, 2, key=own, key_id=audit.AuditKey.of(KEY).id)  # claims the real key's id
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 2 and "edited" in (result.reason or "")


def test_a_signed_checkpoint_catches_a_rewritten_or_cut_chain(db, tmp_path):
    _make_history(db)
    cp = audit.checkpoint(db)
    assert cp["last_id"] == 4 and cp["key_id"] == audit.AuditKey.of(KEY).id
    assert audit.verify(db, checkpoint=cp).ok and audit.verify(db, checkpoint=cp).checkpoint_id == 4
    # the whole chain re-hashed unkeyed: every row holds, the checkpoint does not
    _rewrite_from(db, 1, key=None, key_id=None)
    result = audit.verify(db, checkpoint=cp)
    assert not result.ok and result.broken_id == 4 and "checkpoint" in (result.reason or "")
    # an edited checkpoint file
    forged = {**cp, "last_hash": db.get(AuditEntry, 4).hash}
    assert "signature" in (audit.verify(db, checkpoint=forged).reason or "")


def test_checkpoint_catches_a_cut_tail_with_a_rewritten_head(db):
    _make_history(db)
    cp = audit.checkpoint(db)
    db.execute(text("DELETE FROM audit_log WHERE id = 4"))
    row3 = db.get(AuditEntry, 3)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=3, last_hash=row3.hash))
    db.commit()
    assert audit.verify(db).ok  # the head was moved back with the cut: only the checkpoint knows
    result = audit.verify(db, checkpoint=cp)
    assert not result.ok and "rows cut" in (result.reason or "")


def test_unkeyed_rows_before_keys_verify_as_unkeyed_and_keys_rotate(db, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(audit, "_current", [])  # a process of the days before keys
        event = events.create(db=db, data=EventCreate(code="A3", name="旧", kind="other"))
        db.commit()
    assert db.execute(select(AuditEntry.key_id)).scalars().all() == [None]
    events.update(db=db, event=event, data=EventUpdate(name="新"))  # signed with KEY
    db.commit()
    newer = audit.use_keys(["a-newer-audit-key-0123456789", KEY])  # rotation: the newest first
    events.update(db=db, event=event, data=EventUpdate(name="更新"))
    db.commit()
    assert db.execute(select(AuditEntry.key_id).order_by(AuditEntry.id)).scalars().all() == [
        None, audit.AuditKey.of(KEY).id, newer.id]
    result = audit.verify(db)
    assert result.ok and (result.unkeyed, result.keyed) == (1, 2)
    with monkeypatch.context() as m:  # a writer without the key cannot extend a keyed chain
        m.setattr(audit, "_current", [])
        with pytest.raises(audit.AuditKeyMissing):
            events.update(db=db, event=event, data=EventUpdate(name="无钥"))
        db.rollback()


def test_cli_verify_reports_keyed_unkeyed_and_checks_a_checkpoint(anbao, sessions, tmp_path):
    with sessions() as db:
        db.info["actor"] = "test"
        _make_history(db)
    cp = tmp_path / "cp.json"
    r = anbao("audit", "checkpoint", "--out", str(cp))
    assert r.exit_code == 0, r.output
    assert json.loads(cp.read_text())["last_id"] == 4
    r = anbao("audit", "verify", "--checkpoint", str(cp))
    assert r.exit_code == 0 and "4 rows verified with a key, 0 unkeyed rows" in r.output and "row 4" in r.output
    with sessions() as db:
        _rewrite_from(db, 2, key=None, key_id=None)
    r = anbao("audit", "verify")
    assert r.exit_code == 1 and "BROKEN at row 2" in r.output and "1 rows verified with a key" in r.output


def test_password_hash_never_reaches_the_log(db):
    accounts.create(db=db, data=UserCreate(username="alice", password="correct horse", role="planner"))
    db.commit()
    row = db.execute(select(AuditEntry).where(AuditEntry.entity == "app_user")).scalar_one()
    assert row.after["password_hash"].startswith("[redacted:")
    assert "argon2" not in str(row.after)


def test_head_tracks_last_row(db):
    _make_history(db)
    head = db.get(AuditHead, 1)
    last = db.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert head.last_id == last.id == 4 and head.last_hash == last.hash


def test_created_rows_carry_their_id(db):
    event = events.create(db=db, data=EventCreate(code="A2", name="x", kind="other"))
    db.commit()
    row = db.execute(select(AuditEntry).where(AuditEntry.entity == "event")).scalar_one()
    assert row.entity_id == str(event.id)


def test_failed_and_blocked_logins_are_audited(client, login, sessions):
    login("officer")
    for _ in range(6):
        client.post("/api/v1/auth/login", json={"username": "officer", "password": "wrong-wrong"},
                    headers={"X-Request-ID": "r" * 200})
    with sessions() as db:
        actions = [r.action for r in db.execute(select(AuditEntry).where(AuditEntry.entity_id == "officer")
                                                .order_by(AuditEntry.id)).scalars()]
        assert actions == ["login_failed"] * 5 + ["login_blocked"]
        assert audit.verify(db).ok


def _person_history(client, login):
    planner = login("planner")
    ev = client.post("/api/v1/events", json={"code": "PD", "name": "个人信息", "kind": "concert"},
                     headers=planner).json()["id"]
    r = client.post(f"/api/v1/events/{ev}/persons", json={"name": "张三", "badge_no": "110119", "phone": "13800001111"},
                    headers=planner)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert client.patch(f"/api/v1/events/{ev}/persons/{pid}", json={"phone": "13900002222"},
                        headers=planner).status_code == 200
    return ev


def _log_reads(sessions):
    with sessions() as db:
        return db.execute(select(AuditEntry).where(AuditEntry.entity == "audit_log")).scalars().all()


def test_auditor_sees_personal_fields_redacted(client, login, sessions):
    """Defect 4: the auditor (no person:read) got names, badges and phones from the audit log."""
    _person_history(client, login)
    r = client.get("/api/v1/audit?entity=person", headers=login("auditor"))
    assert r.status_code == 200, r.text
    body = json.dumps(r.json(), ensure_ascii=False)
    assert "张三" not in body and "110119" not in body and "13800001111" not in body and "13900002222" not in body
    create = next(e for e in r.json() if e["action"] == "create")
    assert create["redacted"] and create["after"]["name"] == audit.PERSONAL_MARK
    assert create["after"]["badge_no"] == audit.PERSONAL_MARK and create["after"]["skills"] == []
    update_ = next(e for e in r.json() if e["action"] == "update")
    assert update_["before"] == {"phone": audit.PERSONAL_MARK} and update_["after"]["phone"] == audit.PERSONAL_MARK
    assert _log_reads(sessions) == []  # nothing personal was shown: nothing to audit
    users = client.get("/api/v1/audit?entity=app_user", headers=login("auditor")).json()
    assert all(e["after"]["display_name"] == audit.PERSONAL_MARK for e in users if e["action"] == "create")


def test_a_read_of_the_log_that_shows_personal_data_is_audited(client, login, sessions):
    _person_history(client, login)
    commander = login("commander")  # audit:read and person:read
    r = client.get("/api/v1/audit?entity=person", headers=commander)
    assert r.status_code == 200 and "张三" in r.text
    shown = [e["id"] for e in r.json() if e["action"] in ("create", "update")]
    reads = _log_reads(sessions)
    assert len(reads) == 1 and reads[0].actor == "user:commander" and reads[0].action == "read"
    assert reads[0].after["ids"] == shown and reads[0].after["count"] == 2
    with sessions() as db:
        assert audit.verify(db).ok


def test_a_process_with_another_key_refuses_to_start(anbao, sessions, monkeypatch):
    """A replica or command that made up its own key would sign rows no other process can verify."""
    with sessions() as db:
        db.info["actor"] = "test"
        _make_history(db)
    monkeypatch.setattr(audit, "_keys", {})  # this process knows only the key of its own (new) state folder
    monkeypatch.setattr(audit, "_current", [])
    r = anbao("events", "list")
    assert r.exit_code == 2 and "signed with key" in r.output and "ANBAO_AUDIT_KEY" in r.output, r.output
    monkeypatch.setenv("ANBAO_AUDIT_KEY", KEY)  # the installation's key: it starts
    from anbao.config import get_settings

    get_settings.cache_clear()
    assert anbao("events", "list").exit_code == 0
