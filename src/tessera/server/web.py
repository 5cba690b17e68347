"""The web catalog, mounted at ``/``: server-rendered pages, no asset from a CDN."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
