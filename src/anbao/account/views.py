"""Login and user administration: /api/v1/auth, /api/v1/users."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from anbao.account import service
from anbao.account.models import User
from anbao.account.schemas import LoginIn, PasswordChange, TokenOut, UserCreate, UserOut, UserUpdate
from anbao.api.deps import DB, current_principal, reads_only, require
from anbao.core import audit
from anbao.core.auth import ROLE_PERMISSIONS, Perm, Principal, Role, issue_token
from anbao.core.errors import AnBaoError, NotFound, TooManyRequests, Unauthorized

router = APIRouter(tags=["账号 accounts"])
Admin = Annotated[Principal, Depends(require(Perm.user_admin))]
#: any logged-in user, no permission beyond that (their own password)
LoggedIn = Annotated[Principal, Depends(require())]


def _token(request: Request, user: User) -> TokenOut:
    token, exp = issue_token(key=request.app.state.signing_key, user_id=user.id, username=user.username,
                             ttl_minutes=request.app.state.settings.token_ttl_minutes, version=user.token_version or 0)
    return TokenOut(access_token=token, expires_at=exp, username=user.username, role=Role(user.role))


def _record_failure(request: Request, username: str, client: str, action: str) -> None:
    """Failed logins are audited in a transaction of their own: the request's own one rolls back."""
    with request.app.state.sessions() as db:
        db.info["actor"] = f"anonymous@{client}"
        audit.record(db, action=action, entity="app_user", entity_id=username[:60], after={"client": client})
        db.commit()


@router.post("/auth/login", response_model=TokenOut, summary="Log in; returns a bearer token (no login needed)")
@reads_only  # the password check (argon2, ~0.1 s) holds no write lock; the audit rows are short writes apart
def login(body: LoginIn, request: Request, db: DB) -> Any:
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    try:
        limiter.check(body.username, client)
    except TooManyRequests:
        _record_failure(request, body.username, client, "login_blocked")
        raise
    try:
        user = service.authenticate(db=db, username=body.username, password=body.password)
    except BaseException:
        limiter.release(body.username, client)
        raise
    db.info["actor"] = f"user:{body.username}"
    if user is None:
        limiter.failed(body.username, client)
        db.rollback()  # end this request's transaction (and SQLite's write lock) before auditing apart
        _record_failure(request, body.username, client, "login_failed")
        raise Unauthorized("wrong user name or password")
    limiter.succeeded(body.username, client)
    audit.record(db, action="login", entity="app_user", entity_id=str(user.id), after={"client": client})
    return _token(request, user)


@router.post("/auth/password", response_model=TokenOut,
             summary="Change my password 修改密码: every earlier token is revoked; returns a new one")
def change_password(body: PasswordChange, request: Request, db: DB, principal: LoggedIn) -> Any:
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    limiter.check(principal.username, client)  # guessing the old password with a stolen token is limited too
    try:
        user = service.get(db=db, user_id=principal.user_id)
        if user is None:
            raise Unauthorized("user no longer exists; log in again")
        service.change_password(db=db, user=user, old_password=body.old_password, new_password=body.new_password)
    except AnBaoError as exc:
        if exc.loc != ["body", "old_password"]:
            limiter.release(principal.username, client)
            raise
        limiter.failed(principal.username, client)
        db.rollback()
        _record_failure(request, principal.username, client, "password_change_failed")
        raise
    except BaseException:
        limiter.release(principal.username, client)
        raise
    limiter.succeeded(principal.username, client)
    return _token(request, user)


class MeOut(UserOut):
    permissions: list[str] = []


@router.get("/auth/me", response_model=MeOut, summary="The logged-in user and what the role may do")
def me(db: DB, principal: Annotated[Principal, Depends(current_principal)]) -> Any:
    user = service.get(db=db, user_id=principal.user_id)
    return {**UserOut.model_validate(user).model_dump(),
            "permissions": sorted(p.value for p in ROLE_PERMISSIONS[principal.role])}


@router.get("/auth/names", response_model=dict[str, str],
            summary="Display names of the actors shown on screens (user:<name> -> 张警官); any logged-in user")
def actor_names(db: DB, principal: LoggedIn) -> Any:
    return {f"user:{u.username}": u.display_name or u.username for u in service.list_users(db=db)}


@router.get("/users", response_model=list[UserOut], summary="List users")
def list_users(db: DB, principal: Admin) -> Any:
    return service.list_users(db=db)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(body: UserCreate, db: DB, principal: Admin) -> Any:
    return service.create(db=db, data=body)


@router.patch("/users/{user_id}", response_model=UserOut,
              summary="Change a user (role, password reset, active); a new password, deactivation or a new role "
                      "or agency signs the user out everywhere")
def update_user(user_id: int, body: UserUpdate, db: DB, principal: Admin) -> Any:
    user = service.get(db=db, user_id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return service.update(db=db, user=user, data=body)
