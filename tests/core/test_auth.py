import time

import pytest

from anbao.core.auth import (
    ROLE_PERMISSIONS,
    LoginRateLimiter,
    Perm,
    Role,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from anbao.core.errors import TooManyRequests, Unauthorized


def test_argon2_hash_round_trip():
    stored = hash_password("s3cret-pass")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret-pass")
    assert not verify_password(stored, "wrong")
    assert not verify_password("garbage", "s3cret-pass")


def test_the_app_hashes_with_argon2_defaults():
    """The suite hashes cheaply (tests/conftest.py); the app itself keeps argon2-cffi's RFC 9106 defaults."""
    from tests import conftest

    hasher = conftest.PRODUCTION_HASHER
    assert hasher is not None and hasher.type.name == "ID"
    assert hasher.time_cost >= 3 and hasher.memory_cost >= 64 * 1024 and hasher.parallelism >= 1
    stored = hasher.hash("s3cret-pass")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3")


def test_token_round_trip_and_tampering():
    token, exp = issue_token(key="k" * 32, user_id=42, username="bob", ttl_minutes=5)
    assert decode_token(token, key="k" * 32) == 42
    assert exp > time.time()
    with pytest.raises(Unauthorized):
        decode_token(token, key="other-key-" * 4)
    with pytest.raises(Unauthorized):
        decode_token(token[:-2] + "xx", key="k" * 32)


def test_expired_token_says_so():
    token, _ = issue_token(key="k" * 32, user_id=1, username="bob", ttl_minutes=-1)
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(token, key="k" * 32)


def test_rate_limiter_blocks_after_n_failures_and_resets_on_success():
    lim = LoginRateLimiter(per_minute=3)
    for _ in range(3):
        lim.check("u", "1.2.3.4")
        lim.failed("u", "1.2.3.4")
    with pytest.raises(TooManyRequests):
        lim.check("u", "1.2.3.4")
    lim.check("u", "5.6.7.8")  # another client is not blocked
    lim.succeeded("u", "1.2.3.4")
    lim.check("u", "1.2.3.4")


def test_rate_limiter_window_expires():
    lim = LoginRateLimiter(per_minute=1, window_s=0.05)
    lim.failed("u", "c")
    with pytest.raises(TooManyRequests):
        lim.check("u", "c")
    time.sleep(0.08)
    lim.check("u", "c")


def test_roles_least_privilege():
    assert ROLE_PERMISSIONS[Role.admin] == frozenset(Perm)
    assert Perm.user_admin not in ROLE_PERMISSIONS[Role.commander]
    assert Perm.person_read not in ROLE_PERMISSIONS[Role.analyst]
    assert Perm.audit_read in ROLE_PERMISSIONS[Role.auditor]
    assert not any(p.value.endswith(":write") for p in ROLE_PERMISSIONS[Role.auditor])
    assert not any(p.value.endswith(":write") for p in ROLE_PERMISSIONS[Role.partner])
