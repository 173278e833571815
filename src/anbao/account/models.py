from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base
from anbao.core.models import Timestamps


class User(Audited, Timestamps, Base):
    __tablename__ = "app_user"
    __audit_redact__ = ("password_hash",)
    #: the real name behind a login is personal data (the login name stays: it names the actor of every row)
    __audit_personal__ = True
    __audit_personal_fields__ = ("display_name",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: bumped on a password change or deactivation: tokens issued under an older version are refused
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
