"""Simulated signals: pure, vectorised (devices × ticks), deterministic per seed.

Every value is a function of (seed, device, time) only (see :mod:`device_sim.noise`), so a
block of any length gives the same readings as the same ticks computed one at a time.

- Load: a 24-hour shape per industry (shift dips, time-of-use tariffs), a weekend factor and a
  random factor per device and day.
- Counters integrate their load analytically (piecewise-linear shape → exact integral), so the
  register is a pure function of time and never decreases; registers roll over at
  ``register_max`` and are reset to zero on rare random days (meter replacement). Both are
  marked in :attr:`KindBlock.events` so consumers and tests can tell them from bad data.
- Emissions follow the load (flow up, O2 down), with rare exceedance episodes; ambient air
  follows a park-wide weather swing of several days; gas leaks and fire alarms are rare
  episodes that rise and fall.

Registers count from ``EPOCH`` (2025-01-06 00:00 local, a Monday); ticks before it are refused.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from aggregation.rollup import register_step_of
from smartpark.catalogue import BY_CODE, DEVICE_KINDS, MetricKind

from . import noise
from .industries import INDUSTRIES, SOLAR_SHAPE, SOURCES
from .model import REGISTER_MAX, ModelError, SimDevice, SimPark

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

EPOCH_LOCAL_S = 1_736_121_600  # 2025-01-06 00:00 as local wall-clock seconds (a Monday)
DAY_S = 86_400

# Event bits in KindBlock.events
RESET = 1  # register reset to zero before this reading
ROLLOVER = 2  # register passed register_max before this reading
EPISODE = 4  # inside a leak / fire / exceedance / process excursion episode

# Shape rows: one per industry, then the solar and traffic profiles.
_ROWS = [*INDUSTRIES, "solar", "traffic"]
ROW = {name: i for i, name in enumerate(_ROWS)}
_TRAFFIC = (
    0.3,
    0.25,
    0.2,
    0.2,
    0.25,
    0.4,
    0.7,
    1.0,
    1.0,
    0.8,
    0.6,
    0.55,
    0.55,
    0.55,
    0.6,
    0.65,
    0.8,
    1.0,
    1.0,
    0.8,
    0.6,
    0.5,
    0.4,
    0.35,
)
_SHAPE24 = np.array([INDUSTRIES[c].shape for c in INDUSTRIES] + [SOLAR_SHAPE, _TRAFFIC], dtype=np.float64)
SHAPES = np.concatenate([_SHAPE24, _SHAPE24[:, :1]], axis=1)  # hour 24 wraps to hour 0
WEEKEND = np.array([INDUSTRIES[c].weekend for c in INDUSTRIES] + [1.0, 0.8])
# Integral of the piecewise-linear shape from 00:00 to each hour, in hours.
CUM = np.concatenate([np.zeros((len(_ROWS), 1)), np.cumsum((SHAPES[:, :-1] + SHAPES[:, 1:]) / 2, 1)], 1)


@dataclass(frozen=True, slots=True)
class SignalConfig:
    """Rates of the rare events, per device and day."""

    reset_per_day: float = 1 / 730  # meter replaced or register cleared
    leak_per_day: float = 1 / 120  # gas detector sees a leak
    fire_per_day: float = 1 / 1500  # fire alarm goes off
    exceed_per_day: float = 1 / 60  # stack pollutant exceedance (abatement trouble)
    excursion_per_day: float = 1 / 90  # process temperature / pressure excursion

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            rate = getattr(self, name)
            if not 0 <= rate <= 24:
                raise ValueError(f"{name} {rate} outside 0..24 per day")


@dataclass(frozen=True, slots=True)
class KindBlock:
    """Readings of the devices of one kind: values[device, metric, tick]."""

    kind: str
    devices: tuple[SimDevice, ...]
    metrics: tuple[str, ...]
    values: F64
    events: U8


@dataclass(frozen=True, slots=True)
class Clock:
    ts: I64  # epoch seconds
    day: I64  # local days since EPOCH
    hour: F64  # local hour of day, fractional
    weekend: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, ts: npt.ArrayLike, offset_s: int) -> Clock:
        t = np.atleast_1d(np.asarray(ts, dtype=np.int64))
        if t.size and int(t.min()) < EPOCH_LOCAL_S - offset_s:
            raise ValueError(f"tick {int(t.min())} is before the simulation epoch 2025-01-06")
        local = t + offset_s - EPOCH_LOCAL_S
        day = local // DAY_S
        return cls(t, day, (local - day * DAY_S) / 3600.0, (day % 7) >= 5)


def local_offset_s(timezone: str, at_s: int) -> int:
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ModelError(f"unknown timezone {timezone!r}") from exc
    off = datetime.fromtimestamp(at_s, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def shape_at(rows: npt.NDArray[np.intp], clock: Clock) -> F64:
    """(n, m) load factor of each row's shape at each tick, weekend factor applied."""
    h0 = np.floor(clock.hour).astype(np.intp)
    f = clock.hour - h0
    s = SHAPES[rows[:, None], h0[None, :]] * (1 - f) + SHAPES[rows[:, None], h0[None, :] + 1] * f
    return np.where(clock.weekend[None, :], s * WEEKEND[rows][:, None], s)


