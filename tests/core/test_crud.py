"""Batch creation: one uniqueness query, one flush, all or nothing."""

import pytest
from sqlalchemy import func, select

from anbao.core import crud
from anbao.core.audit import AuditEntry
from anbao.core.errors import Invalid
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.venue import service as venues
from anbao.venue.models import Device


def _setup(db):
    ev = events.create(db=db, data=EventCreate(code="C1", name="x", kind="other"))
    venue = crud.create_row(db=db, kind=venues.VENUES, event_id=ev.id, data={"code": "V", "name": "v",
                                                                           "crs": "local"})
    db.commit()
    return ev.id, venue.id


def _dev(venue_id, code, lon=1.0):
    return {"venue_id": venue_id, "code": code, "name": code, "kind": "smoke", "lon": lon, "lat": 2.0}


def test_batch_creates_all_and_audits_each(db):
    eid, vid = _setup(db)
    rows = crud.create_rows(db=db, kind=venues.DEVICES, event_id=eid, items=[_dev(vid, f"D{i}") for i in range(5)])
    db.commit()
    assert [r.code for r in rows] == ["D0", "D1", "D2", "D3", "D4"] and all(r.id for r in rows)
    n = db.execute(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "device")).scalar()
    assert n == 5


@pytest.mark.parametrize(
    ("items", "loc", "fragment"),
    [
        (lambda v: [_dev(v, "A"), _dev(v, "A")], [1, "code"], "twice"),
        (lambda v: [_dev(v, "B"), _dev(v, "EXISTING")], [1, "code"], "already exists"),
        (lambda v: [_dev(v, "B"), _dev(v, "C"), {**_dev(v, "D"), "venue_id": 999}], [2, "venue_id"], "does not exist"),
    ],
)
def test_bad_item_rejects_the_batch(db, items, loc, fragment):
    eid, vid = _setup(db)
    crud.create_row(db=db, kind=venues.DEVICES, event_id=eid, data=_dev(vid, "EXISTING"))
    db.commit()
    with pytest.raises(Invalid) as info:
        crud.create_rows(db=db, kind=venues.DEVICES, event_id=eid, items=items(vid))
    db.rollback()
    assert info.value.loc == loc and fragment in info.value.message
    assert db.execute(select(func.count()).select_from(Device)).scalar() == 1
