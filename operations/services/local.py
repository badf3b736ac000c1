"""Where the local services live and the credentials set up for them.

One machine-wide instance under ``settings.state_dir`` is shared by every checkout; tests isolate
themselves with a fresh database per run and unique park codes on the broker.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from smartpark.settings import Settings

DB_USER = "smartpark"
DB_NAME = "smartpark"
MQTT_ADMIN = "smartpark-admin"
MQTT_PLATFORM = "smartpark-platform"


@dataclass(frozen=True, slots=True)
class Paths:
    root: Path

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"

    @property
    def pg(self) -> Path:
        return self.root / "pg"

    @property
    def pg_data(self) -> Path:
        return self.pg / "data"

    @property
    def pg_socket(self) -> Path:
        return self.pg / "run"

    @property
    def pg_log(self) -> Path:
        return self.pg / "postgresql.log"

    @property
    def mqtt(self) -> Path:
        return self.root / "mosquitto"

    @property
    def mqtt_conf(self) -> Path:
        return self.mqtt / "mosquitto.conf"

    @property
    def mqtt_data(self) -> Path:
        return self.mqtt / "data"

    @property
    def mqtt_dynsec(self) -> Path:
        return self.mqtt / "data" / "dynamic-security.json"

    @property
    def mqtt_pid(self) -> Path:
        return self.mqtt / "data" / "mosquitto.pid"

    @property
    def mqtt_log(self) -> Path:
        return self.mqtt / "data" / "mosquitto.log"


def paths(settings: Settings) -> Paths:
    return Paths((settings).state_dir)


def credentials(settings: Settings, *, create: bool = False) -> dict[str, str]:
    """Generated passwords of the local services, kept readable by their owner only."""
    file = paths(settings).credentials
    if file.exists():
        data: dict[str, str] = json.loads(file.read_text())
        return data
    if not create:
        raise FileNotFoundError(
            f"no local credentials at {file}: run `smartpark services up` "
            "or set SMARTPARK_DATABASE_URL and SMARTPARK_MQTT_URL"
        )
    file.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "pg_password": secrets.token_urlsafe(24),
        "mqtt_admin_password": secrets.token_urlsafe(24),
        "mqtt_platform_password": secrets.token_urlsafe(24),
    }
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)
    return data


def local_database_url(settings: Settings, dbname: str = DB_NAME) -> str:
    pw = quote(credentials(settings)["pg_password"], safe="")
    return f"postgresql://{DB_USER}:{pw}@127.0.0.1:{settings.pg_port}/{dbname}"


def resolved(settings: Settings) -> Settings:
    """The settings with every unset server URL filled in from the local services' credentials."""
    local_db, local_mqtt = not settings.database_url, not settings.mqtt_url
    admin = settings.mqtt_admin_url or (local_mqtt_url(settings, admin=True) if local_mqtt else None)
    return settings.model_copy(
        update={
            "database_url": settings.database_url or (local_database_url(settings) if local_db else None),
            "mqtt_url": settings.mqtt_url or (local_mqtt_url(settings) if local_mqtt else None),
            "mqtt_admin_url": admin,
        }
    )


def runtime_env(settings: Settings) -> dict[str, str]:
    """The environment that hands the servers' URLs to a runtime process (of resolved settings)."""
    urls = {
        "SMARTPARK_DATABASE_URL": settings.database_url,
        "SMARTPARK_MQTT_URL": settings.mqtt_url,
        "SMARTPARK_MQTT_ADMIN_URL": settings.mqtt_admin_url,
    }
    return {name: url for name, url in urls.items() if url}


def local_mqtt_url(settings: Settings, *, admin: bool = False) -> str:
    creds = credentials(settings)
    user, key = (MQTT_ADMIN, "mqtt_admin_password") if admin else (MQTT_PLATFORM, "mqtt_platform_password")
    return f"mqtt://{user}:{quote(creds[key], safe='')}@127.0.0.1:{settings.mqtt_port}"
