from sqlalchemy import select, text, update

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.core import audit
from anbao.core.audit import AuditEntry, AuditHead
from anbao.event import service as events
from anbao.event.schemas import EventCreate, EventUpdate


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
    forged = audit.row_hash(prev_hash=row.prev_hash, **fields)
    db.execute(update(AuditEntry).where(AuditEntry.id == 2).values(actor="user:forger", hash=forged))
    db.commit()
    result = audit.verify(db)
    assert not result.ok and result.broken_id == 3


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
