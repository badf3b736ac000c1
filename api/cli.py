"""`smartpark api`: serve the HTTP API (and the ops-centre page) with uvicorn."""

from __future__ import annotations

import argparse


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from smartpark.settings import get_settings

    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="listen address (default: SMARTPARK_API_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: SMARTPARK_API_PORT or 8040)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.set_defaults(func=_serve)
