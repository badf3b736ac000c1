"""Lockout of password guessing on the HJ 212 port (pure; the server asks before each check).

A data logger's password is six digits (HJ 212-2017 ``PW``): a million guesses, a minute's work
for an unthrottled client. Failures are counted per MN and per source address within a window;
at the limit that MN, or that address, is locked out for a while, twice as long at each
lockout in a row (up to a maximum), and while locked every packet is refused before its password
is looked at, so a correct guess during a lockout tells nothing. With the defaults an MN takes
5 guesses per lockout period, at most 5 an hour once the lockouts reach an hour.

The address a logger last logged in from is exempt from its MN's lockout (not from its address's
own), so someone elsewhere guessing an MN's password does not cut the real logger off. Memory
is bounded: at most ``max_tracked`` MNs and addresses each, the quietest forgotten first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from smartpark.settings import Hj212Settings


@dataclass(frozen=True, slots=True)
class LockoutLimits:
    failures_per_mn: int = 5
    failures_per_address: int = 20
    window_s: float = 600.0  # failures older than this are forgotten
    lockout_s: float = 60.0  # the first lockout; each one in a row doubles it
    max_lockout_s: float = 3600.0
    max_tracked: int = 10_000

    def __post_init__(self) -> None:
        if self.failures_per_mn < 1 or self.failures_per_address < 1:
            raise ValueError(
                f"failure limits must be at least 1: {self.failures_per_mn} per MN, "
                f"{self.failures_per_address} per address"
            )
        if not 0 < self.lockout_s <= self.max_lockout_s or self.window_s <= 0:
            raise ValueError(
                f"lockout {self.lockout_s} s must be positive and at most {self.max_lockout_s} s, "
                f"window {self.window_s} s positive"
            )
        if self.max_tracked < 1:
            raise ValueError(f"max_tracked {self.max_tracked} must be at least 1")


DEFAULT_LOCKOUT = LockoutLimits()


def lockout_limits(settings: Hj212Settings) -> LockoutLimits:
    """The limits configured in the settings (``SMARTPARK_HJ212_*``)."""
    return LockoutLimits(
        failures_per_mn=settings.failures_per_mn,
        failures_per_address=settings.failures_per_address,
        window_s=settings.failure_window_s,
        lockout_s=settings.lockout_s,
        max_lockout_s=settings.max_lockout_s,
    )


@dataclass(slots=True)
class _Record:
    failures: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    locked_until: float = 0.0
    lockouts: int = 0  # in a row: forgotten after a quiet window past the last lockout
    trusted: str | None = None  # the address of the last successful login (MNs only)


class LoginGuard:
    def __init__(self, limits: LockoutLimits = DEFAULT_LOCKOUT, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._mns: dict[str, _Record] = {}
        self._addresses: dict[str, _Record] = {}

    def locked(self, mn: str, address: str) -> bool:
        """True when a login for ``mn`` from ``address`` must be refused unchecked."""
        now = self._clock()
        by_address = self._addresses.get(address)
        if by_address is not None and by_address.locked_until > now:
            return True
        by_mn = self._mns.get(mn)
        return by_mn is not None and by_mn.locked_until > now and by_mn.trusted != address

    def failed(self, mn: str | None, address: str) -> None:
        """A wrong password for a registered ``mn``, or (``mn`` None) an unknown MN."""
        now = self._clock()
        self._count(self._addresses, address, self.limits.failures_per_address, now)
        if mn is not None:
            self._count(self._mns, mn, self.limits.failures_per_mn, now)

    def succeeded(self, mn: str, address: str) -> None:
        record = self._mns.get(mn)
        if record is None:
            record = self._track(self._mns, mn, self._clock())
        record.failures, record.trusted = 0, address

    def _count(self, table: dict[str, _Record], key: str, limit: int, now: float) -> None:
        record = table.get(key) or self._track(table, key, now)
        lim = self.limits
        if now - record.first_at > lim.window_s or record.failures == 0:
            record.failures, record.first_at = 0, now
        if record.lockouts and now - max(record.locked_until, record.last_at) > lim.window_s:
            record.lockouts = 0
        record.failures += 1
        record.last_at = now
        if record.failures >= limit:
            record.locked_until = now + min(lim.lockout_s * 2**record.lockouts, lim.max_lockout_s)
            record.lockouts += 1
            record.failures = 0

    def _track(self, table: dict[str, _Record], key: str, now: float) -> _Record:
        if len(table) >= self.limits.max_tracked:
            quiet = min(table, key=lambda k: max(table[k].last_at, table[k].locked_until))
            del table[quiet]
        record = table[key] = _Record(first_at=now, last_at=now)
        return record
