"""docker-compose.yml, checked without a Docker engine: the compose-spec schema, and that every
project service runs a command the `smartpark` CLI really accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from operations.supervisor import check_command

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROJECT = {name: s for name, s in SERVICES.items() if s.get("image", "").startswith("smartpark:")}


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    # The schema names draft 2019-09 with a legacy URL spelling; use that draft explicitly.
    assert "2019-09" in schema["$schema"]
    return jsonschema.Draft201909Validator(schema)


def test_valid_against_the_compose_spec_schema() -> None:
    schema = json.loads((ROOT / "deploy" / "compose-spec" / "compose-spec.json").read_text())
    errors = sorted(_validator(schema).iter_errors(COMPOSE), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_file() -> None:
    # The check is only worth something if it can fail.
    schema = json.loads((ROOT / "deploy" / "compose-spec" / "compose-spec.json").read_text())
    broken = {"services": {"api": {"image": "x", "ports": "8040", "healthcheck": {"interval": 5}}}}
    assert list(_validator(schema).iter_errors(broken))


@pytest.mark.parametrize("service", sorted(PROJECT))
def test_project_service_command_exists(service: str) -> None:
    command = PROJECT[service]["command"]
    assert isinstance(command, list) and command, f"{service}: command must be an argv list"
    assert check_command([str(c) for c in command]) is None, check_command([str(c) for c in command])


def test_components_and_roles() -> None:
    ts = SERVICES["timescaledb"]["image"]
    assert ts.startswith("timescale/timescaledb:") and "oss" not in ts, "needs the full community edition"
    assert SERVICES["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert SERVICES["grafana"]["image"].startswith("grafana/")
    commands = {name: s["command"] for name, s in PROJECT.items()}
    ingest = [c for c in commands.values() if c[0] == "ingest"]
    assert len(ingest) == 2, "two ingest partitions"
    partitions = sorted(c[c.index("--partition") + 1] for c in ingest)
    assert partitions == ["0/2", "1/2"], "each enterprise in exactly one partition, whichever replica restarts"
    assert "--client-id-prefix" not in " ".join(" ".join(c) for c in ingest), "ids follow the partition number"
    for wanted in ("alerting", "scheduler", "api", "sim"):
        assert any(c[0] == wanted for c in commands.values()), f"no service runs smartpark {wanted}"
    sim = [n for n, c in commands.items() if c[0] == "sim"]
    assert all(SERVICES[n].get("profiles") for n in sim), "the simulator runs only behind a profile"


def test_health_checks_and_start_order() -> None:
    for name in ("timescaledb", "mosquitto", "api", "grafana", "ingest-1", "ingest-2"):
        assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ("ingest-1", "ingest-2", "alerting", "scheduler", "hj212", "api"):
        # healthy only while the service's heartbeat is fresh (smartpark.heartbeat)
        assert "/readyz" in " ".join(SERVICES[name]["healthcheck"]["test"]), f"{name} is not checked by heartbeat"
    init = SERVICES["init"]
    assert init["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    assert init["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    for name, s in PROJECT.items():
        if name in ("init",):
            continue
        deps = s.get("depends_on", {})
        assert any(d in ("init", "demo-init") for d in deps), f"{name} starts before the one-shot init"


def test_secrets_come_from_the_env_file() -> None:
    example = (ROOT / ".env.example").read_text()
    defined = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_TEXT))
    assert used, "no variables: secrets would be in the file"
    assert used <= defined, f"not in .env.example: {sorted(used - defined)}"
    literal = re.findall(r"(?im)^\s*\w*password\w*:\s*(?!\$\{)(\S+)", COMPOSE_TEXT)
    assert not literal, f"literal passwords in docker-compose.yml: {literal}"
    for s in PROJECT.values():
        assert s.get("env_file") == ".env"


def test_mounted_files_and_build_context_exist() -> None:
    for name, s in SERVICES.items():
        for vol in s.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts missing {src}"
    dockerfile = (ROOT / "Dockerfile").read_text()
    for src in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), f"Dockerfile copies missing {part}"
    assert re.search(r'^ENTRYPOINT \["smartpark"\]', dockerfile, re.M)


def test_the_image_holds_every_package_the_project_installs() -> None:
    """A package missing from the image fails only at run time (the API imports every route)."""
    import tomllib

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert packages <= copied, f"the Dockerfile does not copy {sorted(packages - copied)}"


def test_grafana_mounts_the_provisioning() -> None:
    vols = SERVICES["grafana"]["volumes"]
    assert "./dashboards/grafana/provisioning:/etc/grafana/provisioning:ro" in vols
    assert any(v.startswith("./dashboards/grafana/dashboards:/var/lib/grafana/dashboards") for v in vols)


def test_broker_config_keeps_queued_messages() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert "max_queued_messages 0" in conf and "allow_anonymous false" in conf
    assert "mosquitto_dynamic_security" in conf
