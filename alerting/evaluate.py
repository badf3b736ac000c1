"""Vectorised rule evaluation with per-series state (pure; no I/O, clock passed in).

A batch of readings arrives as parallel numpy columns (entity index, metric id, ts, value). For
each rule the readings it watches are selected and compared with the threshold as arrays; only
the series whose state may change (a breach on a quiet series, a clear on a firing one, anything
on a pending one) are walked reading by reading, so a healthy park costs a few array passes per
rule and no Python per reading.

Series state: OK → PENDING (breach, waiting for ``for``) → FIRING → OK (cleared past the
hysteresis). A pending series whose value comes back is cancelled. No-data rules fire from
:meth:`Evaluator.tick` when a series has been silent for the window, measured on the receipt
clock, and resolve on the next reading.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from alerting.entity import Entity
from alerting.metric_ids import AIR_AQI_ID, ANY_METRIC_ID, PERIODIC_IDS, metric_id
from alerting.reading_batch import Batch, first_of_each
from alerting.rules import AIR_AQI, SILENCE_TYPES, Rule
from alerting.scope import ScopeCache
from alerting.thresholds import breach_and_clear, window_stat
from smartpark import aqi, limits
from smartpark.catalogue import BY_CODE

OK, PENDING, FIRING = 0, 1, 2
STATE_NAMES = {OK: "ok", PENDING: "pending", FIRING: "firing"}
O2_ID = BY_CODE["stack.o2_pct"].id
AQI_INPUT_IDS = {BY_CODE[c].id: c for c in aqi.HOURLY_ITEM_OF_METRIC}
AQI_WINDOW_MS = 3_600_000  # the real-time AQI is that of the 1 h mean concentrations
MAX_WINDOW_POINTS = 10_000  # per series: bounds memory whatever the publishing rate


class BuildCancelled(Exception):
    """An evaluator build given up because the service is stopping."""


@dataclass(frozen=True, slots=True)
class Transition:
    rule: Rule
    entity: int
    to: str  # pending | firing | resolved | cancelled
    ts_ms: int
    value: float | None


@dataclass(frozen=True, slots=True)
class SeriesState:
    """What must survive a restart for one (rule, series)."""

    rule_id: str
    entity_key: str
    state: int
    since_ms: int
    value: float | None


class Evaluator:
    def __init__(
        self,
        rules: Iterable[Rule],
        entities: Sequence[Entity],
        *,
        now_ms: int,
        max_age_s: float = 3600.0,
        max_future_s: float = 300.0,
        scopes: ScopeCache | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        # Readings older than max_age_s (a back-fill, a logger's buffer after an outage) are history,
        # not news: they keep no-data alarms quiet but raise and clear nothing.
        self.max_age_ms, self.max_future_ms = int(max_age_s * 1000), int(max_future_s * 1000)
        self.rules = [r for r in rules if r.enabled]
        self.entities = list(entities)
        self.entity_index = {e.key: i for i, e in enumerate(self.entities)}
        n_rules, n_ent = len(self.rules), len(self.entities)
        self.rule_index = {r.id: i for i, r in enumerate(self.rules)}
        self.metric_ids = np.array([metric_id(r.metric) for r in self.rules], dtype=np.int32)
        self.applies = np.ones((n_rules, n_ent), dtype=bool)
        scopes = scopes or ScopeCache()
        for i, r in enumerate(self.rules):
            if cancelled():  # a rebuild beside the running evaluator gives way to a shut-down
                raise BuildCancelled(f"evaluator build stopped at rule {i} of {n_rules}")
            self.applies[i] = scopes.get(r.scope).mask(self.entities)
            if r.condition.type == "logger_silent":
                self.applies[i] &= np.array([bool(e.attributes.get("hj212_mn")) for e in self.entities], dtype=bool)
        self.state = np.zeros((n_rules, n_ent), dtype=np.int8)
        self.since_ms = np.zeros((n_rules, n_ent), dtype=np.int64)
        self.last_value = np.full((n_rules, n_ent), np.nan)
        self.last_seen = np.full((n_rules, n_ent), now_ms, dtype=np.int64)
        self.windows: dict[tuple[int, int], deque[tuple[int, float]]] = {}
        self.o2 = np.full(n_ent, np.nan)
        self.o2_ts = np.full(n_ent, -1, dtype=np.int64)  # when self.o2 was measured
        outlets = [limits.outlet_limits(e.kind, e.attributes) for e in self.entities]
        self.o2_ref = np.array([np.nan if o.o2_ref_pct is None else o.o2_ref_pct for o in outlets])
        self.o2_ceiling = np.array([o.o2_ceiling_pct for o in outlets])
        # per (rule, entity): the outlet's limit for rules judged against it (NaN: no limit, not judged)
        self.threshold = np.full((n_rules, n_ent), np.nan)
        for i, r in enumerate(self.rules):
            if r.condition.outlet_limit:
                self.threshold[i] = [o.threshold(r.metric) for o in outlets]
                self.applies[i] &= np.isfinite(self.threshold[i])
        self.aqi_inputs: dict[int, dict[str, deque[tuple[int, float]]]] = {}
        self.wants_aqi = any(r.metric == AIR_AQI for r in self.rules)
        self._batch_o2: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0))
        self.unevaluable = 0  # readings a rule could not judge (e.g. no O2 yet for a correction)
        self.stale = 0  # readings too old (or too far ahead) to raise or clear an alarm
        self.out_of_order = 0  # readings older than one already judged for the same series
        self.duplicates = 0  # a second reading of a series at an instant already judged (storage keeps the first)
        self.last_ts = np.zeros((n_rules, n_ent), dtype=np.int64)

    # -- state across restarts -----------------------------------------------------------------
    def export_state(self) -> list[SeriesState]:
        out = []
        for r, e in zip(*np.nonzero(self.state), strict=True):
            v = self.last_value[r, e]
            out.append(
                SeriesState(
                    self.rules[r].id,
                    self.entities[e].key,
                    int(self.state[r, e]),
                    int(self.since_ms[r, e]),
                    None if np.isnan(v) else float(v),
                )
            )
        return out

    def import_state(self, states: Iterable[SeriesState]) -> int:
        n = 0
        for s in states:
            r, e = self.rule_index.get(s.rule_id), self.entity_index.get(s.entity_key)
            if r is None or e is None or not self.applies[r, e]:
                continue  # the rule or the device is gone: its alarm is resolved by the caller
            self.state[r, e], self.since_ms[r, e] = s.state, s.since_ms
            self.last_value[r, e] = np.nan if s.value is None else s.value
            n += 1
        return n

    def reset(self, rule_id: str, entity_key: str) -> None:
        """Forget a series' alarm (cleared by hand): the next breach raises a new one."""
        r, e = self.rule_index.get(rule_id), self.entity_index.get(entity_key)
        if r is not None and e is not None:
            self.state[r, e] = OK
            self.windows.pop((r, e), None)

    def series_state(self, rule_id: str, entity_key: str) -> int:
        return int(self.state[self.rule_index[rule_id], self.entity_index[entity_key]])

    # -- the stream ------------------------------------------------------------------------------
    def evaluate(self, batch: Batch, *, now_ms: int) -> list[Transition]:
        if len(batch) == 0:
            return []
        ent, met, ts, val = self._sorted(batch)
        o2_rows = met == O2_ID
        o2_ent, o2_val, o2_ts = ent[o2_rows], val[o2_rows], ts[o2_rows]
        if self.wants_aqi:
            ent, met, ts, val = self._with_aqi(ent, met, ts, val)
        out: list[Transition] = []
        current = (ts >= now_ms - self.max_age_ms) & (ts <= now_ms + self.max_future_ms)
        self.stale += int((~current).sum())
        measured = ent[~np.isin(met, PERIODIC_IDS)]  # the platform's own figures are no sign of life
        for r, rule in enumerate(self.rules):
            mid = self.metric_ids[r]
            if rule.condition.type in SILENCE_TYPES:
                self._seen(r, measured if mid == ANY_METRIC_ID else ent[met == mid], now_ms, out)
                continue
            rows = np.flatnonzero((met == mid) & current)
            if rows.size == 0:
                continue
            rows = rows[self.applies[r, ent[rows]]]
            if rows.size:
                self._judge(r, ent[rows], ts[rows], val[rows], out)
        newer = o2_ts > self.o2_ts[o2_ent]  # a repeat of the O2 instant held does not replace it
        self.o2[o2_ent[newer]], self.o2_ts[o2_ent[newer]] = o2_val[newer], o2_ts[newer]
        return out

    def _sorted(self, batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The batch in time order, the first of repeated (entity, metric, ts) only (as storage
        keeps it); its O2 readings indexed by (entity, ts) so that a concentration is corrected
        with the O2 measured with it (or just before it), not the batch's last."""
        keep = first_of_each(batch)
        if keep is not None:
            self.duplicates += int((~keep).sum())
            batch = Batch(batch.entity[keep], batch.metric[keep], batch.ts_ms[keep], batch.value[keep])
        order = np.argsort(batch.ts_ms, kind="stable")
        ent, met = batch.entity[order], batch.metric[order]
        ts, val = batch.ts_ms[order], batch.value[order]
        o2_rows = met == O2_ID
        keys = (ent[o2_rows].astype(np.int64) << 42) | ts[o2_rows]
        order_o2 = np.argsort(keys, kind="stable")
        self._batch_o2 = (keys[order_o2], val[o2_rows][order_o2])
        return ent, met, ts, val

    def prime(self, batch: Batch, only: Collection[int] | None = None) -> int:
        """Fill the windows of average and rate rules (of the rule indexes ``only``, default all)
        with stored readings (after a restart or for a new rule) without judging them, so that an
        hourly average resumes over the last hour instead of over the first reading after the
        restart. Returns the readings taken."""
        if len(batch) == 0:
            return 0
        ent, met, ts, val = self._sorted(batch)
        taken = 0
        for r, rule in enumerate(self.rules):
            if not rule.is_window or (only is not None and r not in only):
                continue
            rows = np.flatnonzero(met == self.metric_ids[r])
            rows = rows[self.applies[r, ent[rows]]]
            ents, tss, v = ent[rows], ts[rows], val[rows]
            if rule.transform == "o2_reference":
                v = limits.o2_corrected(v, self._o2_at(ents, tss), self.o2_ref[ents], self.o2_ceiling[ents])
                ok = np.isfinite(v)
                ents, tss, v = ents[ok], tss[ok], v[ok]
            for e, t, x in zip(ents.tolist(), tss.tolist(), v.tolist(), strict=True):
                self.windows.setdefault((r, e), deque(maxlen=MAX_WINDOW_POINTS)).append((t, x))
            if ents.size:
                np.maximum.at(self.last_ts[r], ents, tss)
            taken += int(ents.size)
        o2_rows = met == O2_ID
        self.o2[ent[o2_rows]], self.o2_ts[ent[o2_rows]] = val[o2_rows], ts[o2_rows]
        return taken

    def window_metrics(self, only: Collection[int] | None = None) -> tuple[set[int], float]:
        """Metric ids that window rules (of the indexes ``only``, default all) need (with O2 for
        corrected ones), and the longest window."""
        ids: set[int] = set()
        longest = 0.0
        for r, rule in enumerate(self.rules):
            if rule.is_window and self.metric_ids[r] > 0 and (only is None or r in only):
                ids.add(int(self.metric_ids[r]))
                if rule.transform == "o2_reference":
                    ids.add(O2_ID)
                longest = max(longest, rule.condition.window_s)
        return ids, longest

    def _with_aqi(self, ent: np.ndarray, met: np.ndarray, ts: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, ...]:
        rows = np.flatnonzero(np.isin(met, list(AQI_INPUT_IDS)))
        if rows.size == 0:
            return ent, met, ts, val
        stamp: dict[int, int] = {}
        for i in rows:
            e, t = int(ent[i]), int(ts[i])
            buf = self.aqi_inputs.setdefault(e, {}).setdefault(
                AQI_INPUT_IDS[int(met[i])], deque(maxlen=MAX_WINDOW_POINTS)
            )
            buf.append((t, float(val[i])))
            stamp[e] = max(stamp.get(e, t), t)
        extra = [(e, t, aqi.realtime_aqi(self._hourly_means(e, t), t)) for e, t in stamp.items()]
        extra = [x for x in extra if x[2] is not None]
        if not extra:
            return ent, met, ts, val
        return (
            np.concatenate([ent, np.array([x[0] for x in extra], dtype=np.int32)]),
            np.concatenate([met, np.full(len(extra), AIR_AQI_ID, dtype=np.int32)]),
            np.concatenate([ts, np.array([x[1] for x in extra], dtype=np.int64)]),
            np.concatenate([val, np.array([x[2] for x in extra], dtype=np.float64)]),
        )

    def _hourly_means(self, e: int, now_ts: int) -> dict[str, float]:
        """Mean of each pollutant over the hour before ``now_ts`` (the station's latest reading)."""
        out = {}
        for code, buf in self.aqi_inputs.get(e, {}).items():
            while buf and buf[0][0] <= now_ts - AQI_WINDOW_MS:
                buf.popleft()
            if buf:
                out[code] = sum(x for _, x in buf) / len(buf)
        return out

    def _seen(self, r: int, ents: np.ndarray, now_ms: int, out: list[Transition]) -> None:
        if ents.size == 0:
            return
        ents = np.unique(ents)
        ents = ents[self.applies[r, ents]]
        self.last_seen[r, ents] = now_ms
        for e in ents[self.state[r, ents] == FIRING]:
            self.state[r, e] = OK
            out.append(Transition(self.rules[r], int(e), "resolved", now_ms, None))

    def _judge(self, r: int, ents: np.ndarray, ts: np.ndarray, v: np.ndarray, out: list[Transition]) -> None:
        rule = self.rules[r]
        last = self.last_ts[r, ents]
        # An instant already judged is a repeat that storage did not keep: judge it no more
        # (the AQI is recomputed at an instant as its inputs arrive, so it may repeat one).
        in_order = ts >= last if self.metric_ids[r] == AIR_AQI_ID else ts > last
        if not in_order.all():
            repeat = ts == last
            self.duplicates += int((~in_order & repeat).sum())
            self.out_of_order += int((~in_order & ~repeat).sum())
            ents, ts, v = ents[in_order], ts[in_order], v[in_order]
            if ents.size == 0:
                return
        np.maximum.at(self.last_ts[r], ents, ts)
        if rule.transform == "o2_reference":
            # above the O2 ceiling the source is not firing: not evaluable (smartpark.limits)
            v = limits.o2_corrected(v, self._o2_at(ents, ts), self.o2_ref[ents], self.o2_ceiling[ents])
            ok = np.isfinite(v)
            self.unevaluable += int((~ok).sum())
            ents, ts, v = ents[ok], ts[ok], v[ok]
            if ents.size == 0:
                return
        if rule.is_window:
            v = self._window_values(r, ents, ts, v)
        thr = self.threshold[r, ents] if rule.condition.outlet_limit else None
        breach, clear = breach_and_clear(rule, v, thr)
        s = self.state[r, ents]
        moving = (breach & (s != FIRING)) | (~breach & (s == PENDING)) | (clear & (s == FIRING))
        if not moving.any():
            fired = s == FIRING  # keep the latest value of firing series for the notifications
            self.last_value[r, ents[fired]] = v[fired]
            return
        for i in np.flatnonzero(np.isin(ents, np.unique(ents[moving]))):
            self._step(r, int(ents[i]), int(ts[i]), float(v[i]), bool(breach[i]), bool(clear[i]), out)

    def _o2_at(self, ents: np.ndarray, ts: np.ndarray) -> np.ndarray:
        o2 = self.o2[ents].copy()
        keys, values = self._batch_o2
        if keys.size:
            pos = np.searchsorted(keys, (ents.astype(np.int64) << 42) | ts, side="right") - 1
            hit = (pos >= 0) & ((keys[np.maximum(pos, 0)] >> 42) == ents)
            o2[hit] = values[pos[hit]]
        return o2

    def _window_values(self, r: int, ents: np.ndarray, ts: np.ndarray, v: np.ndarray) -> np.ndarray:
        rule = self.rules[r]
        window_ms = int(rule.condition.window_s * 1000)
        stat = np.empty_like(v)
        for i in range(v.size):
            key = (r, int(ents[i]))
            buf = self.windows.get(key)
            if buf is None:
                buf = self.windows[key] = deque(maxlen=MAX_WINDOW_POINTS)
            t = int(ts[i])
            buf.append((t, float(v[i])))
            stat[i] = window_stat(rule.condition.type, buf, t - window_ms)
        return stat

    def _step(self, r: int, e: int, ts: int, v: float, breach: bool, clear: bool, out: list[Transition]) -> None:
        rule, s = self.rules[r], self.state[r, e]
        self.last_value[r, e] = v
        if s == OK and breach:
            self.since_ms[r, e] = ts
            if rule.for_s <= 0:
                self.state[r, e] = FIRING
                out.append(Transition(rule, e, "firing", ts, v))
            else:
                self.state[r, e] = PENDING
                out.append(Transition(rule, e, "pending", ts, v))
        elif s == PENDING and not breach:
            self.state[r, e] = OK
            out.append(Transition(rule, e, "cancelled", ts, v))
        elif s == PENDING and ts - self.since_ms[r, e] >= rule.for_s * 1000:
            self.state[r, e] = FIRING
            out.append(Transition(rule, e, "firing", ts, v))
        elif s == FIRING and clear:
            self.state[r, e] = OK
            out.append(Transition(rule, e, "resolved", ts, v))

    # -- the periodic pass -----------------------------------------------------------------------
    def tick(self, *, now_ms: int) -> list[Transition]:
        """Fire no-data alarms on time, promote pending series whose ``for`` has elapsed on the
        clock, and slide the windows of window rules that no reading has moved."""
        out: list[Transition] = []
        for r, rule in enumerate(self.rules):
            c = rule.condition
            if c.type in SILENCE_TYPES:
                silent = (now_ms - self.last_seen[r] >= c.window_s * 1000) & self.applies[r]
                for e in np.flatnonzero(silent & (self.state[r] == OK)):
                    self.state[r, e], self.since_ms[r, e] = FIRING, now_ms
                    out.append(Transition(rule, int(e), "firing", now_ms, None))
                continue
            if rule.is_window:
                self._slide(r, now_ms, out)
            due = (self.state[r] == PENDING) & (now_ms - self.since_ms[r] >= rule.for_s * 1000)
            for e in np.flatnonzero(due):
                self.state[r, e] = FIRING
                v = self.last_value[r, e]
                out.append(Transition(rule, int(e), "firing", now_ms, None if np.isnan(v) else float(v)))
        return out

    def _slide(self, r: int, now_ms: int, out: list[Transition]) -> None:
        rule = self.rules[r]
        start = now_ms - int(rule.condition.window_s * 1000)
        for e in np.flatnonzero(self.state[r] != OK):
            buf = self.windows.get((r, int(e)))
            if not buf or buf[0][0] >= start:
                continue  # nothing left the window: the last judgement stands
            v = np.array([window_stat(rule.condition.type, buf, start)])
            if np.isnan(v[0]):
                continue  # the window is empty: no evidence either way
            thr = self.threshold[r, e] if rule.condition.outlet_limit else None
            breach, clear = breach_and_clear(rule, v, thr)
            self._step(r, int(e), now_ms, float(v[0]), bool(breach[0]), bool(clear[0]), out)
