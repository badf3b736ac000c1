"""Rule scopes compiled once, and matched in time linear in patterns plus entities.

A scope field (parks, enterprises, devices, kinds, zones) is a list of shell-style patterns. An
operator may list thousands of device names, so matching every entity against every pattern
(``fnmatch`` per pair, with a compile cache that thrashes past 32 768 patterns) is quadratic and
once stopped every alarm for minutes. Here a field is compiled once into:

- a set of its literal names (no ``*``, ``?`` or ``[``): one hash look-up per name;
- one regular expression for all its wildcard patterns together, built from ``fnmatch.translate``
  (whose output never nests quantifiers), tried only when no literal matched.

Each distinct name is judged once per field and the answers are memoised, so a registry change
re-judges only the names it adds. Limits, refused when a rule is saved (the API answers 422):
``MAX_SCOPE_ENTRIES`` patterns per rule, ``MAX_SCOPE_WILDCARDS`` wildcard patterns per rule and
``MAX_PATTERN_CHARS`` characters per pattern.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from alerting.entity import Entity

MAX_SCOPE_ENTRIES = 20_000  # patterns in all fields of one rule's scope
MAX_SCOPE_WILDCARDS = 100  # of which wildcard patterns (each one is a branch of the combined matcher)
MAX_PATTERN_CHARS = 200  # characters of one pattern
FIELDS = ("parks", "enterprises", "devices", "kinds", "zones")
_WILDCARD = re.compile(r"[*?\[]")


class ScopeLimitError(ValueError):
    """A scope beyond the documented limits; the message names the limit and the value."""


def is_wildcard(pattern: str) -> bool:
    return _WILDCARD.search(pattern) is not None


@dataclass(frozen=True, slots=True)
class Selector:
    """Which series a rule applies to; every non-empty field must match (shell-style globs).

    ``enterprises`` and ``devices`` accept ``code`` or a qualified ``park/enterprise`` and
    ``enterprise/device``. Matching is compiled once per scope (``alerting.scope``), within
    the limits that module documents.
    """

    parks: tuple[str, ...] = ()
    enterprises: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()


def check_limits(scope: Selector) -> None:
    patterns = [p for name in FIELDS for p in getattr(scope, name)]
    if len(patterns) > MAX_SCOPE_ENTRIES:
        raise ScopeLimitError(f"scope has {len(patterns)} entries; at most {MAX_SCOPE_ENTRIES} are allowed")
    long = next((p for p in patterns if len(p) > MAX_PATTERN_CHARS), None)
    if long is not None:
        raise ScopeLimitError(f"scope entry {long[:40]!r}… has {len(long)} characters; at most {MAX_PATTERN_CHARS}")
    wild = sum(1 for p in patterns if is_wildcard(p))
    if wild > MAX_SCOPE_WILDCARDS:
        raise ScopeLimitError(f"scope has {wild} wildcard entries; at most {MAX_SCOPE_WILDCARDS} are allowed")


@dataclass(slots=True)
class FieldMatcher:
    """One scope field: literal names as a set, wildcards as one compiled expression."""

    literals: frozenset[str]
    wildcards: re.Pattern[str] | None
    memo: dict[tuple[str, ...], bool] = field(default_factory=dict)

    @classmethod
    def compile(cls, patterns: Sequence[str]) -> FieldMatcher:
        wild = [p for p in patterns if is_wildcard(p)]
        combined = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in wild)) if wild else None
        return cls(frozenset(p for p in patterns if not is_wildcard(p)), combined)

    def matches(self, names: tuple[str, ...]) -> bool:
        hit = self.memo.get(names)
        if hit is None:
            hit = any(n in self.literals for n in names) or (
                self.wildcards is not None and any(self.wildcards.match(n) for n in names)
            )
            self.memo[names] = hit
        return hit


_NAMES: dict[str, Callable[[Entity], tuple[str, ...]]] = {
    "parks": lambda e: (e.park,),
    "enterprises": lambda e: (e.enterprise, f"{e.park}/{e.enterprise}"),
    "devices": lambda e: (e.code, f"{e.enterprise}/{e.code}"),
    "kinds": lambda e: (e.kind,),
    "zones": lambda e: (e.zone,),
}


@dataclass(slots=True)
class CompiledScope:
    """A selector ready to judge entities; an empty field selects everything."""

    fields: dict[str, FieldMatcher]

    @classmethod
    def compile(cls, scope: Selector) -> CompiledScope:
        return cls({n: FieldMatcher.compile(getattr(scope, n)) for n in FIELDS if getattr(scope, n)})

    def matches(self, entity: Entity) -> bool:
        return all(m.matches(_NAMES[n](entity)) for n, m in self.fields.items())

    def mask(self, entities: Sequence[Entity]) -> np.ndarray:
        mask = np.ones(len(entities), dtype=bool)
        for name, matcher in self.fields.items():
            names_of = _NAMES[name]
            mask &= np.fromiter((matcher.matches(names_of(e)) for e in entities), dtype=bool, count=len(entities))
        return mask


class ScopeCache:
    """Compiled scopes kept across rebuilds: an unchanged rule scope is never compiled twice, and
    its memo means that only new names are judged when devices are added."""

    def __init__(self) -> None:
        self._compiled: dict[Selector, CompiledScope] = {}

    def get(self, scope: Selector) -> CompiledScope:
        got = self._compiled.get(scope)
        if got is None:
            got = self._compiled[scope] = CompiledScope.compile(scope)
        return got

    def keep_only(self, scopes: Sequence[Selector]) -> None:
        wanted = set(scopes)
        for s in [s for s in self._compiled if s not in wanted]:
            del self._compiled[s]
