"""Authentication and authorisation machinery: roles, permissions, password hashes and policy, tokens,
login rate limiting, the client address behind trusted proxies, and tokens kept out of the logs.
Deny by default: a route is reachable only through :func:`anbao.api.deps.require`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from anbao.core.errors import Invalid, TooManyRequests, Unauthorized
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


#: roles that work in the field: they act on the tasks of their own units only (response.service.check_task_owner);
#: dispatchers, commanders and admins act on every task of the event
FIELD_ROLES = frozenset({Role.officer})


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

    @property
    def in_field(self) -> bool:
        """A field role: acts on its own units' tasks only."""
        return self.role in FIELD_ROLES


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


#: password checks running at once: each costs argon2's 64 MiB and ~0.1 s of CPU on its 4 lanes (threads), so
#: more at once only queue on the cores and starve every other request (health, ingest); the rest wait here
_CHECKS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))


def verify_password(stored: str, password: str) -> bool:
    with _CHECKS:
        try:
            return _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


# ---------------------------------------------------------------------------------------------- password policy

#: shortest new password, in characters
MIN_PASSWORD_LENGTH = 10
#: fewest different characters in a new password ("aaaaaaaaaa", "1212121212" are refused)
MIN_DISTINCT_CHARACTERS = 5
#: the product's own names: a password that is one of them (digits or symbols around it aside) is refused
PRODUCT_NAMES = ("anbao", "安保", "an-bao")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list shipped with the package (core/data/common_passwords.txt, lowercased)."""
    text = resources.files("anbao.core").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def password_problem(password: str, *, username: str = "", display_name: str = "") -> str | None:
    """What is wrong with ``password`` as a new password, naming the rule; None when it is acceptable.

    Rules: at least :data:`MIN_PASSWORD_LENGTH` characters and :data:`MIN_DISTINCT_CHARACTERS` different
    ones; not on the common-password list (case-insensitive); not the user's name, display name or the
    product's name, even with digits or symbols before or after it ("anbao2026!", "officer123456").
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password too short: at least {MIN_PASSWORD_LENGTH} characters (it has {len(password)})"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"password too repetitive: at least {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = password.casefold()
    if lowered in common_passwords():
        return "password is on the list of common passwords; choose another"
    core = _EDGES.sub("", lowered)
    names = {n.casefold() for n in (username, display_name, *PRODUCT_NAMES) if n}
    if lowered in names or core in names:
        return "password must not be the user name or the product name (with digits or symbols around it)"
    return None


def check_password(password: str, *, username: str = "", display_name: str = "",
                   field: str = "password") -> None:
    """Raise :class:`Invalid` (422, at ``body.<field>``) when ``password`` breaks the policy."""
    problem = password_problem(password, username=username, display_name=display_name)
    if problem is not None:
        raise Invalid(problem, loc=["body", field])


# ---------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    #: the user's token version when the token was issued: a password change or deactivation bumps it
    version: int


def issue_token(*, key: str, user_id: int, username: str, ttl_minutes: int, version: int = 0) -> tuple[str, int]:
    """A signed bearer token (carrying the user's token version as "ver") and its expiry (unix seconds)."""
    exp = utcnow() + timedelta(minutes=ttl_minutes)
    claims = {"sub": str(user_id), "name": username, "ver": version, "exp": exp, "iat": utcnow()}
    return jwt.encode(claims, key, algorithm="HS256"), int(exp.timestamp())


def decode_claims(token: str, *, key: str) -> TokenClaims:
    """The user id and token version of a valid token; raises :class:`Unauthorized` otherwise.

    Whether the version is still the user's is checked against the database by
    :func:`anbao.account.service.principal_for_token`, which REST and the WebSocket both use.
    """
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["sub", "exp", "ver"]})
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("ver is not an integer")
        return TokenClaims(user_id=int(claims["sub"]), version=version)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("login expired; log in again") from exc
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthorized("invalid token") from exc


def decode_token(token: str, *, key: str) -> int:
    """The user id in a valid token (signature and expiry only: use ``principal_for_token`` to authenticate)."""
    return decode_claims(token, key=key).user_id


