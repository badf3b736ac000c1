"""The open alarms of the alerting service, between the evaluator and the outbox.

Transitions open, move and close alert rows; the notifications they make due are queued in the
outbox in the same transaction, so an alarm is never recorded without its notification nor the
other way round. Which receiver heard of what is kept here too, and rebuilt from the store after a
restart or a database failure. The caller owns the connection and wakes delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from alerting import alarm_store, outbox_store
from alerting.directory import Directory
from alerting.evaluate import Entity, Evaluator, SeriesState, Transition
from alerting.metrics import AlertingMetrics
from alerting.routing import AlertView, Dispatcher, InhibitRule, Notification, Receiver, Silence
from alerting.rules import Rule

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100  # transitions recorded between two signs of life of the loop
ROUND_MAX = 500  # transitions written in one round trip


def _rounds(transitions: Sequence[Transition], entities: Sequence[Entity]) -> list[list[Transition]]:
    """The transitions in order, cut where a series comes again (its second transition needs the
    first one's alarm) or a round is full."""
    rounds: list[list[Transition]] = []
    seen: set[tuple[str, str]] = set()
    for t in transitions:
        key = (t.rule.id, entities[t.entity].key)
        if not rounds or key in seen or len(rounds[-1]) >= ROUND_MAX:
            rounds.append([])
            seen.clear()
        rounds[-1].append(t)
        seen.add(key)
    return rounds


def alert_labels(rule: Rule, entity: Entity) -> dict[str, str]:
    return {
        **rule.labels,
        **entity.labels,
        "alertname": rule.id,
        "metric": rule.metric,
        "severity": rule.severity,
        "category": rule.category,
        "condition": rule.condition.type,
    }


class OpenAlarms:
    def __init__(self, *, inhibit: Sequence[InhibitRule], metrics: AlertingMetrics) -> None:
        self.open: dict[tuple[str, str], int] = {}  # (rule_id, series_key) -> alert_id
        self.views: dict[int, AlertView] = {}  # open firing alarms as notifications show them
        self.dispatcher = Dispatcher(inhibit=inhibit)
        self.metrics = metrics

    def set_routing(self, receivers: Sequence[Receiver], silences: Sequence[Silence]) -> None:
        self.dispatcher.set_receivers(receivers)
        self.dispatcher.silences = list(silences)

    def restore(
        self, conn: psycopg.Connection[Any], evaluator: Evaluator, *, park_ids: Sequence[int] | None, now_ms: int
    ) -> None:
        """Resume from the open alarms: evaluator state, and which receivers heard of what."""
        ev = evaluator
        open_alerts = []
        for a in alarm_store.fetch_open_alerts(conn, park_ids=park_ids):
            r, e = ev.rule_index.get(a.rule_id), ev.entity_index.get(a.series_key)
            if r is None or e is None or not ev.applies[r, e]:
                # its rule, device or scope is gone: nothing would ever clear it
                alarm_store.move_alert(conn, alert_id=a.alert_id, to="resolved", at_ms=now_ms, value=None)
            else:
                open_alerts.append(a)
        ev.import_state(
            SeriesState(a.rule_id, a.series_key, 2 if a.state == "firing" else 1, a.started_ms, a.value)
            for a in open_alerts
        )
        sent = outbox_store.notified(conn, alert_ids=[a.alert_id for a in open_alerts])
        for a in open_alerts:
            self.open[(a.rule_id, a.series_key)] = a.alert_id
            if a.state == "firing":
                view = AlertView(a.alert_id, "firing", a.labels, a.summary, a.started_ms, a.value)
                self.views[a.alert_id] = view
                got = sent.get(a.alert_id, {})
                self.dispatcher.update(
                    view,
                    now_ms,
                    sent={r: s for r, (s, _) in got.items()},
                    sent_ms=max((t for _, t in got.values()), default=None),
                )
        for a, rid, resolved_ms in outbox_store.unsent_resolutions(conn, park_ids=park_ids):
            firing = AlertView(a.alert_id, "firing", a.labels, a.summary, a.started_ms, a.value)
            self.dispatcher.update(firing, now_ms, sent={rid: "firing"}, sent_ms=now_ms, only={rid})
            self.dispatcher.update(
                AlertView(a.alert_id, "resolved", a.labels, a.summary, a.started_ms, a.value, resolved_ms),
                now_ms,
                only={rid},
            )

    def forget_closed_by_hand(self, conn: psycopg.Connection[Any], evaluator: Evaluator, now_ms: int) -> None:
        """An operator resolved it: the series starts afresh, so a condition still present raises a
        new alarm, and receivers hear that this one is resolved."""
        if not self.open:
            return
        for alert_id in alarm_store.closed_by_hand(conn, alert_ids=list(self.open.values())):
            key = next(k for k, v in self.open.items() if v == alert_id)
            del self.open[key]
            evaluator.reset(*key)
            view = self.views.pop(alert_id, None)
            if view is not None:
                self.dispatcher.update(
                    AlertView(alert_id, "resolved", view.labels, view.summary, view.started_ms, view.value, now_ms),
                    now_ms,
                )

    def counts(self, evaluator: Evaluator) -> dict[str, int]:
        """Open alarms by state, as the evaluator has them."""
        counts = {"pending": 0, "firing": 0}
        for (rule_id, series), _ in self.open.items():
            st = evaluator.series_state(rule_id, series) if series in evaluator.entity_index else 0
            if st:
                counts["pending" if st == 1 else "firing"] += 1
        return counts

    def record(
        self,
        conn: psycopg.Connection[Any],
        transitions: Sequence[Transition],
        directory: Directory,
        now_ms: int,
        progress: Callable[[], None] | None = None,
    ) -> bool:
        """Record transitions and the notifications due, in one transaction; True when notifications
        were queued, for the caller to wake delivery. ``progress`` is called every
        PROGRESS_EVERY transitions: a storm of a thousand alarms is slow work, not a stuck loop."""
        entities = directory.entities
        if not transitions:
            notes = self.dispatcher.due(now_ms)
            if notes:
                with conn.transaction():
                    self._enqueue(conn, notes)
            return bool(notes)  # nothing else to record: no round trip to the database
        with conn.transaction():
            since_beat = 0
            for batch in _rounds(transitions, entities):
                for t, aid in zip(batch, self._write(conn, batch, directory), strict=True):
                    if aid is None:
                        continue
                    entity = entities[t.entity]
                    if t.to == "firing":
                        view = AlertView(aid, "firing", alert_labels(t.rule, entity), t.rule.summary, t.ts_ms, t.value)
                        self.views[aid] = view
                        self.dispatcher.update(view, now_ms)
                    elif t.to == "resolved" and aid in self.views:
                        v = self.views.pop(aid)
                        self.dispatcher.update(
                            AlertView(aid, "resolved", v.labels, v.summary, v.started_ms, t.value, t.ts_ms), now_ms
                        )
                since_beat += len(batch)
                if progress is not None and since_beat >= PROGRESS_EVERY:
                    progress()
                    since_beat = 0
            notes = self.dispatcher.due(now_ms)
            self._enqueue(conn, notes)
        return bool(notes)

    def _write(
        self, conn: psycopg.Connection[Any], batch: Sequence[Transition], directory: Directory
    ) -> list[int | None]:
        """Store a round of transitions (each series once) in two round trips; per transition its
        alarm's id, or None when it changed nothing."""
        entities, ids = directory.entities, directory.ids
        opens: list[alarm_store.NewAlert] = []
        moves: list[alarm_store.Move] = []
        plan: list[tuple[str, int] | None] = []
        for t in batch:
            entity = entities[t.entity]
            self.metrics.transitions.labels(t.to).inc()
            aid = self.open.get((t.rule.id, entity.key))
            if t.to in ("pending", "firing") and aid is None:
                plan.append(("open", len(opens)))
                labels = alert_labels(t.rule, entity)
                opens.append(alarm_store.NewAlert(t.rule, entity.key, ids[t.entity], t.to, t.ts_ms, t.value, labels))
            elif aid is not None:
                plan.append(("move", aid))
                moves.append(alarm_store.Move(aid, t.to, t.ts_ms, t.value))
            else:
                plan.append(None)
        opened = alarm_store.open_alerts(conn, opens)
        alarm_store.move_alerts(conn, moves)
        out: list[int | None] = []
        for t, step in zip(batch, plan, strict=True):
            key = (t.rule.id, entities[t.entity].key)
            if step is None:
                out.append(None)
            elif step[0] == "open":
                aid = opened[step[1]]
                if aid is None:
                    log.warning("series %s of rule %s already had an open alarm", key[1], key[0])
                else:
                    self.open[key] = aid
                out.append(aid)
            else:
                if t.to in ("resolved", "cancelled"):
                    del self.open[key]
                out.append(step[1])
        return out

    @staticmethod
    def _enqueue(conn: psycopg.Connection[Any], notes: Sequence[Notification]) -> None:
        for n in notes:
            outbox_store.enqueue_notification(
                conn,
                receiver_id=n.receiver.receiver_id,
                group_key=n.group_key,
                status=n.status,
                payload=n.payload,
                alert_statuses=[(a.alert_id, a.status) for a in n.alerts],
            )
