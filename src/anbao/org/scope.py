"""Which units a caller may see 警力可见范围: the one scoping rule of every surface that names a unit.

A partner agency's user (协作单位, :attr:`anbao.core.auth.Principal.scoped_agency`) sees the units of its
own agency and those shared with it (:func:`anbao.org.service.unit_visible`); everybody else sees every
unit. Every surface that shows a unit's id, call sign, position, status or strength asks
:func:`unit_scope` once per request (or, for the live stream, once every few seconds) and keeps only
what :meth:`UnitScope.sees` allows: the unit list and the command tree, unit positions, the map and its
status (post presence), the incident assignments, the planning documents and the live messages. The
table of surfaces is in docs/access.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.org.models import Unit
from anbao.org.service import unit_visible

T = TypeVar("T")


@dataclass(frozen=True)
class UnitScope:
    """The units one caller may see in one event: ``ids`` None means every unit (no scoping)."""

    agency: str | None = None
    ids: frozenset[int] | None = None

    @property
    def scoped(self) -> bool:
        return self.ids is not None

    def sees(self, unit_id: int | None) -> bool:
        """True for a unit the caller may see (None, "no unit", is not a unit and is not seen when scoped)."""
        return self.ids is None or (unit_id is not None and unit_id in self.ids)

    def keep(self, rows: Iterable[T], unit_id: Callable[[T], int | None]) -> list[T]:
        """The rows whose unit the caller may see."""
        return list(rows) if self.ids is None else [r for r in rows if self.sees(unit_id(r))]


#: no scoping: police roles, the command line, the simulator
EVERY_UNIT = UnitScope()


def unit_scope(*, db: Session, event_id: int, agency: str | None) -> UnitScope:
    """The units of ``event_id`` visible to a caller scoped to ``agency`` (None: every unit)."""
    if agency is None:
        return EVERY_UNIT
    units = db.execute(select(Unit).where(Unit.event_id == event_id)).scalars()
    return UnitScope(agency=agency, ids=frozenset(u.id for u in units if unit_visible(u, agency=agency)))
