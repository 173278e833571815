"""Authentication and authorisation machinery: roles, permissions, password hashes, tokens,
login rate limiting. Deny by default: a route is reachable only through :func:`anbao.api.deps.require`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from anbao.core.errors import TooManyRequests, Unauthorized
from anbao.core.time import utcnow


class Role(StrEnum):
    commander = "commander"  # 指挥长
    planner = "planner"  # 参谋
    dispatcher = "dispatcher"  # 调度员
    officer = "officer"  # 一线民警
    analyst = "analyst"  # 研判
    partner = "partner"  # 协作单位
    auditor = "auditor"  # 审计
    admin = "admin"  # 系统管理员
    gateway = "gateway"  # 设备网关: a sensor gateway or video platform that posts readings


ROLE_LABELS = {
    Role.commander: "指挥长", Role.planner: "参谋", Role.dispatcher: "调度员", Role.officer: "一线民警",
    Role.analyst: "研判", Role.partner: "协作单位", Role.auditor: "审计", Role.admin: "系统管理员",
    Role.gateway: "设备网关",
}


class Perm(StrEnum):
    event_read = "event:read"
    event_write = "event:write"
    venue_read = "venue:read"
    venue_write = "venue:write"
    org_read = "org:read"
    org_write = "org:write"
    person_read = "person:read"  # personal data: every read is audited
    person_write = "person:write"
    user_admin = "user:admin"
    audit_read = "audit:read"
    sensing_read = "sensing:read"
    sensing_write = "sensing:write"  # post readings and camera alarms
    warning_handle = "warning:handle"  # acknowledge and close warnings, activate plans
    plan_write = "plan:write"  # response plans and warning rules
    task_update = "task:update"  # accept, arrive at, finish a task
    field_report = "field:report"  # report incidents and share positions from the field
    incident_dispatch = "incident:dispatch"  # 接处警: send units, move incidents along, hand over


_READ = {Perm.event_read, Perm.venue_read, Perm.org_read, Perm.sensing_read}
_PLAN = _READ | {Perm.event_write, Perm.venue_write, Perm.org_write, Perm.person_read, Perm.person_write,
                 Perm.plan_write}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.admin: frozenset(Perm),
    Role.commander: frozenset(_PLAN | {Perm.audit_read, Perm.warning_handle, Perm.task_update, Perm.field_report,
                                       Perm.incident_dispatch}),
    Role.planner: frozenset(_PLAN),
    Role.dispatcher: frozenset(_READ | {Perm.org_write, Perm.person_read, Perm.warning_handle, Perm.task_update,
                                        Perm.field_report, Perm.incident_dispatch}),
    Role.officer: frozenset(_READ | {Perm.person_read, Perm.task_update, Perm.field_report}),
    Role.analyst: frozenset(_READ),
    Role.partner: frozenset(_READ | {Perm.person_read}),
    Role.auditor: frozenset(_READ | {Perm.audit_read}),
    Role.gateway: frozenset({Perm.venue_read, Perm.sensing_write}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling. ``agency`` is set for partner users and limits what they see."""

    user_id: int
    username: str
    role: Role
    agency: str | None = None

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @property
    def scoped_agency(self) -> str | None:
        """The agency a partner is limited to; None means no scoping."""
        return self.agency if self.role is Role.partner else None

    def can(self, perm: Perm) -> bool:
        return perm in ROLE_PERMISSIONS[self.role]


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def issue_token(*, key: str, user_id: int, username: str, ttl_minutes: int) -> tuple[str, int]:
    """A signed bearer token and its expiry (unix seconds)."""
    exp = utcnow() + timedelta(minutes=ttl_minutes)
    claims = {"sub": str(user_id), "name": username, "exp": exp, "iat": utcnow()}
    return jwt.encode(claims, key, algorithm="HS256"), int(exp.timestamp())


def decode_token(token: str, *, key: str) -> int:
    """The user id in a valid token; raises :class:`Unauthorized` otherwise."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["sub", "exp"]})
        return int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("login expired; log in again") from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("invalid token") from exc


class LoginRateLimiter:
    """Sliding one-minute window of failed logins per (user name, client address)."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def check(self, username: str, client: str) -> None:
        with self._lock:
            q = self._recent((username, client), time.monotonic())
            if len(q) >= self.per_minute:
                wait = int(self.window_s - (time.monotonic() - q[0])) + 1
                raise TooManyRequests(f"too many failed logins for {username!r}; try again in {wait} s")

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            self._recent((username, client), time.monotonic()).append(time.monotonic())

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._fails.pop((username, client), None)
