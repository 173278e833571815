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


def test_rate_limiter_per_address_across_names():
    lim = LoginRateLimiter(per_minute=5, per_address=3)
    for name in ("a", "b", "c"):
        lim.check(name, "1.2.3.4")
        lim.failed(name, "1.2.3.4")
    with pytest.raises(TooManyRequests, match="from this address"):
        lim.check("d", "1.2.3.4")
    lim.succeeded("a", "1.2.3.4")  # a success of one name does not reset the address
    with pytest.raises(TooManyRequests, match="from this address"):
        lim.check("a", "1.2.3.4")
    lim.check("d", "5.6.7.8")


def test_rate_limiter_counts_attempts_still_in_flight():
    """40 guesses sent at once: only as many pass the check as the limit allows, before any has failed."""
    lim = LoginRateLimiter(per_minute=100, per_address=3)
    for name in ("a", "b", "c"):
        lim.check(name, "1.2.3.4")  # still hashing
    with pytest.raises(TooManyRequests):
        lim.check("d", "1.2.3.4")
    lim.release("a", "1.2.3.4")  # an attempt that ended in an error gives its place back
    lim.check("d", "1.2.3.4")
    lim.succeeded("b", "1.2.3.4")
    lim.failed("c", "1.2.3.4")
    lim.failed("d", "1.2.3.4")
    lim.check("e", "1.2.3.4")  # 2 failures + 1 in flight
    with pytest.raises(TooManyRequests):
        lim.check("f", "1.2.3.4")


def test_rate_limiter_memory_stays_bounded_under_a_spray():
    lim = LoginRateLimiter(per_minute=5, per_address=10**6, window_s=-1.0)  # every entry already expired
    lim.SWEEP_AT = 100
    for i in range(1000):
        lim.check(f"n{i}", f"10.0.{i // 250}.{i % 250}")
        lim.failed(f"n{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(lim._fails) + len(lim._by_address) <= 2 * 100 + 2 and not lim._pending
