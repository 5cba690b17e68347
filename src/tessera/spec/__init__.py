"""Mesh folder → model: YAML with line numbers, JSON Schema validation (ODCS v3, ODPS v1, Tessera's own
files), Tessera's rules within and across files, and every problem reported at once with file:line:key.

    load_mesh(root)        the whole mesh folder → MeshSpec (raises SpecError)
    load_contract(path)    one ODCS file, also outside a mesh → Contract (raises SpecError)
"""

from tessera.spec.contract import check_contract, document_hash, load_contract, odcs_problems, parse_contract
from tessera.spec.mesh import load_mesh, load_settings
from tessera.spec.product import odps_problems
from tessera.spec.settings import ENV_CATALOG, resolve_catalog_url
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
