"""Settings read from ANBAO_* environment variables (pydantic-settings, strict)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Process-wide configuration. Every field maps to an ``ANBAO_<NAME>`` variable."""

    model_config = SettingsConfigDict(env_prefix="ANBAO_", extra="forbid", frozen=True)

    database_url: str = Field(
        default="",
        title="Database URL",
        description="SQLAlchemy URL. Default: the SQLite file anbao.db in the state directory (WAL mode). "
        "Production: postgresql+psycopg://user@host/db.",
    )
    mqtt_url: str | None = Field(
        default=None,
        title="MQTT broker URL",
        description="mqtt://host:1883. When unset, the in-process bus carries live traffic.",
    )
    mqtt_client_id: str = Field(
        default="anbao-ingest", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$",
        title="MQTT consumer client id",
        description="Prefix of the ingest consumers' client ids: slot k connects as <prefix>-<k> with a kept "
        "session, whichever process holds it (docs/mqtt.md). One prefix per installation and broker.",
    )
    mqtt_slots: int = Field(
        default=1, ge=1, le=64, title="MQTT consumer slots",
        description="Broker sessions the running consumers (anbao serve, anbao worker) share out. 1: one consumes, "
        "the others stand by (survives broker restarts); more: a shared subscription split among them. Same value "
        "everywhere; never lowered without draining (docs/mqtt.md).",
    )
    mqtt_live_prefix: str = Field(
        default="anbao/live", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$",
        title="MQTT live-stream topic root",
        description="With PostgreSQL and a broker, the replicas exchange live messages under <root>/msg/... and "
        "typed changes under <root>/change/... (docs/scale-out.md). One root per installation and broker.",
    )
    mqtt_session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=60, le=2**32 - 1, title="MQTT session expiry",
        description="Seconds the broker keeps a slot's session and queue while no consumer holds it.",
    )
    secret_key: str | None = Field(
        default=None,
        title="Token signing key",
        description="Key that signs login tokens. When unset, a random key is created once in "
        "var/secret_key and reused.",
    )
    audit_key: str | None = Field(
        default=None, min_length=16,
        title="Audit log key",
        description="HMAC key of the audit hash chain, kept outside the database; several keys separated by "
        "commas: the first signs new rows, the others verify older ones (rotation). When unset, a random key "
        "is created once in var/audit_key (one key per line, newest first) and reused. See docs/audit.md.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        title="Display time zone",
        description="IANA zone used to show times. Storage is always UTC.",
    )
    host: str = Field(default="127.0.0.1", title="Listen address", description="Address `anbao serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, title="Listen port", description="TCP port.")
    token_ttl_minutes: int = Field(
        default=12 * 60, ge=1, title="Token lifetime", description="Minutes a login token stays valid."
    )
    login_attempts_per_minute: int = Field(
        default=5,
        ge=1,
        title="Login rate limit",
        description="Failed logins allowed per user name and client address per minute before 429.",
    )
    login_attempts_per_address_per_minute: int = Field(
        default=20,
        ge=1,
        title="Login rate limit per address",
        description="Failed logins allowed per client address per minute across all user names before 429 "
        "(a spray of many names from one address). Behind a proxy, set ANBAO_TRUSTED_PROXIES.",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=2000,
        title="Trusted proxies",
        description="Comma-separated addresses or CIDR networks of the reverse proxies in front of the app, "
        "e.g. 10.0.0.5,10.1.0.0/16. Only from these is X-Forwarded-For believed. Empty: the socket peer is "
        "the client.",
    )
    evaluate_interval_s: float = Field(
        default=1.0, gt=0, le=60, title="Warning pass interval",
        description="Seconds between passes that turn zone states into warnings (0.5-1 s keeps the live map fresh).",
    )
    tile_url: str = Field(
        default="", max_length=500, title="Map tile URL",
        description="XYZ tile template for the command map, e.g. http://tiles.local/{z}/{x}/{y}.png (a server on "
                    "your own network). Empty: the venue is drawn as vectors on a plain background, no tiles.",
    )
    tile_gcj02: bool = Field(
        default=False, title="Tiles in GCJ-02",
        description="True for Chinese civilian tiles (GCJ-02 offset): the map shifts WGS-84 data onto them.",
    )
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR, title="State directory", description="Where the SQLite file and key live."
    )
    cap_sender: str = Field(
        default="anbao@localhost", min_length=1, max_length=200, pattern=r"^[^\s,<&]+$",
        title="CAP sender",
        description="<sender> of the CAP 1.2 messages this installation writes: globally unique, e.g. "
        "anbao@gaj.hangzhou.gov.cn (docs/live-operations.md, CAP 1.2). Set one per deployment.",
    )
    cap_sender_name: str = Field(
        default="", max_length=200, title="CAP sender name",
        description="<senderName> of those messages, e.g. 杭州市公安局 (default: the event's name + 安保指挥部).",
    )

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.var_dir / 'anbao.db'}")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for item in (v.strip() for v in value.split(",")):
            try:
                if item:
                    ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from exc
        return value

    def signing_key(self) -> str:
        """The token signing key: ANBAO_SECRET_KEY, else a persisted random key."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def audit_keys(self) -> list[str]:
        """The audit chain's keys, newest first: ANBAO_AUDIT_KEY, else var/audit_key (created once)."""
        if self.audit_key:
            return [k.strip() for k in self.audit_key.split(",") if k.strip()]
        path = self.var_dir / "audit_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting at once keep one key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(32) + "\n")
            except FileExistsError:
                pass
        return [k.strip() for k in path.read_text().splitlines() if k.strip()]


#: ANBAO_* variables that are not settings of the app (read by the test suite and CI)
NOT_SETTINGS = ("ANBAO_TEST_", "ANBAO_REQUIRE_SERVICES")


def unknown_variables(environ: dict[str, str]) -> list[str]:
    """ANBAO_* variables that match no setting: most likely misspelt."""
    known = {f"ANBAO_{name.upper()}" for name in Settings.model_fields}
    return sorted(k for k in environ if k.upper().startswith("ANBAO_") and k.upper() not in known
                  and not k.upper().startswith(NOT_SETTINGS))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment; a misspelt ANBAO_* variable is an error, not silently ignored."""
    unknown = unknown_variables(dict(os.environ))
    if unknown:
        raise ValueError(f"unknown configuration variable(s) {', '.join(unknown)}; known: "
                         + ", ".join(f"ANBAO_{n.upper()}" for n in Settings.model_fields))
    return Settings()
