from __future__ import annotations

from pydantic import Field, model_validator

from anbao.core.auth import Role
from anbao.core.schemas import In, Stamped


class LoginIn(In):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


_PASSWORD_RULE = ("A new password: at least 10 characters, at least 5 different ones, not a common password, "  # nosec B105
                  "not the user name or the product name (docs/security.md)")


class PasswordChange(In):
    old_password: str = Field(min_length=1, max_length=200, description="The current password")
    new_password: str = Field(min_length=1, max_length=200, description=_PASSWORD_RULE)


class TokenOut(In):
    access_token: str
    token_type: str = "bearer"
    expires_at: int = Field(description="Unix seconds")
    username: str
    role: Role


class UserCreate(In):
    username: str = Field(pattern=r"^[A-Za-z0-9_.\-]{2,60}$")
    display_name: str = Field(default="", max_length=100)
    password: str = Field(min_length=1, max_length=200, description=_PASSWORD_RULE)
    role: Role
    agency: str | None = Field(default=None, max_length=40, description="Required for partner users")

    @model_validator(mode="after")
    def _partner_agency(self) -> UserCreate:
        if self.role is Role.partner and not self.agency:
            raise ValueError("a partner user needs an agency (e.g. 消防, 医疗, 交通)")
        return self


class UserUpdate(In):
    display_name: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, min_length=1, max_length=200,
                                 description=_PASSWORD_RULE + "; signs the user out everywhere")
    role: Role | None = None
    agency: str | None = Field(default=None, max_length=40)
    active: bool | None = Field(default=None, description="false signs the user out everywhere")


class UserOut(Stamped):
    id: int
    username: str
    display_name: str
    role: str
    agency: str | None
    active: bool
