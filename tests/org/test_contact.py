"""Contact details 联系方式 by role (issue 13 item 17, docs/access.md): commander, planner and admin see every
phone; a dispatcher those of units on duty; an officer those of his own units; everybody else (partner
agencies) a masked number (138****1234). Every read is audited, naming the phones shown in clear."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anbao.account import service as accounts
from anbao.core.audit import AuditEntry
from anbao.core.auth import ROLE_PERMISSIONS, Perm, Role
from anbao.org.service import CONTACT_ALL, mask_phone
from tests.factories import created, person_body, unit_body, url

PHONE = "13812341234"
MASKED = "138****1234"


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812341234", "138****1234"), ("+86 138-1234-1234", "+86 1**-****-1234"), ("0755-1234567", "075*-***4567"),
    ("1234567", "*****67"), ("", ""),
])
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_every_role_that_writes_people_sees_their_phones() -> None:
    # create and change answer with the stored phone: only roles that see every phone may write people
    assert {r for r, perms in ROLE_PERMISSIONS.items() if Perm.person_write in perms} <= CONTACT_ALL


@pytest.fixture
def world(client: Any, planner: dict[str, str], ev: int, login: Any, sessions: Any) -> dict[str, Any]:
    """Units on duty (ON), resting (OFF), the officer's own (MINE) and the fire brigade's shared one (FIRE),
    one person in each and one without a unit; the officer linked to MINE; the event shared with 消防."""
    assert client.patch(f"/api/v1/events/{ev}", json={"shared_agencies": ["消防"]}, headers=planner).status_code == 200
    units = {code: created(client, url(ev, "units"), unit_body(code, **extra), planner)["id"] for code, extra in (
        ("ON", {}), ("OFF", {"status": "off_duty"}), ("MINE", {"status": "busy"}),
        ("FIRE", {"agency": "消防"}))}
    people = {code: created(client, url(ev, "persons"), person_body(f"P-{code}", uid, phone=PHONE), planner)["id"]
              for code, uid in units.items()}
    people["NONE"] = created(client, url(ev, "persons"), person_body("P-NONE", None, phone=PHONE), planner)["id"]
    headers = {role: login(role) for role in ("commander", "admin", "dispatcher", "officer", "analyst", "auditor")}
    headers["planner"] = planner
    headers["partner"] = login("partner", agency="消防")
    with sessions() as s:
        officer_id = accounts.get_by_username(db=s, username="officer").id
    assert client.put(f"/api/v1/users/{officer_id}/units/{units['MINE']}", headers=planner).status_code == 200
    return {"units": units, "people": people, "headers": headers}


#: role -> the people whose phone it sees in clear (of those it sees at all)
CLEAR = {
    "commander": {"ON", "OFF", "MINE", "FIRE", "NONE"},
    "planner": {"ON", "OFF", "MINE", "FIRE", "NONE"},
    "admin": {"ON", "OFF", "MINE", "FIRE", "NONE"},
    "dispatcher": {"ON", "MINE", "FIRE"},  # on duty: not the resting unit, nor people without a unit
    "officer": {"MINE"},
    "partner": set(),
}


def _reads(sessions: Any) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.entity == "person")
                              .order_by(AuditEntry.id)).scalars())


@pytest.mark.parametrize("role", sorted(CLEAR))
def test_phones_by_role_on_the_list_and_the_detail_and_every_read_audited(
        client: Any, ev: int, world: dict[str, Any], sessions: Any, role: str) -> None:
    by_id = {pid: code for code, pid in world["people"].items()}
    headers = world["headers"][role]
    before = len(_reads(sessions))
    r = client.get(url(ev, "persons"), headers=headers)
    assert r.status_code == 200, r.text
    listed = {by_id[p["id"]]: p for p in r.json()}
    if role == "partner":
        assert set(listed) == {"FIRE"}  # the people of its agency's units only (docs/access.md)
    else:
        assert set(listed) == set(world["people"])
    for code, p in listed.items():
        clear = code in CLEAR[role]
        assert (p["phone"], p["phone_masked"]) == ((PHONE, False) if clear else (MASKED, True)), (role, code)
    reads = _reads(sessions)[before:]
    assert len(reads) == 1
    assert sorted(reads[0].after["contact"]) == sorted(world["people"][c] for c in listed if c in CLEAR[role])

    for code in listed:  # the detail follows the same rule, and is audited the same way
        one = client.get(url(ev, "persons", world["people"][code]), headers=headers)
        assert one.status_code == 200
        assert one.json()["phone"] == (PHONE if code in CLEAR[role] else MASKED), (role, code)
        last = _reads(sessions)[-1]
        assert last.after["ids"] == [world["people"][code]]
        assert last.after["contact"] == ([world["people"][code]] if code in CLEAR[role] else [])


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_roles_without_person_read_get_no_people_at_all(client: Any, ev: int, world: dict[str, Any],
                                                        role: str) -> None:
    r = client.get(url(ev, "persons"), headers=world["headers"][role])
    assert r.status_code == 403 and "person:read" in r.json()["detail"]


def test_a_unit_going_off_duty_masks_its_phones_for_the_dispatcher(client: Any, ev: int, planner: dict[str, str],
                                                                   world: dict[str, Any]) -> None:
    pid, headers = world["people"]["ON"], world["headers"]["dispatcher"]
    assert client.get(url(ev, "persons", pid), headers=headers).json()["phone"] == PHONE
    r = client.patch(url(ev, "units", world["units"]["ON"]), json={"status": "off_duty"}, headers=planner)
    assert r.status_code == 200
    assert client.get(url(ev, "persons", pid), headers=headers).json()["phone"] == MASKED


def test_the_officer_roles_are_the_ones_the_rule_names() -> None:
    assert {Role.commander, Role.planner, Role.admin} == CONTACT_ALL
