"""Server URLs reach the runtime through the settings; the operations side fills them in from the
local services' credentials. A runtime without them stops with an error naming the setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from operations.services import local
from smartpark.cli import main
from smartpark.db import database_url
from smartpark.mqtt import admin_url, mqtt_url
from smartpark.settings import SettingMissing, Settings, get_settings


def _bare(state_dir: Path, **urls: str | None) -> Settings:
    blank = {"database_url": None, "mqtt_url": None, "mqtt_admin_url": None}
    return Settings(state_dir=state_dir, pg_port=5999, mqtt_port=1999, **{**blank, **urls})


@pytest.mark.parametrize(
    ("read", "name"),
    [
        (database_url, "SMARTPARK_DATABASE_URL"),
        (mqtt_url, "SMARTPARK_MQTT_URL"),
        (admin_url, "SMARTPARK_MQTT_ADMIN_URL"),
    ],
)
def test_a_runtime_without_a_server_url_names_the_missing_setting(tmp_path: Path, read, name: str) -> None:
    # Even with local credentials present, the runtime does not read them.
    (tmp_path / "credentials.json").write_text(json.dumps({"pg_password": "x"}))
    with pytest.raises(SettingMissing, match=name):
        read(_bare(tmp_path))


def test_operations_fill_in_the_local_urls_and_hand_them_on(tmp_path: Path) -> None:
    creds = {"pg_password": "p/w", "mqtt_admin_password": "adm", "mqtt_platform_password": "plat"}
    (tmp_path / "credentials.json").write_text(json.dumps(creds))
    settings = local.resolved(_bare(tmp_path))
    assert database_url(settings) == "postgresql://smartpark:p%2Fw@127.0.0.1:5999/smartpark"
    assert mqtt_url(settings) == "mqtt://smartpark-platform:plat@127.0.0.1:1999"
    assert admin_url(settings) == "mqtt://smartpark-admin:adm@127.0.0.1:1999"
    assert local.runtime_env(settings) == {
        "SMARTPARK_DATABASE_URL": settings.database_url,
        "SMARTPARK_MQTT_URL": settings.mqtt_url,
        "SMARTPARK_MQTT_ADMIN_URL": settings.mqtt_admin_url,
    }


def test_configured_servers_are_kept_and_no_credentials_file_is_needed(tmp_path: Path) -> None:
    given = _bare(tmp_path, database_url="postgresql://db/x", mqtt_url="mqtt://u:p@broker:1883")
    settings = local.resolved(given)
    assert (settings.database_url, settings.mqtt_url) == ("postgresql://db/x", "mqtt://u:p@broker:1883")
    # An external broker without an admin URL gets none: not the local broker's.
    assert settings.mqtt_admin_url is None
    assert local.runtime_env(settings) == {
        "SMARTPARK_DATABASE_URL": "postgresql://db/x",
        "SMARTPARK_MQTT_URL": "mqtt://u:p@broker:1883",
    }


def test_a_command_without_its_database_url_exits_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.delenv("SMARTPARK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["db", "status"]) == 2
    finally:
        get_settings.cache_clear()
    assert "SMARTPARK_DATABASE_URL is not set" in capsys.readouterr().err


def test_the_sections_keep_their_environment_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "park.yaml"
    env = {
        "SMARTPARK_BATCH_MAX_READINGS": "5000",
        "SMARTPARK_ACCEPT_PAST_DAYS": "7.5",
        "SMARTPARK_API_HOST": "0.0.0.0",
        "SMARTPARK_API_PORT": "8123",
        "SMARTPARK_API_POOL_MAX": "3",
        "SMARTPARK_AGG_ROLLUP_BATCH": "500",
        "SMARTPARK_AGG_TELEMETRY_RETENTION_DAYS": "30",
        "SMARTPARK_INGEST_SHARE_GROUP": "ingest-x",
        "SMARTPARK_REGISTRY_FILE": str(model),
    }
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.ingest.batch_max_readings, s.ingest.accept_past_days) == (5000, 7.5)
    assert (s.api.host, s.api.port, s.api.pool_max) == ("0.0.0.0", 8123, 3)
    assert (s.aggregation.rollup_batch, s.aggregation.telemetry_retention_days) == (500, 30)
    assert (s.ingest_share_group, s.registry_file) == ("ingest-x", model)
    monkeypatch.setenv("SMARTPARK_REGISTRY_FILE", "")
    assert Settings().registry_file is None


def test_a_bad_section_value_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMARTPARK_AGG_ROLLUP_EVERY_S", "600")  # at most 60 s
    with pytest.raises(ValueError, match="rollup_every_s"):
        Settings()


def test_settings_never_print_the_passwords_their_urls_carry() -> None:
    from smartpark.settings import StorageSettings

    s = Settings(
        database_url="postgresql://smartpark:pg-Secret-1@127.0.0.1:55432/db",
        mqtt_url="mqtt://platform:mq-Secret-2@127.0.0.1:11883",
        mqtt_admin_url="mqtt://admin:mq-Secret-3@127.0.0.1:11883",
    )
    shown = repr(s) + str(s) + repr(StorageSettings(cold_url="s3://key:cold-Secret-4@bucket/x"))
    assert not any(f"Secret-{i}" in shown for i in range(1, 5)), shown
    assert s.database_url and "pg-Secret-1" in s.database_url  # still there for the code that connects
