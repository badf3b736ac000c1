"""Server URLs reach the runtime through the settings; the operations side fills them in from the
local services' credentials. A runtime without them stops with an error naming the setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from operations.services import local
from smartpark.db import database_url
from smartpark.mqtt import admin_url, mqtt_url
from smartpark.settings import SettingMissing, Settings


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