def day_factor(keys: noise.U64, days: npt.ArrayLike) -> F64:
    """A device's production level of the day, 0.85..1.15 (orders, weather, maintenance)."""
    return 1.0 + 0.15 * (2.0 * noise.uniform(keys, days, 11) - 1.0)


def episodes(keys: noise.U64, clock: Clock, per_day: float, stream: int, min_s: float, max_s: float) -> F64:
    """(n, m) intensity 0..1 of episodes that rise and fall (sin²), at most one per 6-h slot."""
    slot_s = 6 * 3600
    slot = clock.ts // slot_s
    p = min(1.0, per_day * slot_s / DAY_S)
    occurs = noise.uniform(keys, slot, stream) < p
    dur = min_s + (max_s - min_s) * noise.uniform(keys, slot, stream + 1)
    start = slot * slot_s + (slot_s - dur) * noise.uniform(keys, slot, stream + 2)
    peak = 0.45 + 0.55 * noise.uniform(keys, slot, stream + 3)
    x = (clock.ts[None, :] - start) / dur
    inside = occurs & (x >= 0) & (x <= 1)
    return np.where(inside, peak * np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)


class Registers:
    """Cumulative registers of many counters, each integrating its load shape analytically.

    Energy since the epoch = Σ whole days before + the exact integral within the day, so it is
    a pure, non-decreasing function of time. Per-day prefix sums, reset origins and reset counts
    (n × days since the epoch) are cached and extended as time advances.
    """

    def __init__(
        self,
        keys: noise.U64,
        rows: npt.NDArray[np.intp],
        rated_per_h: F64,
        register_max: F64,
        reset_per_day: float,
    ) -> None:
        self.keys, self.rows, self.rated, self.max = keys, rows, rated_per_h, register_max
        self.reset_p = reset_per_day
        self.start = noise.uniform(keys, [0], 17)[:, 0] * register_max  # register at the epoch
        n = len(keys)
        self._days = 0
        self._prefix: F64 = np.zeros((n, 1))  # energy before each day
        self._base: F64 = np.zeros((n, 0))  # register origin (energy) after resets up to day
        self._resets: npt.NDArray[np.int32] = np.zeros((n, 0), dtype=np.int32)

    def _weight(self, days: I64) -> F64:
        """Day factor × weekend factor; days (m,) or (n, m)."""
        w = WEEKEND[self.rows][:, None]
        return day_factor(self.keys, days) * np.where((days % 7) >= 5, w, 1.0)

    def _energy(self, days: I64, hours: F64) -> F64:
        """Energy since the epoch at (day, hour); both (n, m)."""
        h0 = np.floor(hours).astype(np.intp)
        f = hours - h0
        r = self.rows[:, None]
        s0, s1 = SHAPES[r, h0], SHAPES[r, h0 + 1]
        within = CUM[r, h0] + s0 * f + (s1 - s0) * f * f / 2
        before = np.take_along_axis(self._prefix, days.astype(np.intp), axis=1)
        return before + self.rated[:, None] * (self._weight(days) * within)

    def _reset(self, days: I64) -> tuple[npt.NDArray[np.bool_], F64]:
        """Whether the register is reset on each day, and at which local hour."""
        return noise.uniform(self.keys, days, 21) < self.reset_p, 24.0 * noise.uniform(self.keys, days, 22)

    def _extend(self, days: int) -> None:
        if days <= self._days:
            return
        days = max(days, self._days + 7)
        n = len(self.keys)
        d = np.arange(days, dtype=np.int64)
        d2 = np.broadcast_to(d, (n, days))
        inc = self.rated[:, None] * (self._weight(d2) * CUM[self.rows, 24][:, None])
        self._prefix = np.concatenate([np.zeros((n, 1)), np.cumsum(inc, axis=1)], axis=1)
        happens, hour = self._reset(d2)
        e_reset = self._energy(d2, hour)
        last = np.maximum.accumulate(np.where(happens, d2, -1), axis=1)
        picked = np.take_along_axis(e_reset, np.maximum(last, 0), axis=1)
        # Until its first reset a register counts on from its value at the epoch.
        self._base = np.where(last >= 0, picked, -self.start[:, None])
        self._resets = np.cumsum(happens, axis=1, dtype=np.int32)
        self._days = days

    def read(self, clock: Clock, prev: Clock) -> tuple[F64, U8]:
        """Register values (n, m) and event bits; ``prev`` is the tick before ``clock.ts[0]``."""
        n = len(self.keys)
        days = np.concatenate([prev.day[:1], clock.day])
        hours = np.concatenate([prev.hour[:1], clock.hour])
        self._extend(int(days.max()) + 2)
        d2 = np.broadcast_to(days, (n, len(days)))
        h2 = np.broadcast_to(hours, d2.shape)
        energy = self._energy(d2, h2)
        happens, hour = self._reset(d2)
        today = happens & (hour <= h2)
        yesterday = np.maximum(d2 - 1, 0)
        first_day = d2 == 0
        base = np.where(first_day, -self.start[:, None], np.take_along_axis(self._base, yesterday, 1))
        count = np.where(first_day, 0, np.take_along_axis(self._resets, yesterday, 1))
        if today.any():
            base = np.where(today, self._energy(d2, np.where(today, hour, h2)), base)
            count = count + today
        raw = energy - base
        # A register shows whole steps (0.01 on an 8+2-digit one) and wraps from 99999999.99 to
        # 0.00: it counts modulo max + one step, as the rollups read it back.
        step = register_step_of(self.max)[:, None]
        modulus = self.max[:, None] + step
        values = np.floor(np.mod(raw, modulus) / step) * step
        wraps = np.floor(raw / modulus)
        reset = np.diff(count, axis=1) > 0
        rolled = (np.diff(wraps, axis=1) > 0) & ~reset
        events = np.where(reset, RESET, 0) | np.where(rolled, ROLLOVER, 0)
        return values[:, 1:], events.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Per-kind generators


