"""telemetry routes."""

from fastapi import APIRouter

router = APIRouter(tags=["telemetry"])
