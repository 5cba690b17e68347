"""The nouns of a mesh: pure, immutable values with no I/O."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.model.address import Address, parse_semver
    from tessera.model.contract import Column, Contract, QualityRule, SlaProperty, Threshold
    from tessera.model.product import (
        Domain,
        InputPort,
        MeshSettings,
        MeshSpec,
        Product,
        SourceSystem,
        SourceTable,
    )
    from tessera.model.results import Check, QualityRun

__all__ = [
    "Address",
    "Check",
    "Column",
    "Contract",
    "Domain",
    "InputPort",
    "MeshSettings",
    "MeshSpec",
    "Product",
    "QualityRule",
    "QualityRun",
    "SlaProperty",
    "SourceSystem",
    "SourceTable",
    "Threshold",
    "parse_semver",
]

_HOMES = {
    "Address": "address",
    "parse_semver": "address",
    "Column": "contract",
    "Contract": "contract",
    "QualityRule": "contract",
    "SlaProperty": "contract",
    "Threshold": "contract",
    "Check": "results",
    "QualityRun": "results",
    **dict.fromkeys(
        ("Domain", "InputPort", "MeshSettings", "MeshSpec", "Product", "SourceSystem", "SourceTable"),
        "product",
    ),
}


def __getattr__(name: str) -> Any:
    """Names load with their module, so using one noun does not import them all."""
    if name in _HOMES:
        return getattr(import_module(f"tessera.model.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.model' has no attribute {name!r}")
