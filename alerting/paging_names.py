"""Whom a park's paging definitions may name: its own park's contacts, rosters and receivers, or
platform-wide ones; a platform-wide definition, platform-wide ones only (every park's operators
read it). Names are unique across parks, so another park's would page, and show, its people.

The one rule for escalation policies and rosters (api/routes/paging.py) and emergency plans
(emergency/registry_store.py). A name not saved yet is taken: it can only ever resolve within
the alarm's park (alerting/escalator.py, emergency/notify.py look names up there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from alerting import paging_store

KINDS = ("contacts", "rosters", "receivers")


class NamedElsewhere(ValueError):
    """A definition names another park's people; ``field`` is the first place that does, the
    message names every such name where it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check(conn: paging_store.Conn, *, park_id: int | None, named: Sequence[tuple[str, str, Iterable[str]]]) -> None:
    """Refuse (NamedElsewhere) names of another park among ``named``: (field, kind, names), kind
    one of KINDS, for a definition of park ``park_id`` (None: platform-wide)."""
    listed = [(field, kind, list(names)) for field, kind, names in named]
    elsewhere: dict[str, set[str]] = {}
    for kind in KINDS:
        wanted = sorted({n for _, k, names in listed if k == kind for n in names})
        elsewhere[kind] = set(paging_store.names_of_parks_but(conn, kind=kind, names=wanted, park_id=park_id))
    refused = [(field, kind, sorted(set(ns) & elsewhere[kind])) for field, kind, ns in listed]
    refused = [r for r in refused if r[2]]
    if refused:
        raise NamedElsewhere(refused[0][0], "; ".join(refusal(f, k, ns, park_id) for f, k, ns in refused))


def of_levels(field: str, levels: Sequence[Any]) -> list[tuple[str, str, Iterable[str]]]:
    """What ``check`` takes for an escalation's levels or a plan's steps' ``notify`` (each with
    contacts, rosters and receivers), the field as ``field`` names it ({i}: the index, {kind})."""
    return [
        (field.format(i=i, kind=kind), kind, getattr(level, kind)) for i, level in enumerate(levels) for kind in KINDS
    ]


def refusal(field: str, kind: str, names: Sequence[str], park_id: int | None) -> str:
    shown = ", ".join(repr(n) for n in names)
    if park_id is None:
        return f"{field}: {kind} {shown} belong to a park; a platform-wide definition names platform-wide ones only"
    return f"{field}: {kind} {shown} belong to another park; name park {park_id}'s or platform-wide ones"
