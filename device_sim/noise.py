"""Counter-based random numbers: a pure function of (seed, series key, tick, stream).

A stateful generator would make a reading depend on how the timeline was cut into blocks
(real time one tick at a time, back-fill an hour at a time). Hashing the coordinates instead
gives every reading the same value however, and in whatever order, it is computed — so
``sim backfill`` followed by ``sim run`` continues the very same signals.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def key_of(text: str) -> int:
    """A stable 64-bit key of a name (Python's hash() changes between runs)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def keys_of(texts: list[str], seed: int) -> U64:
    return np.array([key_of(f"{seed}/{t}") for t in texts], dtype=np.uint64)


def _mix(x: U64) -> U64:
    # splitmix64's finaliser: a bijection with good avalanche, so nearby ticks look unrelated.
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def bits(keys: U64, ticks: npt.ArrayLike, stream: int) -> U64:
    """64 random bits per (key, tick): ticks (m,) give (n, m); ticks (n, m) pair row-wise."""
    k = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
    t = np.atleast_1d(np.asarray(ticks, dtype=np.int64)).view(np.uint64)
    s = np.atleast_1d(np.asarray([stream], dtype=np.uint64))
    salt = _mix(t * _GOLDEN + _mix(s + _GOLDEN))
    return _mix(k[:, None] ^ (salt[None, :] if salt.ndim == 1 else salt))


def uniform(keys: U64, ticks: npt.ArrayLike, stream: int) -> F64:
    """Uniform in (0, 1), never exactly 0 or 1."""
    b = bits(keys, ticks, stream) >> np.uint64(11)
    return (b.astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normal(keys: U64, ticks: npt.ArrayLike, stream: int) -> F64:
    """Standard normal (Box–Muller on two independent streams)."""
    u1 = uniform(keys, ticks, 2 * stream + 1_000_003)
    u2 = uniform(keys, ticks, 2 * stream + 1_000_004)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
