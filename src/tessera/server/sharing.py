"""The Delta Sharing protocol server, mounted at ``/delta-sharing``."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
