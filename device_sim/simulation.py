"""From signals to gateway actions: the readings of each gateway per publish round, with faults."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .faults import Action, FaultConfig, GatewayFaults, Publish
from .hj212 import speaks_hj212
from .model import SimGateway, SimPark
from .payloads import MAX_MESSAGE_BYTES, Entry, encode
from .signals import ParkSignals, SignalConfig


@dataclass(frozen=True, slots=True)
class Round:
    gateway: SimGateway
    actions: list[Action]
    direct: list[tuple[str, Entry]] = field(default_factory=list)  # (device key, entry) sent by HJ 212


class Simulation:
    """A park's gateways producing rounds of readings; same seed and ticks → same actions."""

    def __init__(
        self,
        park: SimPark,
        *,
        signals: SignalConfig | None = None,
        faults: FaultConfig | None = None,
        max_bytes: int = MAX_MESSAGE_BYTES,
        direct: frozenset[str] = frozenset(),
    ) -> None:
        """``direct``: keys of devices that send on their own (HJ 212), not via their gateway.

        A data logger's readings never go through its gateway (the platform refuses them from
        anywhere but its HJ 212 connection): without a direct route it sends nothing."""
        self.park = park
        self.direct = direct
        self._loggers = frozenset(d.key for d in park.devices if speaks_hj212(d))
        self.signals = ParkSignals(park, signals)
        self.max_bytes = max_bytes
        self.faults = (
            {g.key: GatewayFaults(g.key, faults, park.seed) for g in park.gateways}
            if faults is not None and faults.any
            else None
        )
        # Where each device sits: gateway index, and which of its kind's metrics it reports.
        gw_index = {g.key: i for i, g in enumerate(park.gateways)}
        self._place = {d.key: (gw_index[g.key], d.metrics) for g in park.gateways for d in g.devices}

    def entries(
        self, ts_s: npt.ArrayLike, interval_s: float
    ) -> tuple[list[list[Entry]], list[list[tuple[str, Entry]]]]:
        """Per gateway (model order), the entries of its devices at the ticks ``ts_s``: those
        its MQTT messages carry, and those of its devices that send directly."""
        ts = np.atleast_1d(np.asarray(ts_s, dtype=np.int64))
        ts_ms = (ts * 1000).tolist()
        out: list[list[Entry]] = [[] for _ in self.park.gateways]
        direct: list[list[tuple[str, Entry]]] = [[] for _ in self.park.gateways]
        for block in self.signals.block(ts, interval_s):
            rows = block.values.transpose(0, 2, 1).tolist()  # [device][tick][metric]
            for device, ticks in zip(block.devices, rows, strict=True):
                gw, metrics = self._place[device.key]
                if metrics == block.metrics:
                    pick = None
                else:
                    pick = [block.metrics.index(m) for m in metrics if m in block.metrics]
                    metrics = tuple(block.metrics[i] for i in pick)
                code = device.code
                made = []
                for t, vals in zip(ts_ms, ticks, strict=True):
                    if pick is not None:
                        vals = [vals[i] for i in pick]
                    made.append(Entry(code, t, dict(zip(metrics, vals, strict=True))))
                if device.key in self.direct:
                    direct[gw].extend((device.key, e) for e in made)
                elif device.key not in self._loggers:
                    out[gw].extend(made)
        return out, direct

    def rounds(self, ts_s: npt.ArrayLike, interval_s: float, now_s: float) -> list[Round]:
        """One publish round of every gateway covering the ticks ``ts_s``."""
        ts = np.atleast_1d(np.asarray(ts_s, dtype=np.int64))
        round_s = max(interval_s, float(ts[-1] - ts[0]) + interval_s)
        out = []
        via_gateway, direct = self.entries(ts, interval_s)
        for gateway, entries, own in zip(self.park.gateways, via_gateway, direct, strict=True):
            if not entries and not own:
                continue
            if self.faults is None:
                actions: list[Action] = [Publish(m) for m in encode(entries, self.max_bytes)]
            else:
                actions = self.faults[gateway.key].round(entries, now_s, round_s, self.max_bytes)
            out.append(Round(gateway, actions, own))
        return out

    def flush(self) -> list[Round]:
        if self.faults is None:
            return []
        return [Round(g, self.faults[g.key].flush(self.max_bytes)) for g in self.park.gateways]

    def fault_counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for f in (self.faults or {}).values():
            total.update(f.counts)
        return total
