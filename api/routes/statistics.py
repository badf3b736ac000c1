"""statistics routes."""

from fastapi import APIRouter

router = APIRouter(tags=["statistics"])
