"""alarms routes."""

from fastapi import APIRouter

router = APIRouter(tags=["alarms"])