#: a JSON Web Token anywhere in a text, and token-like query parameters
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_TOKEN_PARAM = re.compile(r"((?:access_)?token|jwt|authorization)=[^&\s\"']+", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    """``text`` with every bearer token (JWT) and ``token=`` value replaced by a marker."""
    return _JWT.sub("[token redacted]", _TOKEN_PARAM.sub(r"\1=[redacted]", text))


class RedactTokens(logging.Filter):
    """A logging filter that keeps tokens out of log lines (uvicorn logs the path and query of each request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


#: the loggers of the server that runs the app: uvicorn's access log (path and query) and its error log
#: (WebSocket handshakes with their path and query)
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "gunicorn.access", "gunicorn.error")


def keep_tokens_out_of_logs() -> None:
    """Put :class:`RedactTokens` on the server loggers (once; they keep it when uvicorn configures logging)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


# ---------------------------------------------------------------------------------------------- client address


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or CIDR networks ("10.0.0.5, 10.1.0.0/16, ::1"); ValueError names a bad one."""
    nets = []
    for item in (v.strip() for v in value.split(",")):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from exc
    return tuple(nets)


def _is_trusted(host: str, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in net for net in trusted)


def client_address(peer: str | None, forwarded_for: list[str],
                   trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str | None:
    """The client's address: the socket peer unless the peer is a trusted proxy; then the right-most
    ``X-Forwarded-For`` entry that is not itself a trusted proxy (entries left of it are the client's
    say-so and are never believed)."""
    if peer is None or not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


class TrustedProxies:
    """ASGI middleware: when the socket peer is a configured proxy (ANBAO_TRUSTED_PROXIES), the client
    address (``scope["client"]``: what the routes, the audit log and the access log see) and the scheme
    come from ``X-Forwarded-For`` / ``X-Forwarded-Proto``; from any other peer those headers are ignored."""

    def __init__(self, app: Any, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            peer = client[0] if client else None
            if peer is not None and _is_trusted(peer, self.trusted):
                headers = scope.get("headers") or []
                forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
                host = client_address(peer, forwarded, self.trusted)
                if host and host != peer:
                    scope["client"] = (host, 0)
                proto = next((v.decode("latin-1").strip().lower() for k, v in headers
                              if k == b"x-forwarded-proto"), None)
                if proto in ("http", "https"):
                    scope["scheme"] = proto.replace("http", "ws") if scope["type"] == "websocket" else proto
        await self.app(scope, receive, send)


class LoginRateLimiter:
    """Sliding one-minute windows of failed logins: per (user name, client address), and per client
    address across all names (``per_address``: spraying many names from one address is limited too).

    A success clears the name's window, not the address's: logging in to one's own account does not
    reset a spray. While an address is over its limit every login from it is refused, right or wrong.

    Attempts still being checked count too: :meth:`check` takes a place that :meth:`failed`,
    :meth:`succeeded` or :meth:`release` gives back, so 40 guesses sent at once are not all let through
    while the first ones are still hashing.
    """

    #: past this many remembered keys, expired ones are swept (a spray of random names stays bounded)
    SWEEP_AT = 10_000

    def __init__(self, per_minute: int, window_s: float = 60.0, per_address: int | None = None) -> None:
        self.per_minute = per_minute
        self.per_address = per_address
        self.window_s = window_s
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._by_address: dict[str, deque[float]] = {}
        self._pending: dict[tuple[str, str] | str, int] = {}  # attempts between check and their outcome
        self._lock = threading.Lock()

    def _trim(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        return self._trim(self._fails.setdefault(key, deque()), now)

    def _wait(self, q: deque[float], now: float) -> int:
        return int(self.window_s - (now - q[0])) + 1

    def check(self, username: str, client: str) -> None:
        """Raise :class:`TooManyRequests` when a limit is reached; else take a place for this attempt."""
        with self._lock:
            now = time.monotonic()
            if self.per_address is not None:
                qa = self._trim(self._by_address.setdefault(client, deque()), now)
                if len(qa) + self._pending.get(client, 0) >= self.per_address:
                    raise TooManyRequests(
                        f"too many failed logins from this address ({self.per_address} a minute across all user "
                        f"names); try again in {self._wait(qa, now) if qa else 1} s")
            q = self._recent((username, client), now)
            if len(q) + self._pending.get((username, client), 0) >= self.per_minute:
                raise TooManyRequests(f"too many failed logins for {username!r}; try again in "
                                      f"{self._wait(q, now) if q else 1} s")
            for key in ((username, client), client):
                self._pending[key] = self._pending.get(key, 0) + 1

    def _give_back(self, username: str, client: str) -> None:
        for key in ((username, client), client):
            left = self._pending.get(key, 0) - 1
            if left > 0:
                self._pending[key] = left
            else:
                self._pending.pop(key, None)

    def release(self, username: str, client: str) -> None:
        """An attempt that ended neither way (an error): its place is given back, nothing is counted."""
        with self._lock:
            self._give_back(username, client)

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            self._give_back(username, client)
            now = time.monotonic()
            if len(self._fails) + len(self._by_address) > self.SWEEP_AT:
                self._sweep(now)
            self._recent((username, client), now).append(now)
            if self.per_address is not None:
                self._trim(self._by_address.setdefault(client, deque()), now).append(now)

    def _sweep(self, now: float) -> None:
        for key in [k for k, q in self._fails.items() if not self._trim(q, now)]:
            del self._fails[key]
        for addr in [a for a, q in self._by_address.items() if not self._trim(q, now)]:
            del self._by_address[addr]

    def succeeded(self, username: str, client: str) -> None:
        with self._lock:
            self._give_back(username, client)
            self._fails.pop((username, client), None)
