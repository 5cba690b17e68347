"""Mesh folder → model: YAML with line numbers, JSON Schema validation (ODCS v3, ODPS v1, Tessera's own
files), Tessera's rules within and across files, and every problem reported at once with file:line:key.

    load_mesh(root)        the whole mesh folder → MeshSpec (raises SpecError)
    load_contract(path)    one ODCS file, also outside a mesh → Contract (raises SpecError)
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.spec.contract import (
        check_contract,
        document_hash,
        load_contract,
        odcs_problems,
        parse_contract,
    )
    from tessera.spec.mesh import load_mesh
    from tessera.spec.product import odps_problems
    from tessera.spec.settings import ENV_CATALOG, load_settings, resolve_catalog_url
    from tessera.spec.yaml_lines import KeyPath, LineMap, key_path, parse_yaml, read_yaml

__all__ = [
    "ENV_CATALOG",
    "KeyPath",
    "LineMap",
    "check_contract",
    "document_hash",
    "key_path",
    "load_contract",
    "load_mesh",
    "load_settings",
    "odcs_problems",
    "odps_problems",
    "parse_contract",
    "parse_yaml",
    "read_yaml",
    "resolve_catalog_url",
]

_HOMES = {
    "ENV_CATALOG": "settings",
    "KeyPath": "yaml_lines",
    "LineMap": "yaml_lines",
    "check_contract": "contract",
    "document_hash": "contract",
    "key_path": "yaml_lines",
    "load_contract": "contract",
    "load_mesh": "mesh",
    "load_settings": "settings",
    "odcs_problems": "contract",
    "odps_problems": "product",
    "parse_contract": "contract",
    "parse_yaml": "yaml_lines",
    "read_yaml": "yaml_lines",
    "resolve_catalog_url": "settings",
}


def __getattr__(name: str) -> Any:
    """Names load with their module: reading only mesh.yaml does not import the contract machinery."""
    if name in _HOMES:
        return getattr(import_module(f"tessera.spec.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.spec' has no attribute {name!r}")
