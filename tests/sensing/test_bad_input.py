"""Bad input is refused item by item with a reason; what was accepted stays (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from anbao.core.db import transaction
from anbao.core.errors import Invalid
from anbao.sensing import service
from anbao.sensing.models import Reading
from tests.sensing.conftest import build_site


def _at(seconds_ago: float = 5) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


@pytest.fixture
def kinds_site(sessions):
    return build_site(sessions, {"C1": "video_count", "W1": "wifi_probe", "G1": "gas", "T1": "temperature"})


def _ingest(sessions, site, items=None, body=None, content_type="application/json"):
    with transaction(sessions, actor="test") as db:
        if body is not None:
            return service.ingest_body(db=db, event_id=site.event_id, body=body, content_type=content_type)
        return service.ingest(db=db, event_id=site.event_id, items=items)


def test_impossible_values_are_refused(sessions, kinds_site):
    items = [
        {"sensor": "C1", "at": _at(), "value": -3},  # negative head count
        {"sensor": "C1", "at": _at(), "value": 130_000},  # 13 persons/m2 in 10,000 m2
        {"sensor": "C1", "at": _at(), "value": 120_000},  # exactly 12: the densest crowd there is
        {"sensor": "G1", "at": _at(), "values": {"co_ppm": -1.0}},
        {"sensor": "T1", "at": _at(), "value": -12.5},  # a temperature may be negative
        {"sensor": "C1", "at": _at(), "value": 10, "values": {"density": 12.5}},
        {"sensor": "W1", "at": _at(), "value": 90_000},  # probes see devices beyond the zone: no bound
    ]
    out = _ingest(sessions, kinds_site, items)
    why = {r["index"]: (r["loc"], r["msg"]) for r in out.rejected}
    assert sorted(why) == [0, 1, 3, 5] and out.accepted == 3
    assert why[0] == (["body", 0, "value"], "value -3 is negative; this device measures counts or levels")
    assert why[1][0] == ["body", 1, "value"] and "13.0 persons/m², over 12" in why[1][1]
    assert why[3][0] == ["body", 3, "values"] and "values.co_ppm -1 is negative" in why[3][1]
    assert "values.density 12.5" in why[5][1]


def test_times_far_off_and_malformed_are_refused(sessions, kinds_site):
    items = [
        {"sensor": "C1", "at": _at(8 * 86400), "value": 1},  # 8 days old
        {"sensor": "C1", "at": _at(-600), "value": 1},  # 10 minutes ahead
        {"sensor": "C1", "at": "yesterday", "value": 1},
        {"sensor": "C1", "at": "2026-11-24T10:00:00", "value": 1},  # no offset
        {"sensor": "C1", "at": _at(6 * 86400), "value": 1},  # 6 days old: a late upload is fine
        {"sensor": "C1", "at": _at(), "value": float("nan")},
        {"sensor": "C1", "at": _at(), "value": 1, "colour": "red"},
        "C1=5",
        {"sensor": "", "at": _at(), "value": 1},
    ]
    out = _ingest(sessions, kinds_site, items)
    why = {r["index"]: (r["loc"], r["msg"]) for r in out.rejected}
    assert out.accepted == 1 and sorted(why) == [0, 1, 2, 3, 5, 6, 7, 8]
    assert "more than 7 days old" in why[0][1] and "in the future" in why[1][1]
    assert why[2][0] == ["body", 2, "at"] and "ISO 8601" in why[2][1]
    assert why[3] == (["body", 3, "at"], "Input should have timezone info")
    assert why[5][0] == ["body", 5, "value"] and "finite" in why[5][1]
    assert why[6][0] == ["body", 6, "colour"] and "Extra inputs" in why[6][1]
    assert why[7][0] == ["body", 7]
    assert why[8][0] == ["body", 8, "sensor"]


def test_times_in_any_offset_are_stored_in_utc(sessions, kinds_site):
    now = datetime.now(UTC).replace(microsecond=250_000) - timedelta(seconds=30)
    beijing, new_york = timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))
    items = [{"sensor": "C1", "at": now.isoformat().replace("+00:00", "Z"), "value": 1},
             {"sensor": "W1", "at": now.astimezone(beijing).isoformat(), "value": 2},
             {"sensor": "G1", "at": now.astimezone(new_york).isoformat(timespec="milliseconds"), "value": 3},
             {"sensor": "T1", "at": now.astimezone(beijing), "value": 4}]  # a datetime from Python callers
    assert _ingest(sessions, kinds_site, items).accepted == 4
    with sessions() as db:
        ats = db.execute(select(Reading.at).order_by(Reading.id)).scalars().all()
    assert ats == [now, now, now, now]


def test_body_forms_and_batch_limit(sessions, kinds_site):
    good = f'{{"sensor": "C1", "at": "{_at()}", "value": 7}}'.encode()
    out = _ingest(sessions, kinds_site, body=b'{"readings": [' + good + b', {"sensor": "NOPE"}]}')
    assert out.accepted == 1 and [r["index"] for r in out.rejected] == [1]
    out = _ingest(sessions, kinds_site, body=b"\n" + good + b"\n\nnot json\n" + good + b"\n",
                  content_type="application/x-ndjson")
    assert out.accepted == 2 and out.rejected[0]["index"] == 1 and "line is not JSON" in out.rejected[0]["msg"]
    with pytest.raises(Invalid, match="at most"):
        _ingest(sessions, kinds_site, body=b"[" + b",".join([good] * (service.MAX_BATCH + 1)) + b"]")
    with sessions() as db:
        assert db.execute(select(func.count()).select_from(Reading)).scalar_one() == 3


def test_a_retry_of_a_partly_stored_batch_stores_the_rest_once(sessions, kinds_site):
    batch = [{"sensor": "C1", "at": _at(10 - k), "value": k, "idempotency_key": f"k{k}"} for k in range(6)]
    first = _ingest(sessions, kinds_site, batch[:4] + [batch[1]])
    assert (first.accepted, first.duplicates) == (4, 1)
    again = _ingest(sessions, kinds_site, batch)
    assert (again.accepted, again.duplicates) == (2, 4)
    with sessions() as db:
        assert db.execute(select(func.count()).select_from(Reading)).scalar_one() == 6