@dataclass(slots=True)
class _Group:
    kind: str
    devices: tuple[SimDevice, ...]
    keys: noise.U64
    rows: npt.NDArray[np.intp]
    registers: list[Registers] = field(default_factory=list)

    def attr(self, name: str, default: float) -> F64:
        return np.array([float(d.attributes.get(name, default)) for d in self.devices])


def _attr_row(device: SimDevice) -> int:
    return ROW.get(device.industry, ROW["fine_chemical"])


class ParkSignals:
    """The signals of a park's devices; :meth:`block` computes readings for any ticks."""

    def __init__(
        self,
        park: SimPark,
        config: SignalConfig | None = None,
        devices: Sequence[SimDevice] | None = None,
    ) -> None:
        self.park = park
        self.config = config or SignalConfig()
        local_offset_s(park.timezone, EPOCH_LOCAL_S)  # fail early on a bad zone
        by_kind: dict[str, list[SimDevice]] = {}
        for d in devices if devices is not None else park.devices:
            by_kind.setdefault(d.kind, []).append(d)
        self.groups: dict[str, _Group] = {}
        for kind, devs in by_kind.items():
            keys = noise.keys_of([d.key for d in devs], park.seed)
            rows = np.array([_attr_row(d) for d in devs], dtype=np.intp)
            group = _Group(kind, tuple(devs), keys, rows)
            self._registers(group)
            self.groups[kind] = group
        # Ambient air is one weather over the whole park.
        self.weather_key = noise.keys_of([f"{park.code}/weather"], park.seed)

    def _registers(self, g: _Group) -> None:
        reset = self.config.reset_per_day
        top = g.attr("register_max", REGISTER_MAX)
        if g.kind == "elec_meter":
            g.registers.append(Registers(g.keys, g.rows, g.attr("rated_kw", 100), top, reset))
            export_keys = g.keys ^ np.uint64(0x5EED)
            solar = np.full(len(g.keys), ROW["solar"], dtype=np.intp)
            g.registers.append(Registers(export_keys, solar, _EXPORT * g.attr("pv_kw", 0), top, reset))
        elif DEVICE_KINDS[g.kind] and BY_CODE[DEVICE_KINDS[g.kind][0]].kind is MetricKind.COUNTER:
            g.registers.append(Registers(g.keys, g.rows, g.attr("rated_per_h", 1), top, reset))

    def block(self, ts_s: npt.ArrayLike, interval_s: float) -> list[KindBlock]:
        """Readings at the ticks ``ts_s`` (epoch seconds, ascending), ``interval_s`` apart."""
        ts = np.atleast_1d(np.asarray(ts_s, dtype=np.int64))
        if ts.size == 0:
            return []
        offset = local_offset_s(self.park.timezone, int(ts[0]))
        clock = Clock.of(ts, offset)
        prev = Clock.of(ts[:1] - max(1, round(interval_s)), offset)
        out = []
        for kind, g in self.groups.items():
            values, events = _GENERATORS[kind](self, g, clock, prev)
            out.append(KindBlock(kind, g.devices, DEVICE_KINDS[kind], _finish(kind, values), events))
        return out

    def load(self, g: _Group, clock: Clock) -> F64:
        return shape_at(g.rows, clock) * day_factor(g.keys, clock.day)


