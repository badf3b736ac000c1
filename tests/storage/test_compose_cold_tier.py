"""docker-compose.yml gives the cold tier a named volume, mounted where SMARTPARK_STORAGE_COLD_URL
points for the services that read or write it: the scheduler (the retention pass writes, the
rollup and indicator jobs read) and the API (raw series and completeness read, so read only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _mounts(service: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """target -> (volume, read only) of a service's named-volume mounts."""
    out = {}
    for v in service.get("volumes", []):
        source, target, *mode = v.split(":")
        out[target] = (source, mode == ["ro"])
    return out


def test_the_cold_tier_has_a_named_volume_where_its_url_points() -> None:
    assert "cold" in COMPOSE["volumes"]
    services = COMPOSE["services"]
    for name, read_only in (("scheduler", False), ("api", True)):
        url = services[name]["environment"]["SMARTPARK_STORAGE_COLD_URL"]
        default = url.removeprefix("${SMARTPARK_STORAGE_COLD_URL:-").removesuffix("}")
        assert url.startswith("${SMARTPARK_STORAGE_COLD_URL:-"), f"{name}: .env may point it at an object store"
        assert _mounts(services[name]).get(default) == ("cold", read_only), f"{name}: {default} is not the volume"
    # the image creates the mount point for its user, so a fresh volume is writable by it
    assert "install -d -o smartpark -g smartpark -m 0700 /var/lib/smartpark-cold" in (ROOT / "Dockerfile").read_text()
    # no other service sees the readings of every park
    others = {n for n, s in services.items() if any(v.startswith("cold:") for v in s.get("volumes", []))}
    assert others == {"scheduler", "api"}
