"""Org services: the command tree rules, units and people, and partner scoping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import audit, crud
from anbao.core.auth import Principal, Role
from anbao.core.errors import Forbidden, Invalid, NotFound
from anbao.org.models import CommandNode, Person, Unit, UserUnit

#: which level may sit under which: 指挥部 → 工作组 / 现场分指挥部 → 执勤组
ALLOWED_PARENTS: dict[str, tuple[str | None, ...]] = {
    "hq": (None,),
    "hq_group": ("hq",),
    "site": ("hq",),
    "duty_group": ("site", "hq_group"),
}


def prepare_node(*, db: Session, event_id: int, data: dict[str, Any],
                 current: CommandNode | None) -> dict[str, Any]:
    level = data.get("level", current.level if current is not None else None)
    parent_id = data.get("parent_id", current.parent_id if current is not None else None)
    parent = crud.ref(db=db, kind=NODES, event_id=event_id, row_id=parent_id, field_name="parent_id")
    parent_level = parent.level if parent is not None else None
    allowed = ALLOWED_PARENTS[str(level)]
    if parent_level not in allowed:
        want = " or ".join("no parent" if a is None else a for a in allowed)
        raise Invalid(f"a {level} node needs {want} as parent, got {parent_level or 'no parent'}",
                      loc=["body", "parent_id"])
    if level == "hq" and current is None:
        existing = [n for n in crud.list_rows(db=db, kind=NODES, event_id=event_id) if n.level == "hq"]
        if existing:
            raise Invalid(f"the event already has a 指挥部 (hq) node {existing[0].code!r}", loc=["body", "level"])
    if "name" in data and data["name"] is None:
        raise Invalid("name cannot be null", loc=["body", "name"])
    return data


def prepare_unit(*, db: Session, event_id: int, data: dict[str, Any], current: Unit | None) -> dict[str, Any]:
    crud.ref(db=db, kind=NODES, event_id=event_id, row_id=data.get("command_node_id"),
             field_name="command_node_id")
    for key in ("name", "call_sign", "police_type", "status", "agency"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    return data


def prepare_person(*, db: Session, event_id: int, data: dict[str, Any],
                   current: Person | None) -> dict[str, Any]:
    crud.ref(db=db, kind=UNITS, event_id=event_id, row_id=data.get("unit_id"), field_name="unit_id")
    for key in ("name", "role", "phone"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    return data


def unit_visible(unit: Unit, *, agency: str | None) -> bool:
    """A partner sees its own agency's units and those shared with it."""
    return agency is None or unit.agency == agency or agency in (unit.shared_with or [])


def person_visible(db: Session, person: Person, *, agency: str | None) -> bool:
    if agency is None:
        return True
    unit = db.get(Unit, person.unit_id) if person.unit_id else None
    return unit is not None and unit_visible(unit, agency=agency)


NODES = crud.Kind(model=CommandNode, label="command node", prepare=prepare_node, order_by=("id",))
UNITS = crud.Kind(model=Unit, label="unit", prepare=prepare_unit, order_by=("code",))
PERSONS = crud.Kind(model=Person, label="person", unique="badge_no", prepare=prepare_person,
                    order_by=("unit_id", "id"))


def command_tree(*, db: Session, event_id: int, agency: str | None = None) -> list[dict[str, Any]]:
    """The command tree as nested dicts (roots first), each node with its units' codes and call signs."""
    nodes = crud.list_rows(db=db, kind=NODES, event_id=event_id, limit=100_000)
    units = [u for u in crud.list_rows(db=db, kind=UNITS, event_id=event_id, limit=100_000)
             if unit_visible(u, agency=agency)]
    by_id: dict[int, dict[str, Any]] = {
        n.id: {"id": n.id, "code": n.code, "name": n.name, "level": n.level, "leader": n.leader,
               "zone_codes": n.zone_codes, "units": [], "children": []} for n in nodes}
    for u in units:
        if u.command_node_id in by_id:
            by_id[u.command_node_id]["units"].append({"id": u.id, "code": u.code, "call_sign": u.call_sign,
                                                      "police_type": u.police_type, "status": u.status})
    roots: list[dict[str, Any]] = []
    for n in nodes:
        (by_id[n.parent_id]["children"] if n.parent_id in by_id else roots).append(by_id[n.id])
    return roots


# ---------------------------------------------------------------------------------------------- users and units


