"""Account services: users, password checks and policy, and who a token belongs to (keyword-only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.account.models import User
from anbao.account.schemas import UserCreate, UserUpdate
from anbao.core.auth import Principal, Role, check_password, decode_claims, hash_password, verify_password
from anbao.core.errors import Invalid, Unauthorized

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
    check_password(data.password, username=data.username, display_name=data.display_name)
    user = User(username=data.username, display_name=data.display_name or data.username,
                password_hash=hash_password(data.password), role=data.role.value, agency=data.agency)
    db.add(user)
    db.flush()
    return user


def revoke_tokens(*, user: User) -> None:
    """Every token issued to ``user`` so far is refused from now on (REST and the live stream)."""
    user.token_version = (user.token_version or 0) + 1


def set_password(*, user: User, password: str, field: str = "password") -> None:
    """A new password (checked against the policy) that signs the user out everywhere."""
    check_password(password, username=user.username, display_name=user.display_name, field=field)
    user.password_hash = hash_password(password)
    revoke_tokens(user=user)


def update(*, db: Session, user: User, data: UserUpdate) -> User:
    """Change a user. A new password (an admin's reset), deactivation or a new role or agency revokes the
    user's tokens: their grants were given under the old values."""
    fields = data.model_dump(exclude_unset=True)
    if "password" in fields:
        password = fields.pop("password")
        if password is None:
            raise Invalid("password cannot be null", loc=["body", "password"])
        set_password(user=user, password=password)
    role = fields.get("role", user.role)
    agency = fields.get("agency", user.agency)
    if role == Role.partner and not agency:
        raise Invalid("a partner user needs an agency", loc=["body", "agency"])
    revoke = False
    for key, value in fields.items():
        if value is None and key in ("role", "active"):
            raise Invalid(f"{key} cannot be null", loc=["body", key])
        value = value.value if isinstance(value, Role) else value
        if key in ("role", "agency") and value != getattr(user, key):
            revoke = True
        if key == "active" and user.active and not value:
            revoke = True
        setattr(user, key, value)
    if revoke:
        revoke_tokens(user=user)
    db.flush()
    return user


def change_password(*, db: Session, user: User, old_password: str, new_password: str) -> User:
    """The user's own change: the old password must be right; the new one meets the policy and differs."""
    if not verify_password(user.password_hash, old_password):
        raise Invalid("the old password is wrong", loc=["body", "old_password"])
    if new_password == old_password:
        raise Invalid("the new password is the same as the old one", loc=["body", "new_password"])
    set_password(user=user, password=new_password, field="new_password")
    db.flush()
    return user


def principal_for_token(db: Session, token: str, key: str) -> Principal:
    """Who a bearer token speaks for, checked against the database: the signature and expiry, the user
    still active, and the token's version still the user's (a password change or deactivation bumps it).
    Raises :class:`Unauthorized` ("... log in again"). REST (api.deps) and the live WebSocket both use it."""
    claims = decode_claims(token, key=key)
    user = get(db=db, user_id=claims.user_id)
    if user is None or not user.active:
        raise Unauthorized("user no longer active; log in again")
    if claims.version != (user.token_version or 0):
        raise Unauthorized("this login was revoked (password changed or access changed); log in again")
    return Principal(user_id=user.id, username=user.username, role=Role(user.role), agency=user.agency)


def authenticate(*, db: Session, username: str, password: str) -> User | None:
    user = get_by_username(db=db, username=username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    return user
