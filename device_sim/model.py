"""The park model: generated from a seed, written as the registry YAML, read back for simulation.

One file serves two readers: ``smartpark registry load`` (parks, enterprises, gateways with
their broker credentials, devices) and the simulator, which finds its signal parameters in the
device ``attributes`` (``rated_per_h``, ``register_max``, ``source_type`` ...) and the park's
``sim_seed``. Generation is a pure function of its arguments, apart from the credentials: the
gateways' broker passwords and the data loggers' HJ 212 passwords come from :mod:`secrets`, so
knowing the seed tells nothing about them. The seed is a key of the park beside its attributes,
not one of them, because the registry stores attributes and the API serves them.
"""

from __future__ import annotations

import random
import re
import secrets
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smartpark.catalogue import BY_CODE, DEVICE_KINDS
from smartpark.private_files import write_private

from .industries import INDUSTRIES, MIX, NAME_WORDS, PARK_OPERATIONS, PLACE_WORDS, SOURCES, Industry

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEVICE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_ENTERPRISES = 5000
DEVICES_PER_GATEWAY = 32  # a realistic data concentrator; keeps one message well under limits
REGISTER_MAX = 99_999_999.99  # an 8+2 digit register, the usual meter display

_PREFIX = {
    "elec_meter": "em",
    "water_meter": "wm",
    "gas_meter": "gm",
    "steam_meter": "sm",
    "heat_meter": "hm",
    "coal_scale": "cs",
    "stack_cems": "cems",
    "wastewater": "ww",
    "air_station": "aq",
    "gas_detector": "gd",
    "temp_sensor": "ts",
    "pressure_sensor": "ps",
    "fire_alarm": "fa",
}
_NAME = {
    "water_meter": "自来水总表",
    "gas_meter": "天然气计量表",
    "steam_meter": "蒸汽流量计",
    "heat_meter": "热量表",
    "coal_scale": "入炉煤皮带秤",
    "stack_cems": "烟气排放连续监测系统",
    "wastewater": "废水总排口在线监测",
    "air_station": "环境空气质量监测站",
    "gas_detector": "气体探测器",
    "temp_sensor": "工艺温度",
    "pressure_sensor": "工艺压力",
    "fire_alarm": "火灾报警控制器",
}
_GAS_NAME = {
    "safety.lel_pct": "可燃",
    "safety.h2s_ppm": "硫化氢",
    "safety.co_ppm": "一氧化碳",
    "safety.o2_pct": "氧气",
}
# Process set-points: temperature °C and pressure MPa ranges by industry family.
_TEMP: dict[str, tuple[float, float]] = {
    "coal_chemical": (180, 420),
    "metallurgy": (300, 1100),
    "building_materials": (250, 900),
}
_PRESSURE = {"coal_chemical": (1.0, 6.5), "fine_chemical": (0.3, 2.5)}


class ModelError(ValueError):
    """A park model that cannot be generated or simulated; the message names the bad value."""


# ---------------------------------------------------------------------------------------------
# Generation


def generate_model(
    *, enterprises: int = 40, seed: int = 7, park: str = "demo", name: str | None = None
) -> dict[str, Any]:
    """A park of ``enterprises`` enterprises (plus its operations centre) as a registry model."""
    if not 1 <= enterprises <= MAX_ENTERPRISES:
        raise ModelError(f"enterprises {enterprises} outside 1..{MAX_ENTERPRISES}")
    if not CODE_RE.match(park):
        raise ModelError(f"park code {park!r} must match {CODE_RE.pattern}")
    rng = random.Random(f"smartpark-sim/{seed}/{park}")
    weights = [w for _, w in MIX]
    industries = [INDUSTRIES[PARK_OPERATIONS]] + [
        INDUSTRIES[code] for code in rng.choices([c for c, _ in MIX], weights, k=enterprises)
    ]
    names: set[str] = set()
    ents = []
    for i, industry in enumerate(industries):
        code = "ops" if industry.code == PARK_OPERATIONS else f"e{i:03d}"
        ents.append(_enterprise(rng, park, code, industry, names))
    land = sum(e["land_area_mu"] for e in ents)
    return {
        "parks": [
            {
                "code": park,
                "name": name or f"{rng.choice(PLACE_WORDS)}示范化工园区",
                "timezone": "Asia/Shanghai",
                # the regulation is Inner Mongolia's: the demo park sits on the western (蒙西) grid
                "grid_region": "inner_mongolia_west",
                # Roads, green belts and shared utilities take about 40 % of a park's land.
                "land_area_mu": round(land / 0.6, 1),
                "sim_seed": seed,
                "enterprises": ents,
            }
        ]
    }


