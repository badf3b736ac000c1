"""Keys, tokens and principals: pure code, no services."""

from __future__ import annotations

import pytest

from api.auth import (
    AuthError,
    Bureau,
    Principal,
    Role,
    hash_key,
    key_matches,
    key_prefix,
    new_key,
    sign_token,
    verify_token,
)

SECRET = b"s" * 32


def test_new_key_has_prefix_and_only_its_hash_matches() -> None:
    made = new_key()
    assert made.key.startswith(f"spk_{made.prefix}_")
    assert key_prefix(made.key) == made.prefix
    assert made.digest == hash_key(made.key)
    assert key_matches(made.key, made.digest)
    assert not key_matches(made.key + "x", made.digest)
    assert new_key().key != made.key


@pytest.mark.parametrize("bad", ["", "spk_short", "abc_12345678_" + "x" * 40, "spk_1234_" + "x" * 40])
def test_malformed_keys_are_refused_by_name(bad: str) -> None:
    with pytest.raises(AuthError, match="malformed API key"):
        key_prefix(bad)


def test_token_round_trip_keeps_the_scope() -> None:
    p = Principal(7, "env", Role.REGULATOR, park_id=3, bureaus=(Bureau.ENVIRONMENT,), key_id=9)
    token, exp = sign_token(p, secret=SECRET, ttl_s=60, clock=lambda: 1000.0)
    assert exp == 1060
    back = verify_token(token, secret=SECRET, clock=lambda: 1059.0)
    assert back == p
    assert back.categories == frozenset({"emissions", "environment"})


def test_token_expires_and_tampering_is_detected() -> None:
    p = Principal(1, "op", Role.OPERATOR, park_id=1, key_id=4)
    token, _ = sign_token(p, secret=SECRET, ttl_s=60, clock=lambda: 1000.0)
    with pytest.raises(AuthError, match="expired"):
        verify_token(token, secret=SECRET, clock=lambda: 1060.0)
    with pytest.raises(AuthError, match="signature"):
        verify_token(token, secret=b"t" * 32, clock=lambda: 1000.0)
    head, _body, sig = token.split(".")
    forged = Principal(1, "op", Role.ADMIN, key_id=4)
    forged_token, _ = sign_token(forged, secret=b"x" * 32, ttl_s=60, clock=lambda: 1000.0)
    with pytest.raises(AuthError, match="signature"):
        verify_token(f"{head}.{forged_token.split('.')[1]}.{sig}", secret=SECRET, clock=lambda: 1000.0)


def test_principal_requires_its_scope() -> None:
    with pytest.raises(ValueError, match="has no park"):
        Principal(1, "op", Role.OPERATOR)
    with pytest.raises(ValueError, match="bureau"):
        Principal(1, "reg", Role.REGULATOR, park_id=1)
    emg = Principal(1, "reg", Role.REGULATOR, park_id=1, bureaus=(Bureau.EMERGENCY,))
    assert emg.categories == frozenset({"safety"})
    assert not emg.can_operate
    assert Principal(1, "a", Role.ADMIN).can_write_registry


def test_a_token_never_outlives_its_key_and_always_names_it() -> None:
    p = Principal(1, "op", Role.OPERATOR, park_id=1, key_id=4)
    _, exp = sign_token(p, secret=SECRET, ttl_s=900, clock=lambda: 1000.0, not_after=1300.5)
    assert exp == 1300  # the key expires before the token would
    with pytest.raises(AuthError, match="API key only"):
        sign_token(Principal(1, "op", Role.OPERATOR, park_id=1), secret=SECRET, ttl_s=60)


def test_metrics_role_reads_nothing_but_metrics() -> None:
    scraper = Principal(1, "prometheus", Role.METRICS, key_id=2)
    assert scraper.categories == frozenset()
    assert not (scraper.can_operate or scraper.can_read_economic or scraper.sees_logger_ids)
