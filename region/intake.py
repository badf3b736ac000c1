"""The region receives a park's signed package: every refusal named, every revision kept once.

Order of the checks: the key must be a registered park's (403), the signature good (403), the
package readable (422) and for the key's own park (403), not created in the future (422); then, under
a lock on the park, the revision and nonce: the byte-identical package again is a retry whose
answer was lost (acknowledged, nothing stored), anything else reusing a revision or a nonce is a
replay or a late edit without a revision (409), and a revision must exceed the stored ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from region import store
from region.package import Envelope, PackageError, decode, digest, verify

MAX_CLOCK_AHEAD = timedelta(minutes=5)  # a park's clock may run this much ahead of the region's


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int  # 201 stored, 200 the same package again, else the refusal's HTTP status
    reason: str
    park: str | None = None
    period: str | None = None
    revision: int | None = None
    field: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 201)


def receive(conn: psycopg.Connection[Any], envelope_json: Mapping[str, Any], *, clock: Callable[[], float]) -> Outcome:
    """Check one envelope and store it if it is new; ``conn`` in autocommit (the checks and the
    write take a transaction of their own, under the park's lock)."""
    try:
        env = Envelope.from_json(envelope_json)
    except PackageError as exc:
        return Outcome(422, str(exc), field=exc.field)
    park = store.park_by_key(conn, key=env.key_id)
    if park is None:
        return Outcome(403, f"unknown park key {env.key_id[:32]!r}: register the park's public key at the region")
    if not verify(env, bytes(park["public_key"])):
        return Outcome(403, f"bad signature for the key of park {park['park_code']!r}")
    try:
        pkg = decode(env.package)
    except PackageError as exc:
        return Outcome(422, str(exc), field=exc.field)
    code = park["park_code"]
    if pkg.park != code:
        return Outcome(403, f"a package for park {pkg.park!r} signed with the key of park {code!r}", park=code)
    now = datetime.fromtimestamp(clock(), UTC)
    if pkg.created > now + MAX_CLOCK_AHEAD:
        return Outcome(422, f"created {pkg.created.isoformat()} is ahead of the region's clock", field="created")
    fingerprint = digest(env.package)

    def answer(status: int, reason: str) -> Outcome:
        return Outcome(status, reason, park=code, period=pkg.period, revision=pkg.revision)

    with conn.transaction():
        store.lock_park(conn, code=code)
        stored = store.stored_revision(conn, code=code, period=pkg.period, revision=pkg.revision)
        if stored == fingerprint:
            return answer(200, "already stored: this exact package")
        if stored is not None:
            changed = f"revision {pkg.revision} of {pkg.period} is stored with other content"
            return answer(409, f"{changed}: submit a new revision")
        if store.nonce_used(conn, code=code, nonce=pkg.nonce):
            return answer(409, f"nonce {pkg.nonce} was used by another package of park {code!r}: a replay")
        latest = store.latest_revision(conn, code=code, period=pkg.period)
        if pkg.revision <= latest:
            return answer(409, f"revision {pkg.revision} of {pkg.period}: revision {latest} is stored")
        store.add_submission(conn, package=pkg, raw=env.package, signature=env.signature, digest=fingerprint)
    return answer(201, "stored")
