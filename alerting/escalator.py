"""The escalation thread: starts each policy on the firing alarms it matches, and at each
deadline pages the level that is due, until the alarm is acknowledged or resolved.

It reads alarms and writes escalation state and outbox rows only, never the evaluation's
state: pages go through the outbox like every notification (so they survive a restart and a
channel's outage) and the delivery thread is woken for them. The state is in the database
(notify_escalations), so a restarted service carries on at the level it had reached; a
deadline that passed while it was down is served at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg

from alerting import outbox_store, paging_store, store_sql
from alerting.escalation import Policy, people, policy_from_dict, robots_and_people, step
from alerting.rosters import on_duty, roster_from_dict
from alerting.routing import Receiver
from alerting.rules import RuleError

log = logging.getLogger(__name__)
POLICY_REFRESH_S = 5.0
BATCH = 500


class Escalator(threading.Thread):
    def __init__(
        self,
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        receivers: Callable[[], Mapping[int, Receiver]],
        wake_delivery: Callable[[], None],
        poll_s: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name="alerting-escalation", daemon=True)
        self._connect = connect
        self.receivers = receivers
        self.wake_delivery = wake_delivery
        self.poll_s = poll_s
        self.clock = clock
        self._halt = threading.Event()
        self.policies: dict[int, Policy] = {}
        self._policies_at = 0.0

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._halt.is_set():
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                if self.pass_once(conn):
                    self.wake_delivery()
            except psycopg.Error as exc:
                log.error("escalation: database error, retrying: %s", exc)
                if conn is not None:
                    with contextlib.suppress(psycopg.Error):
                        conn.close()
                conn = None
                self._halt.wait(1.0)
                continue
            except Exception:  # a bad policy must not stop the others
                log.exception("escalation: pass failed")
            self._halt.wait(self.poll_s)
        if conn is not None:
            conn.close()

    def _load_policies(self, conn: psycopg.Connection[Any]) -> None:
        now = self.clock()
        if self.policies and now - self._policies_at < POLICY_REFRESH_S:
            return
        policies = {}
        for pid, name, matchers, definition, park_id in paging_store.fetch_policies(conn):
            try:
                policies[pid] = policy_from_dict(pid, name, matchers, definition, park_id=park_id)
            except RuleError as exc:
                log.error("escalation policy not used: %s", exc)
        self.policies, self._policies_at = policies, now

    def pass_once(self, conn: psycopg.Connection[Any]) -> int:
        """Start new escalations and serve the due ones; returns the pages queued."""
        self._load_policies(conn)
        if not self.policies:
            return 0
        queued = 0
        with conn.transaction():
            ids = list(self.policies)
            matched: list[tuple[int, int, datetime]] = []
            unmatched: list[tuple[int, int, datetime]] = []
            for alert_id, labels, park_id, firing_at in paging_store.unescalated(
                conn, policy_ids=ids, limit=BATCH * 10
            ):
                for pid, policy in self.policies.items():
                    starts = policy.matches(labels, park_id=park_id)
                    (matched if starts else unmatched).append((alert_id, pid, firing_at))
            paging_store.start_escalations(conn, rows=matched)
            paging_store.mark_unmatched(conn, rows=unmatched)
        with conn.transaction():
            for due in paging_store.claim_due_escalations(conn, limit=BATCH):
                queued += self._serve(conn, due)
        return queued

    def _serve(self, conn: psycopg.Connection[Any], due: Mapping[str, Any]) -> int:
        aid, pid = due["alert_id"], due["policy_id"]
        policy = self.policies.get(pid)
        why = (
            "acknowledged"
            if due["acknowledged"]
            else "resolved"
            if due["state"] != "firing"
            else "policy gone"
            if policy is None
            else ""
        )
        if why or policy is None:
            paging_store.advance_escalation(
                conn, alert_id=aid, policy_id=pid, level=due["level"], next_at=None, repeats=due["repeats"], why=why
            )
            return 0
        s = step(
            policy,
            levels_done=due["level"],
            repeats=due["repeats"],
            started_s=due["started_at"].timestamp(),
            deadline_s=due["next_at"].timestamp(),
        )
        queued = self._page(conn, policy, s.number, s.level, due)
        paging_store.advance_escalation(
            conn,
            alert_id=aid,
            policy_id=pid,
            level=s.levels_done,
            next_at=None if s.next_s is None else datetime.fromtimestamp(s.next_s, UTC),
            repeats=s.repeats,
            why="" if s.next_s is not None else "last level paged",
        )
        return queued

    def _page(
        self, conn: psycopg.Connection[Any], policy: Policy, number: int, level: Any, due: Mapping[str, Any]
    ) -> int:
        # the alarm's park's receivers, rosters and people, or platform-wide ones: never another park's
        park_id, park = int(due["park_id"]), due["labels"].get("park")
        by_name = {r.name: r for r in self.receivers().values() if r.park in (None, park)}
        missing = [n for n in level.receivers if n not in by_name]
        if missing:
            log.error(
                "escalation %s level %d: receivers %s are not enabled in park %s", policy.name, number, missing, park
            )
        robots, personal = robots_and_people([by_name[n] for n in level.receivers if n in by_name])
        duty = {}
        rosters = paging_store.fetch_rosters(conn, names=list(level.rosters), park_id=park_id)
        for name, (definition, tz) in rosters.items():
            try:
                duty[name] = on_duty(roster_from_dict(definition), datetime.now(UTC), tz).member
            except RuleError as exc:
                log.error("roster %s not used: %s", name, exc)
        names = people(level, duty)
        contacts = paging_store.fetch_contacts(conn, names=names, park_id=park_id)
        alert = {
            "alert_id": due["alert_id"],
            "status": "firing",
            "labels": due["labels"],
            "summary": due["summary"],
            "starts_at_ms": store_sql.ms(due["alarm_started_at"]),
            "ends_at_ms": None,
            "value": due["value"],
        }
        base = {"status": "firing", "alerts": [alert], "policy": policy.name, "level": number}
        queued = 0
        for rec in robots:
            queued += self._enqueue(conn, rec, {**base, "receiver": rec.name}, f"escalation:{policy.name}:{number}")
        for name in names:
            if name not in contacts:
                log.error("escalation %s level %d: no contact %r in park %d", policy.name, number, name, park_id)
                continue
            cid, email, phone = contacts[name]
            for rec in personal:
                address = email if rec.channel == "email" else phone
                if not address:
                    continue
                payload = {**base, "receiver": rec.name, "person": {"id": cid, "name": name}, "to": [address]}
                queued += self._enqueue(conn, rec, payload, f"escalation:{policy.name}:{number}:{cid}")
        return queued

    @staticmethod
    def _enqueue(conn: psycopg.Connection[Any], rec: Receiver, payload: dict[str, Any], key: str) -> int:
        outbox_store.enqueue_notification(
            conn, receiver_id=rec.receiver_id, group_key=key, status="firing", payload=payload, alert_statuses=[]
        )
        return 1