def _enterprise(rng: random.Random, park: str, code: str, industry: Industry, names: set[str]) -> dict[str, Any]:
    operations = industry.code == PARK_OPERATIONS
    ent_name = industry.company_suffix if operations else _company_name(rng, industry, names)
    land = round(rng.uniform(*industry.land_mu), 1)
    zones = [f"{z}{n}" for z in "ABCD"[: rng.randint(2, 4)] for n in range(1, rng.randint(2, 5))]
    devices = _devices(rng, industry, land, zones)
    gateways = []
    n_gw = max(1, -(-len(devices) // DEVICES_PER_GATEWAY))
    for g in range(n_gw):
        gw_code = f"gw{g + 1:02d}"
        gateways.append(
            {
                "code": gw_code,
                "username": f"{park}.{code}.{gw_code}",
                "password": _broker_password(rng),
                "devices": devices[g::n_gw],
            }
        )
    return {
        "code": code,
        "name": ent_name,
        "industry": industry.code,
        "land_area_mu": land,
        "gateways": gateways,
    }


_ALPHANUMERIC = string.ascii_letters + string.digits


def _broker_password(rng: random.Random) -> str:
    """20 random alphanumerics (119 bits). The seeded draw is still made, and thrown away, so
    that every other part of a model generated from a seed stays what it was."""
    rng.choices(_ALPHANUMERIC, k=20)
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(20))


def _logger_password(rng: random.Random) -> str:
    """Six digits, as data loggers take them (HJ 212-2017 PW); the seeded draw is thrown away."""
    rng.randint(0, 999999)
    return f"{secrets.randbelow(1_000_000):06d}"


def _company_name(rng: random.Random, industry: Industry, names: set[str]) -> str:
    for _ in range(100):
        candidate = rng.choice(PLACE_WORDS) + rng.choice(NAME_WORDS) + industry.company_suffix
        if candidate not in names:
            names.add(candidate)
            return candidate
    candidate = f"{rng.choice(NAME_WORDS)}{len(names) + 1}号{industry.company_suffix}"
    names.add(candidate)
    return candidate


def _devices(rng: random.Random, industry: Industry, land: float, zones: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    counts: dict[str, int] = {}

    def add(kind: str, name: str, attributes: dict[str, Any], **extra: Any) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        n = counts[kind]
        device: dict[str, Any] = {
            "code": f"{_PREFIX[kind]}{n:02d}",
            "kind": kind,
            "name": name.format(n=n),
            "zone": rng.choice(zones),
            "attributes": attributes,
        }
        device.update(extra)
        out.append(device)

    rated_kw = round(industry.kw_per_mu * land, 1)
    if industry.code != PARK_OPERATIONS:
        main: dict[str, Any] = {"register_max": REGISTER_MAX, "rated_kw": rated_kw}
        if rng.random() < 0.3:  # rooftop photovoltaics that export at noon
            main["pv_kw"] = round(rng.uniform(0.05, 0.25) * rated_kw, 1)
        add("elec_meter", "总进线电表", main)
        n_sub = rng.randint(*industry.devices.get("elec_sub", (0, 0)))
        for i, share in enumerate(_shares(rng, n_sub), start=1):
            add(
                "elec_meter",
                f"{i}#车间分表",
                {"register_max": REGISTER_MAX, "rated_kw": round(rated_kw * share * 0.9, 1)},
            )
    for kind, (lo, hi) in industry.devices.items():
        if kind == "elec_sub":
            continue
        for _ in range(rng.randint(lo, hi)):
            name, attributes, extra = _kind_spec(rng, kind, industry, land)
            add(kind, name, attributes, **extra)
    return out


def _shares(rng: random.Random, n: int) -> list[float]:
    raw = [rng.uniform(0.5, 1.5) for _ in range(n)]
    return [r / sum(raw) for r in raw]


def _kind_spec(
    rng: random.Random, kind: str, industry: Industry, land: float
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Name template, attributes and extra fields (a narrowed ``metrics`` list) of one device."""
    if kind in ("water_meter", "gas_meter", "steam_meter", "heat_meter", "coal_scale"):
        rate = industry.rates_per_mu.get(kind, 0.05) * land * rng.uniform(0.5, 1.2)
        return "{n}#" + _NAME[kind], {"register_max": REGISTER_MAX, "rated_per_h": round(rate, 3)}, {}
    if kind == "stack_cems":
        source = rng.choice(industry.cems_sources or ("gas_boiler",))
        return (
            "{n}#排气筒" + _NAME[kind],
            {
                "source_type": source,
                "o2_ref_pct": SOURCES[source]["o2_ref_pct"],
                "rated_flow_m3h": round(rng.uniform(20_000, 300_000), -2),
                "hj212_mn": "".join(rng.choices("0123456789ABCDEF", k=24)),
                "hj212_pw": _logger_password(rng),
            },
            {},
        )
    if kind == "wastewater":
        rate = industry.rates_per_mu.get(kind, 0.2) * land * rng.uniform(0.5, 1.2)
        return (
            _NAME[kind],
            {
                "rated_flow_m3h": round(rate, 2),
                "hj212_mn": "".join(rng.choices("0123456789ABCDEF", k=24)),
                "hj212_pw": _logger_password(rng),
            },
            {},
        )
    if kind == "air_station":
        return (
            _NAME[kind] + "{n}#",
            {
                "hj212_mn": "".join(rng.choices("0123456789ABCDEF", k=24)),
                "hj212_pw": _logger_password(rng),
            },
            {},
        )
    if kind == "gas_detector":
        metrics = sorted(
            rng.sample(industry.gas_metrics, rng.randint(1, len(industry.gas_metrics))),
            key=DEVICE_KINDS["gas_detector"].index,
        )
        label = "".join(_GAS_NAME[m] for m in metrics[:2])
        attrs = {"alarm_lel_pct": 25} if "safety.lel_pct" in metrics else {}
        if metrics == list(DEVICE_KINDS["gas_detector"]):
            return "{n}#" + label + "复合" + _NAME[kind], attrs, {}
        return "{n}#" + label + _NAME[kind], attrs, {"metrics": metrics}
    if kind == "temp_sensor":
        lo, hi = _TEMP.get(industry.code, (40, 180))
        return "{n}#" + _NAME[kind], {"setpoint": round(rng.uniform(lo, hi), 1)}, {}
    if kind == "pressure_sensor":
        plo, phi = _PRESSURE.get(industry.code, (0.2, 1.6))
        return "{n}#" + _NAME[kind], {"setpoint": round(rng.uniform(plo, phi), 3)}, {}
    if kind == "fire_alarm":
        return "{n}#" + _NAME[kind], {}, {}
    raise ModelError(f"no generator for device kind {kind!r}")


def dump_model(model: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(model), allow_unicode=True, sort_keys=False, width=100)


def write_model(model: Mapping[str, Any], path: Path) -> None:
    """Write the model readable by its owner only: it holds every gateway's and logger's password."""
    write_private(path, dump_model(model))


def read_model(path: Path) -> dict[str, Any]:
    """The model file as ``smartpark registry load`` reads it (YAML, or JSON by suffix)."""
    from smartpark import registry

    try:
        return registry.read_model(path)
    except OSError as exc:
        raise ModelError(f"cannot read park model {str(path)!r}: {exc}") from exc
    except registry.ModelError as exc:
        raise ModelError(str(exc)) from exc


# ---------------------------------------------------------------------------------------------
# The simulator's view of a model


@dataclass(frozen=True, slots=True)
class SimDevice:
    park: str
    enterprise: str
    industry: str
    gateway: str
    code: str
    kind: str
    metrics: tuple[str, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.park}/{self.enterprise}/{self.code}"


@dataclass(frozen=True, slots=True)
class SimGateway:
    park: str
    enterprise: str
    code: str
    username: str
    password: str
    devices: tuple[SimDevice, ...]

    @property
    def key(self) -> str:
        return f"{self.park}/{self.enterprise}/gateway/{self.code}"


@dataclass(frozen=True, slots=True)
class SimPark:
    code: str
    timezone: str
    seed: int
    gateways: tuple[SimGateway, ...]

    @property
    def devices(self) -> tuple[SimDevice, ...]:
        return tuple(d for g in self.gateways for d in g.devices)


def sim_parks(
    model: Mapping[str, Any],
    *,
    park: str | None = None,
    enterprises: Iterable[str] | None = None,
    seed: int | None = None,
) -> list[SimPark]:
    """The parks of a model as the simulator sees them, restricted to some enterprises."""
    wanted = set(enterprises) if enterprises is not None else None
    seen: set[str] = set()
    parks = []
    for p in _items(model, "parks", "model"):
        pcode = _code(p, "park", CODE_RE)
        if park is not None and pcode != park:
            continue
        pseed = seed if seed is not None else _model_seed(p)
        gateways = []
        for e in _items(p, "enterprises", f"park {pcode!r}"):
            ecode = _code(e, f"enterprise of park {pcode!r}", CODE_RE)
            if wanted is not None and ecode not in wanted:
                continue
            seen.add(ecode)
            industry = str(e.get("industry", ""))
            for g in _items(e, "gateways", f"enterprise {ecode!r}"):
                gcode = _code(g, f"gateway of {ecode!r}", CODE_RE)
                devices = tuple(
                    _sim_device(d, pcode, ecode, industry, gcode) for d in _items(g, "devices", f"gateway {gcode!r}")
                )
                username = str(g.get("username") or f"{pcode}.{ecode}.{gcode}")
                gateways.append(SimGateway(pcode, ecode, gcode, username, str(g.get("password", "")), devices))
        parks.append(SimPark(pcode, str(p.get("timezone", "Asia/Shanghai")), pseed, tuple(gateways)))
    if park is not None and not parks:
        raise ModelError(f"park {park!r} is not in the model")
    if wanted is not None and wanted - seen:
        raise ModelError(f"enterprises {sorted(wanted - seen)} are not in the model")
    return parks


def _model_seed(park: Mapping[str, Any]) -> int:
    """The park's signal seed; files written before it left the attributes keep it there."""
    if "sim_seed" in park:
        return int(park["sim_seed"])
    return int((park.get("attributes") or {}).get("sim_seed", 0))


def _sim_device(d: Any, park: str, enterprise: str, industry: str, gateway: str) -> SimDevice:
    code = _code(d, f"device of {enterprise!r}", DEVICE_CODE_RE)
    kind = str(d.get("kind"))
    if kind not in DEVICE_KINDS:
        raise ModelError(f"device {code!r} of {enterprise!r}: unknown kind {kind!r}")
    metrics = tuple(d.get("metrics") or DEVICE_KINDS[kind])
    unknown = [m for m in metrics if m not in BY_CODE]
    if unknown:
        raise ModelError(f"device {code!r} of {enterprise!r}: unknown metrics {unknown}")
    attributes = d.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ModelError(f"device {code!r} of {enterprise!r}: attributes must be a mapping")
    return SimDevice(park, enterprise, industry, gateway, code, kind, metrics, attributes)


def _items(parent: Any, key: str, where: str) -> list[Any]:
    items = parent.get(key) if isinstance(parent, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise ModelError(f"{where}: {key!r} must be a list, not {type(items).__name__}")
    return items


def _code(item: Any, what: str, pattern: re.Pattern[str]) -> str:
    code = item.get("code") if isinstance(item, dict) else None
    if not isinstance(code, str) or not pattern.match(code):
        raise ModelError(f"{what}: bad code {code!r}")
    return code
