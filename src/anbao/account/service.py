"""Account services: users and password checks (keyword-only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.account.models import User
from anbao.account.schemas import UserCreate, UserUpdate
from anbao.core.auth import Role, hash_password, verify_password
from anbao.core.errors import Invalid

# verified against when the user does not exist, so that timing does not reveal user names
_DUMMY_HASH = hash_password("not-a-real-password")


def get(*, db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def get_by_username(*, db: Session, username: str) -> User | None:
    return db.execute(select(User).where(User.username == username)).scalar_one_or_none()


def list_users(*, db: Session) -> Sequence[User]:
    return db.execute(select(User).order_by(User.id)).scalars().all()


def create(*, db: Session, data: UserCreate) -> User:
    if get_by_username(db=db, username=data.username) is not None:
        raise Invalid(f"user {data.username!r} already exists", loc=["body", "username"])
    user = User(username=data.username, display_name=data.display_name or data.username,
                password_hash=hash_password(data.password), role=data.role.value, agency=data.agency)
    db.add(user)
    db.flush()
    return user


def update(*, db: Session, user: User, data: UserUpdate) -> User:
    fields = data.model_dump(exclude_unset=True)
    if "password" in fields:
        password = fields.pop("password")
        if password is None:
            raise Invalid("password cannot be null", loc=["body", "password"])
        user.password_hash = hash_password(password)
    role = fields.get("role", user.role)
    agency = fields.get("agency", user.agency)
    if role == Role.partner and not agency:
        raise Invalid("a partner user needs an agency", loc=["body", "agency"])
    for key, value in fields.items():
        if value is None and key in ("role", "active"):
            raise Invalid(f"{key} cannot be null", loc=["body", key])
        setattr(user, key, value.value if isinstance(value, Role) else value)
    db.flush()
    return user


def authenticate(*, db: Session, username: str, password: str) -> User | None:
    user = get_by_username(db=db, username=username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user