_Generator = Callable[[ParkSignals, _Group, Clock, Clock], tuple[F64, U8]]
_EXPORT = 0.35  # share of rooftop PV output that leaves the site at noon


def _stack(*arrays: F64) -> F64:
    return np.stack(arrays, axis=1)


def _no_events(values: F64) -> U8:
    return np.zeros(values.shape, dtype=np.uint8)


def _elec(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    imp, imp_ev = g.registers[0].read(clock, prev)
    exp, exp_ev = g.registers[1].read(clock, prev)
    load = sim.load(g, clock)
    pv = g.registers[1].rated[:, None] * shape_at(g.registers[1].rows, clock)
    pv = pv * day_factor(g.registers[1].keys, clock.day)
    rated = g.registers[0].rated[:, None]
    power = rated * load * (1 + 0.02 * noise.normal(g.keys, clock.ts, 31)) - pv
    pf = np.clip(0.86 + 0.1 * load + 0.01 * noise.normal(g.keys, clock.ts, 32), 0.5, 0.995)
    zeros = np.zeros_like(load, dtype=np.uint8)
    return _stack(imp, exp, power, pf), np.stack([imp_ev, exp_ev, zeros, zeros], axis=1)


def _counter(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    values, events = g.registers[0].read(clock, prev)
    return values[:, None, :], events[:, None, :]


def _cems(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    load = sim.load(g, clock)
    src = [SOURCES.get(str(d.attributes.get("source_type")), SOURCES["gas_boiler"]) for d in g.devices]
    base = {k: np.array([s[k] for s in src])[:, None] for k in ("so2", "nox", "dust", "o2_pct")}
    flow = g.attr("rated_flow_m3h", 50_000)[:, None] * (0.35 + 0.65 * load)
    flow = flow * (1 + 0.03 * noise.normal(g.keys, clock.ts, 41))
    o2 = np.clip(base["o2_pct"] + 2.5 * (0.8 - load) + 0.25 * noise.normal(g.keys, clock.ts, 42), 1, 20.5)
    conc, events = [], []
    for i, pollutant in enumerate(("so2", "nox", "dust")):
        ep = episodes(g.keys, clock, sim.config.exceed_per_day / 3, 50 + 10 * i, 1200, 4 * 3600)
        level = base[pollutant] * (0.75 + 0.4 * load) * np.exp(0.12 * noise.normal(g.keys, clock.ts, 43 + i))
        conc.append(level * (1 + 3.0 * ep))
        events.append(np.where(ep > 0, EPISODE, 0).astype(np.uint8))
    zeros = np.zeros_like(events[0])
    # The CEMS also reports each concentration at the source's reference O2 (HJ 212 "-Zs").
    o2_ref = g.attr("o2_ref_pct", 9.0)[:, None]
    corrected = [c * (21 - o2_ref) / (21 - o2) for c in conc]
    return _stack(*conc, o2, flow, *corrected), np.stack([*events, zeros, zeros, *events], axis=1)


def _wastewater(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    load = sim.load(g, clock)
    slow = np.sin(2 * np.pi * clock.ts[None, :] / (1.3 * DAY_S) + 6.283 * noise.uniform(g.keys, [0], 61))
    flow = g.attr("rated_flow_m3h", 20)[:, None] * (0.3 + 0.7 * load)
    flow = flow * (1 + 0.05 * noise.normal(g.keys, clock.ts, 62))
    cod = 45 + 15 * slow + 4 * noise.normal(g.keys, clock.ts, 63)
    nh3n = np.maximum(0.05, 3 + 1.2 * slow + 0.4 * noise.normal(g.keys, clock.ts, 64))
    ph = 7.3 + 0.3 * slow + 0.05 * noise.normal(g.keys, clock.ts, 65)
    values = _stack(cod, nh3n, ph, flow)
    return values, _no_events(values)


def weather(sim: ParkSignals, clock: Clock) -> F64:
    """Park-wide weather swing (m,), roughly −1..1: stagnant (+) versus clean, windy (−) air."""
    phases = noise.uniform(sim.weather_key, [1, 2, 3], 71)[0] * 2 * np.pi
    t = clock.ts / DAY_S
    w = (
        0.5 * np.sin(2 * np.pi * t / 2.7 + phases[0])
        + 0.35 * np.sin(2 * np.pi * t / 4.3 + phases[1])
        + 0.25 * np.sin(2 * np.pi * t / 7.1 + phases[2])
    )
    return np.asarray(w / 1.1, dtype=np.float64)


def _air(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    w = weather(sim, clock)[None, :]
    n = len(g.keys)
    traffic = shape_at(np.full(n, ROW["traffic"], dtype=np.intp), clock)
    # Ozone builds up photochemically and peaks about two hours after the sun.
    lagged = Clock(clock.ts, clock.day, (clock.hour - 2) % 24, np.zeros_like(clock.weekend))
    sun = shape_at(np.full(n, ROW["solar"], dtype=np.intp), lagged)

    def jitter(stream: int, sd: float) -> F64:
        return np.exp(sd * noise.normal(g.keys, clock.ts, stream))

    pm25 = 38 * np.exp(0.6 * w) * (0.8 + 0.35 * traffic) * jitter(81, 0.08)
    pm10 = pm25 * (1.45 + 0.2 * noise.uniform(g.keys, clock.day, 82)) + 8 * jitter(83, 0.1)
    so2 = 9 * np.exp(0.5 * w) * jitter(84, 0.1)
    no2 = 24 * (0.5 + 0.7 * traffic) * np.exp(0.4 * w) * jitter(85, 0.1)
    o3 = (25 + 115 * sun * (1 - 0.3 * w)) * jitter(86, 0.06)
    co = 0.55 * np.exp(0.4 * w) * (0.8 + 0.3 * traffic) * jitter(87, 0.08)
    values = _stack(pm25, pm10, so2, no2, o3, co)
    return values, _no_events(values)


def _gas(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    ep = episodes(g.keys, clock, sim.config.leak_per_day, 90, 300, 2400)
    nz = lambda s: np.abs(noise.normal(g.keys, clock.ts, s))  # noqa: E731
    lel = 0.3 * nz(91) + 60 * ep
    h2s = 0.1 * nz(92) + 25 * ep
    co = 1 + 0.5 * nz(93) + 80 * ep
    o2 = 20.9 + 0.05 * noise.normal(g.keys, clock.ts, 94) - 2.0 * ep
    mark = np.where(ep > 0, EPISODE, 0).astype(np.uint8)
    return _stack(lel, h2s, co, o2), np.stack([mark] * 4, axis=1)


def _process(scale: float, stream: int) -> _Generator:
    def gen(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
        setpoint = g.attr("setpoint", 100)[:, None]
        load = sim.load(g, clock)
        ep = episodes(g.keys, clock, sim.config.excursion_per_day, stream, 600, 3600)
        value = setpoint * (1 - scale / 2 + scale / 2 * load)
        value = value + setpoint * (0.005 * noise.normal(g.keys, clock.ts, stream + 1) + 0.2 * ep)
        return value[:, None, :], np.where(ep > 0, EPISODE, 0).astype(np.uint8)[:, None, :]

    return gen


def _fire(sim: ParkSignals, g: _Group, clock: Clock, prev: Clock) -> tuple[F64, U8]:
    ep = episodes(g.keys, clock, sim.config.fire_per_day, 120, 600, 3600)
    state = (ep > 0.3).astype(np.float64)
    return state[:, None, :], np.where(ep > 0, EPISODE, 0).astype(np.uint8)[:, None, :]


def _finish(kind: str, values: F64) -> F64:
    """Clip to each metric's plausible range and round as an instrument displays."""
    out = np.empty_like(values)
    for j, code in enumerate(DEVICE_KINDS[kind]):
        m = BY_CODE[code]
        v = np.clip(values[:, j, :], m.min_value, m.max_value)
        out[:, j, :] = np.round(v, 2 if m.kind is MetricKind.COUNTER else 3)
    return out


_GENERATORS: Mapping[str, _Generator] = {
    "elec_meter": _elec,
    "water_meter": _counter,
    "gas_meter": _counter,
    "steam_meter": _counter,
    "heat_meter": _counter,
    "coal_scale": _counter,
    "stack_cems": _cems,
    "wastewater": _wastewater,
    "air_station": _air,
    "gas_detector": _gas,
    "temp_sensor": _process(0.08, 100),
    "pressure_sensor": _process(0.1, 110),
    "fire_alarm": _fire,
}
