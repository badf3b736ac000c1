"""rules routes."""

from fastapi import APIRouter

router = APIRouter(tags=["rules"])
