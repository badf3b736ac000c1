"""live routes."""

from fastapi import APIRouter

router = APIRouter(tags=["live"])
