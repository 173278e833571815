"""CAP 1.2 import: external alerts become warnings; Update and Cancel follow them; bad messages are refused.

Service tests call :func:`anbao.alert.cap_import.import_cap` on each backend; route tests post raw XML to
``POST /api/v1/events/{id}/cap-alerts`` (the module's ``client`` mounts the router if app.py does not yet).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount

from anbao.alert import cap, cap_import, cap_views, service
from anbao.alert.models import EarlyWarning
from anbao.api.deps import reject_unknown_query
from anbao.app import create_app
from anbao.core.errors import Conflict, Invalid, NotFound
from anbao.venue.models import Zone
from tests.factories_cli import small_collection

DATA = Path(__file__).resolve().parent.parent / "data" / "cap"
EXAMPLE = (DATA / "cap_amber_alert_example.xml").read_bytes()
XSD = xmlschema.XMLSchema(str(DATA / "CAP-v1.2.xsd"))
SENDER = "zjqxt@cma.gov.cn"  # 浙江省气象台
ROUTE = "/events/{event_id}/cap-alerts"


def _has_route(routes) -> bool:
    for r in routes:
        if getattr(r, "path", "").endswith(ROUTE) and not isinstance(r, Mount):
            return True
        inner = getattr(r, "original_router", None)
        if inner is not None and _has_route(inner.routes):
            return True
    return False


@pytest.fixture
def client(sessions, settings):
    """The app, with the CAP import router mounted under /api/v1 unless app.py already includes it."""
    app = create_app(settings)
    if not _has_route(app.router.routes):
        api = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query)])
        api.include_router(cap_views.router)
        web = next(i for i, r in enumerate(app.router.routes) if isinstance(r, Mount) and r.path == "")
        app.include_router(api)
        app.router.routes.insert(web, app.router.routes.pop())  # before the static web UI mounted at "/"
    with TestClient(app) as c:
        yield c


@pytest.fixture
def site(client, login):
    """Two events with the same venue (zones Z1 场馆 and Z2 内场); ids and the zone ids by code."""
    h = login("planner")
    out = []
    for code in ("A", "B"):
        ev = client.post("/api/v1/events", json={"code": code, "name": f"活动{code}", "kind": "concert"},
                         headers=h).json()
        r = client.post(f"/api/v1/events/{ev['id']}/venue-import", json=small_collection(), headers=h)
        assert r.status_code == 200, r.text
        out.append(ev["id"])
    return out


def zones(sessions, event_id: int) -> dict[str, int]:
    with sessions() as db:
        return {z.code: z.id for z in db.execute(select(Zone).where(Zone.event_id == event_id)).scalars()}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def msg(identifier: str, level: cap.Level = cap.Level.yellow, *, area: str = "内场", sent: datetime | None = None,
        msg_type: cap.MsgType = cap.MsgType.alert, references=(), **kw) -> cap.CapAlert:
    fields = {"headline": f"内场{level.label}预警", "description": f"{area}人群聚集，{level.warning_title}。"}
    fields.update(kw)
    return cap.warning_to_cap(identifier=identifier, sender=SENDER, sent=sent or now(), level=level,
                              event_type="人群聚集", area_desc=area, msg_type=msg_type, references=references,
                              **fields)


def run(sessions, event_id: int, alert: cap.CapAlert, at: datetime | None = None) -> cap_import.Imported:
    """Import in a session of its own, committed like the route does."""
    with sessions() as db:
        db.info["actor"] = "test"
        out = cap_import.import_cap(db=db, event_id=event_id, alert=alert, now=at or now())
        db.commit()
        return out


def count(sessions, event_id: int) -> int:
    with sessions() as db:
        return db.execute(select(func.count()).select_from(EarlyWarning)
                          .where(EarlyWarning.event_id == event_id)).scalar_one()


# --------------------------------------------------------------------------------------------------- service


def test_official_example_opens_an_external_warning(sessions, site):
    a, _b = site
    alert = cap.from_xml(EXAMPLE)
    with sessions() as db:
        db.info["actor"] = "test"
        w = cap_import.import_alert(db=db, event_id=a, alert=alert, now=now())
        db.commit()
        assert (w.kind, w.level, w.status, w.exercise, w.zone_id) == ("external", "orange", "active", False, None)
        assert w.key == "cap:KARO@CLETS.DOJ.CA.GOV:KAR0-0306112239-SW"
        assert w.forecast is True  # certainty Likely: not observed
        assert w.message.startswith("DATE/TIME: 06/11/03, 1915 HRS.") and len(w.message) <= 300
        assert w.message.endswith("…（区域：Los Angeles County）")  # no zone of the event matches: area named


def test_example_area_matches_a_zone_name_and_exercise_is_kept(sessions, site):
    a, _b = site
    z2 = zones(sessions, a)["Z2"]
    with sessions() as db:
        db.info["actor"] = "test"
        db.get(Zone, z2).name = "Los Angeles County"
        db.commit()
    drill = cap.from_xml(EXAMPLE.replace(b"<status>Actual</status>", b"<status>Exercise</status>"))
    w = run(sessions, a, drill).warning
    assert (w.zone_id, w.exercise, w.level) == (z2, True, "orange")
    assert "区域" not in w.message and w.message.startswith("DATE/TIME")


def test_zone_matched_by_code_and_message_from_description_or_headline(sessions, site):
    a, _b = site
    z = zones(sessions, a)
    w = run(sessions, a, msg("X-1", area="Z1")).warning
    assert (w.zone_id, w.message) == (z["Z1"], "Z1人群聚集，黄色预警（三级）。")
    w = run(sessions, a, msg("X-2", description=None)).warning
    assert (w.zone_id, w.message) == (z["Z2"], "内场黄色预警")
    w = run(sessions, a, msg("X-3", area="北广场", description="  ")).warning
    assert (w.zone_id, w.message) == (None, "内场黄色预警（区域：北广场）")


def test_update_moves_the_level_and_cancel_closes(sessions, site):
    a, _b = site
    z = zones(sessions, a)
    t0 = now() - timedelta(minutes=10)
    first = msg("QX-1", cap.Level.yellow, sent=t0)
    opened = run(sessions, a, first, t0)
    assert opened.created and opened.action == "opened"
    w0 = opened.warning

    up = msg("QX-2", cap.Level.orange, sent=t0 + timedelta(minutes=1), msg_type=cap.MsgType.update,
             references=[first])
    moved = run(sessions, a, up, t0 + timedelta(minutes=1))
    assert (moved.action, moved.warning.id, moved.warning.level, moved.warning.peak_level) == \
        ("updated", w0.id, "orange", "orange")
    assert moved.warning.message == "内场人群聚集，橙色预警（二级）。"

    with sessions() as db:
        db.info["actor"] = "test"
        service.acknowledge(db=db, warning=db.get(EarlyWarning, w0.id), by="user:dispatcher", comment="", now=now())
        db.commit()
    # a later update may reference the whole chain; it lowers the level and moves the area to Z1
    down = msg("QX-3", cap.Level.blue, area="场馆", sent=t0 + timedelta(minutes=2), msg_type=cap.MsgType.update,
               references=[first, up])
    w = run(sessions, a, down, t0 + timedelta(minutes=2)).warning
    assert (w.id, w.level, w.peak_level, w.status, w.zone_id) == (w0.id, "blue", "orange", "acknowledged", z["Z1"])
    rise = msg("QX-4", cap.Level.red, sent=t0 + timedelta(minutes=3), msg_type=cap.MsgType.update,
               references=[first])
    w = run(sessions, a, rise, t0 + timedelta(minutes=3)).warning
    assert (w.level, w.status, w.zone_id) == ("red", "active", z["Z2"])  # a rise needs a new acknowledgement

    cancel = cap.CapAlert(identifier="QX-5", sender=SENDER, sent=t0 + timedelta(minutes=4),
                          status=cap.Status.actual, msg_type=cap.MsgType.cancel, scope=cap.Scope.public, infos=[],
                          references=[cap.reference(first), cap.reference(rise)], note="降雨结束，解除预警")
    closed = run(sessions, a, cancel, t0 + timedelta(minutes=4))
    w = closed.warning
    assert (closed.action, closed.created, w.id, w.status, w.closed_by) == \
        ("closed", False, w0.id, "closed", f"cap:{SENDER}")
    assert "CAP 解除" in w.comment and "降雨结束，解除预警" in w.comment
    assert count(sessions, a) == 1

    with pytest.raises(Conflict) as exc:
        run(sessions, a, cancel)
    assert exc.value.loc == ["body", "references"] and "already closed" in exc.value.message

    # an update after the warning was closed still stands: a new warning under the same chain
    late = msg("QX-6", cap.Level.orange, msg_type=cap.MsgType.update, references=[first])
    again = run(sessions, a, late)
    assert again.created and again.warning.id != w0.id and again.warning.key == w0.key
    assert count(sessions, a) == 2


def test_update_with_unknown_reference_opens_a_warning_that_later_messages_find(sessions, site):
    a, _b = site
    ref = f"{SENDER},QX-0,2026-11-24T08:00:00+08:00"  # the original never reached AnBao
    up = msg("QX-9", cap.Level.orange, msg_type=cap.MsgType.update, references=[ref])
    opened = run(sessions, a, up)
    assert opened.created and opened.warning.key == f"cap:{SENDER}:QX-0"
    up2 = msg("QX-10", cap.Level.red, msg_type=cap.MsgType.update, references=[ref])
    moved = run(sessions, a, up2)
    assert (moved.action, moved.warning.id, moved.warning.level) == ("updated", opened.warning.id, "red")


def test_cancel_of_every_referenced_warning(sessions, site):
    a, _b = site
    one, two = msg("M-1"), msg("M-2", cap.Level.red)
    w1, w2 = run(sessions, a, one).warning, run(sessions, a, two).warning
    cancel = cap.CapAlert(identifier="M-3", sender=SENDER, sent=now(), status=cap.Status.actual,
                          msg_type=cap.MsgType.cancel, scope=cap.Scope.public, infos=[],
                          references=[cap.reference(one), cap.reference(two)])
    out = run(sessions, a, cancel)
    assert sorted(w.id for w in out.closed) == sorted([w1.id, w2.id])
    assert all(w.status == "closed" for w in out.closed)


@pytest.mark.parametrize(("status", "why"), [("Test", "testing the link"), ("Draft", "not issued"),
                                             ("System", "carries no warning")])
def test_test_draft_and_system_messages_are_refused(sessions, site, status, why):
    a, _b = site
    alert = replace(msg("S-1"), status=cap.Status(status))
    with pytest.raises(Invalid) as exc:
        run(sessions, a, alert)
    assert exc.value.loc == ["body", "status"] and why in exc.value.message and status in exc.value.message
    assert count(sessions, a) == 0


@pytest.mark.parametrize("msg_type", [cap.MsgType.ack, cap.MsgType.error])
def test_ack_and_error_messages_are_refused(sessions, site, msg_type):
    a, _b = site
    alert = msg("K-1", msg_type=msg_type, references=[f"{SENDER},K-0,2026-11-24T08:00:00+08:00"])
    with pytest.raises(Invalid) as exc:
        run(sessions, a, alert)
    assert exc.value.loc == ["body", "msgType"]


def test_expired_alert_is_refused_but_an_info_still_in_force_counts(sessions, site):
    a, _b = site
    t = now()
    with pytest.raises(Invalid) as exc:
        run(sessions, a, msg("E-1", expires=t - timedelta(minutes=1)), t)
    assert exc.value.loc == ["body", "info", 0, "expires"] and "expired" in exc.value.message
    with pytest.raises(Invalid):
        run(sessions, a, msg("E-2", expires=t), t)  # expiring now is expired
    assert count(sessions, a) == 0

    # two infos: the expired red one does not count, the yellow one in force does
    red = msg("E-3", cap.Level.red, expires=t - timedelta(minutes=1)).infos[0]
    yellow = msg("E-3", cap.Level.yellow, expires=t + timedelta(hours=1)).infos[0]
    alert = replace(msg("E-3"), infos=[red, yellow])
    assert run(sessions, a, alert, t).warning.level == "yellow"


def test_most_serious_info_wins_and_chinese_breaks_ties(sessions, site):
    a, _b = site
    base = msg("L-1")
    en = replace(base.infos[0], language="en-US", description="Crowding in the arena", parameters=[])
    zh_red = msg("L-1", cap.Level.red).infos[0]
    en_red = replace(zh_red, language="en-US", description="Red warning")
    w = run(sessions, a, replace(base, infos=[en, en_red, base.infos[0], zh_red])).warning
    assert (w.level, w.message) == ("red", "内场人群聚集，红色预警（一级）。")


def test_unknown_severity_without_level_and_alert_without_info_are_refused(sessions, site):
    a, _b = site
    base = msg("U-1")
    unknown = replace(base.infos[0], severity=cap.Severity.unknown, parameters=[])
    with pytest.raises(Invalid) as exc:
        run(sessions, a, replace(base, infos=[unknown]))
    assert exc.value.loc == ["body", "info", 0, "severity"] and "Unknown" in exc.value.message
    with pytest.raises(Invalid) as exc:
        run(sessions, a, replace(base, infos=[]))
    assert exc.value.loc == ["body", "info"]


def test_same_alert_twice_is_a_conflict(sessions, site):
    a, b = site
    alert = msg("D-1")
    w = run(sessions, a, alert).warning
    with pytest.raises(Conflict) as exc:
        run(sessions, a, alert)
    assert exc.value.loc == ["body", "identifier"] and f"warning {w.id}" in exc.value.message
    assert run(sessions, b, alert).created  # another event is another warning list


def test_cancel_needs_a_known_reference_of_the_same_sender(sessions, site):
    a, _b = site
    original = msg("C-1")
    run(sessions, a, original)
    forged = cap.CapAlert(identifier="C-2", sender="someone@else.example", sent=now(), status=cap.Status.actual,
                          msg_type=cap.MsgType.cancel, scope=cap.Scope.public, infos=[],
                          references=[cap.reference(original)])
    with pytest.raises(NotFound) as exc:
        run(sessions, a, forged)
    assert exc.value.loc == ["body", "references"] and "same sender" in exc.value.message
    unknown = replace(forged, sender=SENDER, references=[f"{SENDER},C-0,2026-11-24T08:00:00+08:00"])
    with pytest.raises(NotFound):
        run(sessions, a, unknown)
    with sessions() as db:
        assert db.execute(select(EarlyWarning.status)).scalars().all() == ["active"]


def test_exercise_messages_only_touch_exercise_warnings(sessions, site):
    a, _b = site
    real = msg("R-1")
    run(sessions, a, real)
    drill_update = replace(msg("R-2", cap.Level.red, msg_type=cap.MsgType.update, references=[real]),
                           status=cap.Status.exercise)
    with pytest.raises(Conflict) as exc:
        run(sessions, a, drill_update)
    assert exc.value.loc == ["body", "status"] and "real warning" in exc.value.message


def test_long_keys_are_hashed_and_long_texts_cut_to_fit_the_columns(sessions, site):
    a, _b = site
    sender, identifier = "alerts." + "x" * 60 + "@example.org", "ID-" + "9" * 60
    key = cap_import.key_of(sender, identifier)
    assert len(key) <= 80 and key.startswith("cap:sha256,") and key == cap_import.key_of(sender, identifier)
    assert cap_import.key_of(SENDER, "A") == f"cap:{SENDER}:A"
    first = replace(msg(identifier, description="很长的预警内容。" * 100), sender=sender)
    w = run(sessions, a, first).warning  # PostgreSQL refuses a key > 80 or a message > 300
    assert w.key == key and len(w.message) == 300 and w.message.endswith("…")
    cancel = cap.CapAlert(identifier="Z", sender=sender, sent=now(), status=cap.Status.actual,
                          msg_type=cap.MsgType.cancel, scope=cap.Scope.public, infos=[],
                          references=[cap.reference(first)])
    assert run(sessions, a, cancel).warning.status == "closed"


def test_unknown_event_and_naive_now(sessions, site):
    with pytest.raises(NotFound):
        run(sessions, 999_999, msg("N-1"))
    with sessions() as db, pytest.raises(Invalid):
        cap_import.import_cap(db=db, event_id=site[0], alert=msg("N-2"), now=datetime(2026, 11, 24, 8))  # noqa: DTZ001


# ----------------------------------------------------------------------------------------------------- route


def post(client, event_id: int, body: bytes, headers, content_type: str = "application/cap+xml"):
    return client.post(f"/api/v1/events/{event_id}/cap-alerts", content=body,
                       headers={**headers, "Content-Type": content_type})


def test_route_imports_the_example_updates_and_cancels(client, login, sessions, site):
    a, _b = site
    gw, disp = login("gateway"), login("dispatcher")
    got = []
    client.app.state.bus.subscribe(f"event/{a}", got.append)
    r = post(client, a, EXAMPLE, gw)
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["kind"], w["level"], w["exercise"], w["zone_id"], w["status"]) == \
        ("external", "orange", False, None, "active")
    assert [x["id"] for x in client.get(f"/api/v1/events/{a}/warnings", headers=disp).json()] == [w["id"]]
    assert [m.payload["id"] for m in got] == [w["id"]]

    original = cap.from_xml(EXAMPLE)
    up = replace(original, identifier="KAR0-0306112239-SW-U", msg_type=cap.MsgType.update,
                 references=[cap.reference(original)], sent=now(),
                 infos=[replace(i, severity=cap.Severity.extreme) for i in original.infos])
    r = post(client, a, cap.to_xml(up), gw, "application/xml; charset=utf-8")
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["level"]) == (w["id"], "red")

    cancel = cap.CapAlert(identifier="KAR0-0306112239-SW-C", sender=original.sender, sent=now(),
                          status=cap.Status.actual, msg_type=cap.MsgType.cancel, scope=cap.Scope.public, infos=[],
                          references=[cap.reference(original), cap.reference(up)])
    r = post(client, a, cap.to_xml(cancel), gw)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["status"]) == (w["id"], "closed")
    assert [m.payload["level"] for m in got] == ["orange", "red", "red"]
    assert got[-1].payload["status"] == "closed"

    r = post(client, a, cap.to_xml(cancel), gw)
    assert r.status_code == 409 and "already closed" in r.json()["detail"]


@pytest.mark.parametrize("doctype", [
    b'<!DOCTYPE alert [<!ENTITY x "boom">]>',
    b'<!DOCTYPE alert SYSTEM "http://example.org/cap.dtd">',
    b'<!DOCTYPE alert [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
])
def test_route_refuses_dtds_and_entities(client, login, site, doctype):
    a, _b = site
    body = EXAMPLE.replace(b'<alert xmlns', doctype + b'\n<alert xmlns', 1)
    r = post(client, a, body, login("gateway"))
    assert r.status_code == 422, r.text
    [err] = r.json()["detail"]
    assert "DTDs and entities are not allowed" in err["msg"] and err["loc"] == ["body"]


def test_route_refuses_bad_bodies_with_clear_statuses(client, login, sessions, site):
    a, _b = site
    gw = login("gateway")
    r = post(client, a, b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", gw)
    assert r.status_code == 422 and "not well-formed" in r.json()["detail"][0]["msg"]
    r = post(client, a, EXAMPLE.replace(b"<status>Actual</status>", b"<status>Test</status>"), gw)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "status"]
    r = post(client, a, EXAMPLE.replace(b"<severity>Severe</severity>", b"<severity>Bad</severity>"), gw)
    assert r.status_code == 422 and "severity" in r.json()["detail"][0]["msg"]
    r = post(client, a, EXAMPLE, gw, "application/json")
    assert r.status_code == 415 and "application/cap+xml" in r.json()["detail"]
    big = EXAMPLE.replace(b"</alert>", b"<!--" + b"x" * (1024 * 1024) + b"--></alert>")
    r = post(client, a, big, gw)
    assert r.status_code == 413 and "1 MiB" in r.json()["detail"]
    assert count(sessions, a) == 0


def test_route_needs_the_sensing_write_permission(client, login, site):
    a, _b = site
    assert post(client, a, EXAMPLE, {}).status_code == 401
    r = post(client, a, EXAMPLE, login("planner"))
    assert r.status_code == 403 and "sensing:write" in r.json()["detail"]
    assert post(client, 999_999, EXAMPLE, login("gateway")).status_code == 404


def test_round_trip_export_then_import_into_another_event(client, login, sessions, site):
    """An AnBao warning exported as CAP (Alert, Update, Cancel) and imported into another event keeps its
    level, text, value, forecast and exercise flags; the zone is found again by name."""
    a, b = site
    gw, disp = login("gateway"), login("dispatcher")
    za, zb = zones(sessions, a), zones(sessions, b)
    t0 = now() - timedelta(minutes=5)
    with sessions() as db:
        db.info["actor"] = "test"
        w = service.raise_level(db=db, event_id=a, key=f"density:zone:{za['Z2']}", kind="density", level="orange",
                                now=t0, zone_id=za["Z2"], value=4.123, message="内场 人群密度 4.123 人/㎡，橙色预警。",
                                forecast=True, exercise=True)
        db.commit()
        wid = w.id

    def export() -> bytes:
        r = client.get(f"/api/v1/events/{a}/warnings/{wid}/cap", headers=disp)
        assert r.status_code == 200
        XSD.validate(r.content)
        return r.content

    r = post(client, b, export(), gw)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["level"], got["message"], got["value"], got["forecast"], got["exercise"], got["zone_id"]) == \
        ("orange", "内场 人群密度 4.123 人/㎡，橙色预警。", 4.123, True, True, zb["Z2"])

    with sessions() as db:
        db.info["actor"] = "test"
        service.raise_level(db=db, event_id=a, key=f"density:zone:{za['Z2']}", kind="density", level="red",
                            now=t0 + timedelta(minutes=1), zone_id=za["Z2"], value=5.2,
                            message="内场 人群密度 5.2 人/㎡，红色预警。", exercise=True)
        db.commit()
    update = export()
    assert cap.from_xml(update).msg_type == cap.MsgType.update
    r = post(client, b, update, gw)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["level"], r.json()["message"], r.json()["forecast"]) == \
        (got["id"], "red", "内场 人群密度 5.2 人/㎡，红色预警。", False)

    assert client.post(f"/api/v1/events/{a}/warnings/{wid}/close", json={"comment": "已疏导"},
                       headers=disp).status_code == 200
    cancel = export()
    assert cap.from_xml(cancel).msg_type == cap.MsgType.cancel
    r = post(client, b, cancel, gw)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["status"]) == (got["id"], "closed")


def test_reexport_keeps_scope_event_category_and_says_instruction_sender_expiry(client, login, sessions, site):
    """Issue 13 item 16: a Restricted drill alert was re-exported Public, without its event name, category,
    instruction, senderName or expiry, from anbao@localhost, with an English level; a Cancel repeated the
    original description instead of the closing comment."""
    a, _b = site
    gw, disp = login("gateway"), login("dispatcher")
    app = client.app.state
    app.settings = app.settings.model_copy(update={"cap_sender": "anbao@gaj.hangzhou.gov.cn",
                                                   "cap_sender_name": "杭州市公安局"})
    expires = now() + timedelta(hours=3)
    drill = msg("DRILL-1", cap.Level.orange, exercise=True, scope=cap.Scope.restricted,
                restriction="仅限指挥部及各分指挥部", categories=[cap.Category.security, cap.Category.rescue],
                instruction="按演练脚本执行，不得对外发布。", expires=expires)
    r = post(client, a, cap.to_xml(drill), gw)
    assert r.status_code == 201, r.text
    wid = r.json()["id"]

    out = client.get(f"/api/v1/events/{a}/warnings/{wid}/cap", headers=disp)
    XSD.validate(out.content)
    again = cap.from_xml(out.content)
    info = again.infos[0]
    assert (again.status, again.scope, again.restriction) == \
        (cap.Status.exercise, cap.Scope.restricted, "仅限指挥部及各分指挥部")
    assert (again.sender, info.sender_name) == ("anbao@gaj.hangzhou.gov.cn", "杭州市公安局")
    assert (info.event, info.categories) == ("人群聚集", [cap.Category.security, cap.Category.rescue])
    assert info.instruction == "按演练脚本执行，不得对外发布。" and info.expires == expires
    assert ("level", "橙色预警（二级）") in info.parameters and ("level_code", "orange") in info.parameters

    assert client.post(f"/api/v1/events/{a}/warnings/{wid}/close", json={"comment": "演练结束，人员已疏导"},
                       headers=disp).status_code == 200
    cancel = cap.from_xml(client.get(f"/api/v1/events/{a}/warnings/{wid}/cap", headers=disp).content)
    cinfo = cancel.infos[0]
    assert cancel.msg_type == cap.MsgType.cancel and cancel.scope == cap.Scope.restricted
    assert cinfo.description == "预警解除：演练结束，人员已疏导" and cinfo.headline.endswith("解除")
    assert cinfo.response_types == [cap.ResponseType.all_clear] and cinfo.expires == cancel.sent


def test_own_warning_exports_public_safety_with_instruction_and_a_default_sender_name(client, login, sessions, site):
    a, _b = site
    za = zones(sessions, a)
    t0 = now() - timedelta(minutes=5)
    with sessions() as db:
        db.info["actor"] = "test"
        w = service.raise_level(db=db, event_id=a, key=f"density:zone:{za['Z2']}", kind="density", level="red",
                                now=t0, zone_id=za["Z2"], value=5.1, message="内场 人群密度 5.1 人/㎡，红色预警。")
        db.commit()
        wid = w.id
    out = client.get(f"/api/v1/events/{a}/warnings/{wid}/cap", headers=login("dispatcher"))
    XSD.validate(out.content)
    alert = cap.from_xml(out.content)
    info = alert.infos[0]
    assert (alert.scope, alert.sender, info.categories, info.event) == \
        (cap.Scope.public, "anbao@localhost", [cap.Category.safety], "人群密度预警")
    assert info.sender_name == "活动A安保指挥部" and "不要拥挤" in (info.instruction or "")
    assert info.expires == t0 + timedelta(hours=12)
    assert ("level", "红色预警（一级）") in info.parameters
