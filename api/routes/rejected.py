"""rejected routes."""

from fastapi import APIRouter

router = APIRouter(tags=["rejected"])
