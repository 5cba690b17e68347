"""The use cases (plan, apply, build, publish, read, query, test, repair) behind one facade: ``Mesh``.

Names load on first use, so a command that needs one use case does not import them all."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.platform.mesh import Mesh
    from tessera.platform.product_handle import ProductHandle
    from tessera.platform.provisioning.provision import Plan, Step
    from tessera.platform.publishing.build import BuildOutcome
    from tessera.platform.publishing.publish import PublishResult
    from tessera.platform.reading.releases import DeprecatedVersionWarning, Release

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
    "BuildOutcome": "publishing.build",
    "DeprecatedVersionWarning": "reading.releases",
    "Mesh": "mesh",
    "Plan": "provisioning.provision",
    "ProductHandle": "product_handle",
    "PublishResult": "publishing.publish",
    "Release": "reading.releases",
    "Step": "provisioning.provision",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"tessera.platform.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.platform' has no attribute {name!r}")