def user_units(*, db: Session, user_id: int, event_id: int | None = None) -> list[Unit]:
    """The units a login belongs to (``user_unit``), in one event or all, by event and code."""
    stmt = select(Unit).join(UserUnit, UserUnit.unit_id == Unit.id).where(UserUnit.user_id == user_id)
    if event_id is not None:
        stmt = stmt.where(Unit.event_id == event_id)
    return list(db.execute(stmt.order_by(Unit.event_id, Unit.code)).scalars())


def check_own_unit(*, db: Session, principal: Principal, event_id: int, unit_id: int, what: str) -> None:
    """Field roles act for their own units only (positions, assignment progress); Forbidden (403) naming
    the rule otherwise. Dispatchers, commanders and admins act for every unit."""
    if not principal.in_field:
        return
    mine = user_units(db=db, user_id=principal.user_id, event_id=event_id)
    if unit_id in {u.id for u in mine}:
        return
    have = (f"your units here are {', '.join(f'{u.id} ({u.call_sign})' for u in mine)}" if mine else
            "you are linked to no unit of this event (PUT /api/v1/users/{user_id}/units/{unit_id})")
    raise Forbidden(f"role {principal.role.value} acts only for its own units: {what} is for unit {unit_id}; {have}")


def link_user(*, db: Session, user_id: int, unit_id: int) -> bool:
    """Link a login to a unit; False when it already was (nothing changes)."""
    if db.get(UserUnit, (user_id, unit_id)) is not None:
        return False
    db.add(UserUnit(user_id=user_id, unit_id=unit_id))
    db.flush()
    return True


def unlink_user(*, db: Session, user_id: int, unit_id: int) -> None:
    link = db.get(UserUnit, (user_id, unit_id))
    if link is None:
        raise NotFound(f"user {user_id} is not linked to unit {unit_id}")
    db.delete(link)
    db.flush()


# ---------------------------------------------------------------------------------------------- contact details
# 联系方式: a person's phone goes to the roles that need it and is masked for everybody else (docs/access.md).

#: roles that see every person's phone: command (指挥长) and planning (参谋, 系统管理员)
CONTACT_ALL = frozenset({Role.commander, Role.planner, Role.admin})
#: unit statuses of staff on duty (在岗): a dispatcher (调度员) sees their phones
ON_DUTY = frozenset({"available", "assigned", "busy"})


def mask_phone(phone: str) -> str:
    """138****1234: the first three and the last four digits kept, every other digit a ``*`` (separators and a
    leading ``+`` stay); a number of seven digits or fewer keeps its last two only."""
    digits = sum(c.isdigit() for c in phone)
    keep_head, keep_tail = (3, 4) if digits > 7 else (0, 2)
    out, seen = [], 0
    for c in phone:
        if c.isdigit():
            out.append(c if seen < keep_head or seen >= digits - keep_tail else "*")
            seen += 1
        else:
            out.append(c)
    return "".join(out)


def contact_rule(*, db: Session, principal: Principal, event_id: int) -> Callable[[Person], bool]:
    """Whether ``principal`` sees a person's phone in clear: commander, planner and admin every person's; a
    dispatcher those of units on duty (待命, 已派, 处置中; not 休整, nor people without a unit); an officer
    (一线民警) those of his own units (user_unit); nobody else (partner agencies included)."""
    if principal.role in CONTACT_ALL:
        return lambda _p: True
    if principal.role is Role.dispatcher:
        on_duty = set(db.execute(select(Unit.id).where(Unit.event_id == event_id,
                                                       Unit.status.in_(ON_DUTY))).scalars())
        return lambda p: p.unit_id in on_duty
    if principal.role is Role.officer:
        mine = {u.id for u in user_units(db=db, user_id=principal.user_id, event_id=event_id)}
        return lambda p: p.unit_id in mine
    return lambda _p: False


def present_persons(*, db: Session, principal: Principal, event_id: int, rows: list[Person]) -> list[dict[str, Any]]:
    """The people as ``principal`` may see them (phones masked by :func:`contact_rule`); the read is audited:
    one ``read`` row naming the people shown and, in ``contact``, those whose phone was shown in clear."""
    sees = contact_rule(db=db, principal=principal, event_id=event_id)
    out, clear = [], []
    for p in rows:
        shown = sees(p) or not p.phone
        if shown and p.phone:
            clear.append(p.id)
        out.append({c.key: getattr(p, c.key) for c in Person.__table__.columns}
                   | {"phone": p.phone if shown else mask_phone(p.phone), "phone_masked": not shown})
    if rows:
        audit.record(db, action="read", entity=Person.__tablename__,
                     entity_id=str(rows[0].id) if len(rows) == 1 else None, event_id=event_id,
                     after={"count": len(rows), "ids": [p.id for p in rows], "contact": clear})
    return out
