"""Plan services (keyword-only): the 1+N plans (预案) of an event, checked against the event.

Starting a plan and its tasks is the response package's job (:mod:`anbao.response.service`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.org import service as org
from anbao.org.models import CommandNode, Unit
from anbao.plan.models import ResponsePlan
from anbao.venue.models import Gate, Zone


def node_ids(db: Session, event_id: int) -> dict[str, int]:
    return dict(db.execute(select(CommandNode.code, CommandNode.id).where(CommandNode.event_id == event_id)).all())


def prepare_plan(*, db: Session, event_id: int, data: dict[str, Any], current: ResponsePlan | None) -> dict[str, Any]:
    crud.ref(db=db, kind=org.NODES, event_id=event_id, row_id=data.get("command_node_id"),
             field_name="command_node_id")
    for key in ("name", "kind", "description", "steps", "triggers", "unit_ids", "equipment", "partners", "map_refs",
                "evacuation_routes", "sections"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    _check_elements(db, event_id, data)
    steps = data.get("steps")
    if steps:
        nodes = node_ids(db, event_id)
        for i, step in enumerate(steps):
            code = step.get("node_code")
            if code is not None and code not in nodes:
                raise Invalid(f"command node {code!r} does not exist in this event",
                              loc=["body", "steps", i, "node_code"])
    return data


def _codes(db: Session, event_id: int, model: Any, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    return set(db.execute(select(model.code).where(model.event_id == event_id, model.code.in_(wanted))).scalars())


def _check_elements(db: Session, event_id: int, data: dict[str, Any]) -> None:
    """The plan's units, zones and exits exist in the event (Invalid names the place)."""
    ids = data.get("unit_ids") or []
    if ids:
        known = set(db.execute(select(Unit.id).where(Unit.event_id == event_id, Unit.id.in_(ids))).scalars())
        for i, uid in enumerate(ids):
            if uid not in known:
                raise Invalid(f"unit {uid} does not exist in this event", loc=["body", "unit_ids", i])
        data["unit_ids"] = list(dict.fromkeys(ids))
    refs = data.get("map_refs") or {}
    routes = data.get("evacuation_routes") or []
    zone_codes = set(refs.get("zones") or []) | {c for r in routes for c in (r.get("from_zones") or [])} \
        | {r["to_zone"] for r in routes if r.get("to_zone")}
    exits = {c for r in routes for c in (r.get("exits") or [])}
    zones_known, gates_known = _codes(db, event_id, Zone, zone_codes), _codes(db, event_id, Gate, exits)
    for i, code in enumerate(refs.get("zones") or []):
        if code not in zones_known:
            raise Invalid(f"zone {code!r} does not exist in this event", loc=["body", "map_refs", "zones", i])
    for i, r in enumerate(routes):
        for j, code in enumerate(r.get("from_zones") or []):
            if code not in zones_known:
                raise Invalid(f"zone {code!r} does not exist in this event",
                              loc=["body", "evacuation_routes", i, "from_zones", j])
        if r.get("to_zone") and r["to_zone"] not in zones_known:
            raise Invalid(f"zone {r['to_zone']!r} does not exist in this event",
                          loc=["body", "evacuation_routes", i, "to_zone"])
        for j, code in enumerate(r.get("exits") or []):
            if code not in gates_known:
                raise Invalid(f"exit {code!r} does not exist in this event",
                              loc=["body", "evacuation_routes", i, "exits", j])


PLANS = crud.Kind(model=ResponsePlan, label="plan", prepare=prepare_plan, order_by=("code",))


def by_code(*, db: Session, event_id: int, code: str) -> ResponsePlan | None:
    return crud.by_unique(db=db, kind=PLANS, event_id=event_id, value=code)
