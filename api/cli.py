"""`smartpark api`: serve the HTTP API (and the ops-centre page) with uvicorn."""

from __future__ import annotations

import argparse
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.access_log import log_config
    from api.app import create_app
    from smartpark.db import database_url
    from smartpark.settings import get_settings

    settings = get_settings()
    database_url(settings)  # a missing SMARTPARK_DATABASE_URL is named here, not inside uvicorn's start-up
    common: dict[str, Any] = {
        "host": args.host or settings.api.host,
        "port": args.port or settings.api.port,
        "log_level": args.log_level,
        "access_log": args.access_log,
        "log_config": log_config(),  # no token of a WebSocket URL in the log
    }
    if args.workers > 1:  # separate processes, each with its own pool: the factory builds the app
        uvicorn.run("api.app:app_from_environment", factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: SMARTPARK_API_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: SMARTPARK_API_PORT or 8040)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each has its own pool)")
    parser.set_defaults(func=_serve)
