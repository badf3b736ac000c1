"""Clean-up of platform-wide paging rows a test makes: they belong to every park, so a later test's
park would list them (its on-duty panel, its contacts) and find people it never made."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg


def forget_platform_wide(
    db: psycopg.Connection[Any], *, contacts: Sequence[str] = (), rosters: Sequence[str] = ()
) -> None:
    db.execute("DELETE FROM notify_rosters WHERE park_id IS NULL AND name = ANY(%s)", (list(rosters),))
    db.execute("DELETE FROM notify_contacts WHERE park_id IS NULL AND name = ANY(%s)", (list(contacts),))
