"""The use cases (plan, apply, build, publish, read, query, test, repair) behind one facade: ``Mesh``.

Names load on first use, so a command that needs one use case does not import them all."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.platform.build import BuildOutcome
    from tessera.platform.mesh import Mesh
    from tessera.platform.product_handle import ProductHandle
    from tessera.platform.provision import Plan, Step
    from tessera.platform.publish import PublishResult
    from tessera.platform.reading import DeprecatedVersionWarning, Release

__all__ = [
    "BuildOutcome",
    "DeprecatedVersionWarning",
    "Mesh",
    "Plan",
    "ProductHandle",
    "PublishResult",
    "Release",
    "Step",
]

_HOMES = {
    "BuildOutcome": "build",
    "DeprecatedVersionWarning": "reading",
    "Mesh": "mesh",
    "Plan": "provision",
    "ProductHandle": "product_handle",
    "PublishResult": "publish",
    "Release": "reading",
    "Step": "provision",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"tessera.platform.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.platform' has no attribute {name!r}")
