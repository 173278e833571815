"""All tables, imported in one place for Alembic and for creating schemas."""

from anbao.account.models import User
from anbao.alert.models import EarlyWarning
from anbao.core.audit import AuditEntry, AuditHead
from anbao.core.db import Base
from anbao.event.models import Event, EventSession
from anbao.org.models import CommandNode, Person, Unit
from anbao.sensing.models import Reading
from anbao.venue.models import Device, Gate, Post, Venue, Zone

metadata = Base.metadata

__all__ = ["AuditEntry", "AuditHead", "CommandNode", "Device", "EarlyWarning", "Event", "EventSession", "Gate",
           "Person", "Post", "Reading", "Unit", "User", "Venue", "Zone", "metadata"]
