"""Routers, one per area, mounted under /api/v1 by api.app."""
