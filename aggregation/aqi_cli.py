"""`smartpark aqi PM25=80 PM10=120 ... [--hourly] [--edition 2012|2026 | --date D]`: one JSON object.

The edition is the one in force on ``--date`` (HJ 633-2026 from 2026-03-01) unless ``--edition``
names it; both editions answer, each with its own rules (see :mod:`smartpark.aqi`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from smartpark.aqi import (
    LEVEL_NAMES,
    MISSING,
    POLLUTANTS,
    Edition,
    aqi_milli,
    category,
    edition_for,
    thousandths_exact,
)

ALIASES = {"PM2.5": "PM25", "PM2_5": "PM25", "O3": "O3_1H", "O3_8": "O3_8H"}
MAX_CONCENTRATION = 100_000  # far above every table's top: a typo, not air


def parse_pair(text: str) -> tuple[str, int]:
    name, sep, raw = text.partition("=")
    key = ALIASES.get(name.strip().upper(), name.strip().upper())
    if not sep or key not in (*POLLUTANTS, "SO2_24H"):
        raise ValueError(f"bad argument {text!r}: expected NAME=VALUE with NAME in {(*POLLUTANTS, 'SO2_24H')}")
    try:
        milli = thousandths_exact(raw.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"bad concentration {raw!r} for {key}: {exc}") from None
    if milli > MAX_CONCENTRATION * 1000:
        raise ValueError(f"concentration {raw!r} for {key} is above {MAX_CONCENTRATION}")
    return key, milli


def report(pairs: dict[str, int], *, hourly: bool, edition: Edition) -> dict[str, Any]:
    so2_24h = pairs.pop("SO2_24H", None)
    r = aqi_milli(pairs, hourly=hourly, edition=edition, so2_24h=so2_24h)
    value = int(r.aqi)
    iaqi = {p: (None if int(v) == MISSING else int(v)) for p, v in r.iaqi.items()}
    out: dict[str, Any] = {"aqi": value, "edition": f"HJ 633-{edition}", "hourly": hourly}
    missing = [p for p, v in iaqi.items() if v is None]
    if value == MISSING:
        na = {"aqi": "NA", "category": None, "level": None, "primary_pollutants": [], "missing": missing}
        return {**out, **na, "iaqi": iaqi}
    level, zh, en = category(value)
    out = {
        **out,
        "category": zh,
        "category_en": en,
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "primary_pollutants": [p for p in r.iaqi if bool(r.primary[p])],
        "iaqi": iaqi,
    }
    if edition == "2012":
        out["exceeding"] = [p for p in r.iaqi if bool(r.exceeding(p))]
        out["substituted"] = [p for p, m in r.substituted.items() if bool(m)]
    else:
        out["capped"] = [p for p, m in r.capped.items() if bool(m)]
        out["missing"] = missing
    return out


def run(args: argparse.Namespace) -> int:
    try:
        pairs = dict(parse_pair(p) for p in args.concentrations)
        day = date.fromisoformat(args.date) if args.date else date.today()
    except ValueError as exc:
        print(f"smartpark aqi: {exc}", file=sys.stderr)
        return 2
    edition: Edition = args.edition or edition_for(day)
    try:
        print(json.dumps(report(pairs, hourly=args.hourly, edition=edition), ensure_ascii=False))
    except (ValueError, KeyError) as exc:
        print(f"smartpark aqi: {exc}", file=sys.stderr)
        return 2
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "concentrations",
        nargs="+",
        metavar="NAME=VALUE",
        help="µg/m³ (CO mg/m³): PM25 PM10 SO2 NO2 CO O3_8H O3_1H, and SO2_24H for the hourly SO2 rule",
    )
    parser.add_argument("--hourly", action="store_true", help="hourly AQI (1 h tables for SO2, NO2, CO)")
    parser.add_argument("--edition", choices=("2012", "2026"), help="HJ 633 edition (default: by --date)")
    parser.add_argument("--date", help="date of the data, YYYY-MM-DD (default: today); picks the edition")
    parser.set_defaults(func=run)
