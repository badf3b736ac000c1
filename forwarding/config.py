"""`smartpark hj212 targets load FILE`: upstream targets and their outlets from YAML.

```yaml
targets:
  - name: city-bureau            # letters, digits, . _ -
    host: 10.20.0.5
    port: 9000
    version: "2017"              # or "2025"
    reply: true                  # ask for 9014 replies (resend on timeout)
    over_time_s: 5               # HJ 212-2017 OverTime
    re_count: 3                  # HJ 212-2017 ReCount
    max_rate: 500                # packets/s at most, backlog included
    window: 64                   # packets awaiting a reply at a time
    outlets:
      - logger_mn: "010000A8900016F000169DC0"   # the MN the data logger sends to smartpark
        mn: "33010000000001"                    # the MN the target knows
        pw: "123456"
        cns: ["2051", "2061", "2031"]           # default: all four data commands
```

A target listed replaces the stored one with the same name, outlets included. Passwords go to
the database only (never printed).
"""

from __future__ import annotations

from typing import Any

import psycopg

from forwarding import store

TARGET_KEYS = {"name", "host", "port", "version", "reply", "over_time_s", "re_count", "max_rate", "window", "enabled"}
OUTLET_KEYS = {"logger_mn", "mn", "pw", "cns"}
DEFAULTS: dict[str, Any] = {
    "version": "2017",
    "reply": True,
    "over_time_s": 5.0,
    "re_count": 3,
    "max_rate": 500.0,
    "window": 64,
    "enabled": True,
}


def parse(doc: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Validated (target, outlets) pairs; errors name the target and the bad key or value."""
    if not isinstance(doc, dict) or not isinstance(doc.get("targets"), list):
        raise ValueError("the file must be a mapping with a 'targets' list")
    out = []
    for i, raw in enumerate(doc["targets"]):
        if not isinstance(raw, dict):
            raise ValueError(f"targets[{i}] is not a mapping")
        name = raw.get("name", f"targets[{i}]")
        unknown = set(raw) - TARGET_KEYS - {"outlets"}
        if unknown:
            raise ValueError(f"target {name!r}: unknown keys {sorted(unknown)}")
        target = {**DEFAULTS, **{k: v for k, v in raw.items() if k != "outlets"}}
        for key in ("name", "host", "port"):
            if key not in target:
                raise ValueError(f"target {name!r}: {key} is missing")
        target["version"] = str(target["version"])
        if target["version"] not in ("2017", "2025"):
            raise ValueError(f"target {name!r}: version {target['version']!r} is not 2017 or 2025")
        outlets = []
        for j, o in enumerate(raw.get("outlets") or []):
            if not isinstance(o, dict) or not {"logger_mn", "mn", "pw"} <= set(o) or set(o) - OUTLET_KEYS:
                raise ValueError(f"target {name!r} outlets[{j}]: needs logger_mn, mn, pw (and optionally cns)")
            cns = [str(c) for c in o.get("cns", store.DATA_CNS)]
            bad = [c for c in cns if c not in store.DATA_CNS]
            if bad or not cns:
                raise ValueError(f"target {name!r} outlets[{j}]: cns {bad or cns} not among {store.DATA_CNS}")
            outlets.append({"logger_mn": str(o["logger_mn"]), "mn": str(o["mn"]), "pw": str(o["pw"]), "cns": cns})
        out.append((target, outlets))
    return out


def load(conn: psycopg.Connection[Any], doc: Any) -> list[str]:
    """Store the targets of a parsed YAML document in one transaction; returns their names."""
    parsed = parse(doc)
    with conn.transaction():
        for target, outlets in parsed:
            resolved = []
            for o in outlets:
                row = conn.execute(
                    "SELECT device_id FROM devices WHERE attributes->>'hj212_mn' = %s", (o["logger_mn"],)
                ).fetchone()
                if row is None:
                    raise ValueError(f"target {target['name']!r}: no device has hj212_mn {o['logger_mn']!r}")
                resolved.append({**o, "device_id": row[0]})
            store.put_target(conn, target=target, outlets=resolved)
    return [t["name"] for t, _ in parsed]
