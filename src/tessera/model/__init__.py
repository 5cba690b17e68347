"""The nouns of a mesh: pure, immutable values with no I/O."""

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
