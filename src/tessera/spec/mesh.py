"""``load_mesh``: read a whole mesh folder, check every file and the rules across files, raise every problem.

The walk reads ``mesh.yaml``, each ``domains/<d>/domain.yaml`` and each product folder
``domains/<d>/products/<p>/`` (``product.odps.yaml``, ``contract.odcs.yaml``, an optional ``transform.sql`` or
``transform.py``). Every file is checked on its own first; the rules across files (input ports, contract
ids, unique names, cycles) live in ``tessera.spec.graph``. Problems name files relative to the mesh root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tessera.errors import Problem, SpecError
from tessera.model.product import Domain, MeshSpec, Transform
from tessera.spec.bounds import read_text
from tessera.spec.contract import check_contract
from tessera.spec.domain import check_domain
from tessera.spec.graph import CYCLE, ProductEntry, cross_check
from tessera.spec.product import check_product, input_ports
from tessera.spec.settings import check_settings
from tessera.spec.transforms import unknown_domain_problems
from tessera.spec.yaml_lines import LineMap, read_yaml

__all__ = ["load_mesh"]

_TRANSFORMS = (("transform.sql", "sql"), ("transform.py", "python"))


def load_mesh(
    root: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    partial: bool = False,
    strict: bool = False,
) -> MeshSpec:
    """Load and validate the mesh in folder ``root``; raises ``SpecError`` with every problem in every file.

    ``environ`` (default ``os.environ``) may set ``TESSERA_CATALOG_URL`` to override mesh.yaml's catalog.
    Warnings (``Problem.severity``) refuse nothing and are on ``MeshSpec.warnings``; ``strict`` makes them
    errors."""
    base = Path(root).expanduser().resolve()
    if not (base / "mesh.yaml").is_file():
        what = "does not exist" if not base.exists() else "is not a Tessera mesh: it has no mesh.yaml"
        hint = "run `tessera init` to create a mesh (or `tessera init --example` for the example mesh)"
        raise SpecError([Problem(str(base), None, "", f"{base} {what}; {hint}")])
    problems: list[Problem] = []
    doc, lines, found = read_yaml(base / "mesh.yaml", "mesh.yaml")
    problems += found
    settings, found = check_settings(doc if not found else {"name": base.name}, lines, base, environ)
    problems += found
    domains: list[tuple[Domain, LineMap]] = []
    entries: list[ProductEntry] = []
    for folder in _folders(base / "domains"):
        domain = _domain(base, folder, problems, settings.storage)
        if domain is not None:
            domains.append(domain)
        entries.extend(_product(base, folder.name, sub, problems) for sub in _folders(folder / "products"))
    problems += cross_check(domains, entries)
    problems += unknown_domain_problems(doc, lines, [d.name for d, _ in domains])
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    warnings = [p for p in problems if not p.is_error]
    problems = [p for p in problems if p.is_error]
    broken: dict[str, str] = {}
    if partial:
        # A build goes on around broken products: those whose own files have problems (an unknown input, an
        # invalid schedule, a bad contract) or whose input ports close a cycle are left out, and said why.
        # Problems in mesh.yaml or a domain.yaml still stop everything.
        for problem in [p for p in problems if CYCLE in p.message]:
            for address in problem.message.split(CYCLE, 1)[1].split(" → "):
                broken.setdefault(address.strip(), f"{problem}")
            problems.remove(problem)
        folders = {e.file.rsplit("/", 1)[0] + "/": e.address for e in entries}
        for problem in list(problems):
            owner = next((a for folder, a in folders.items() if problem.file.startswith(folder)), None)
            if owner is not None:
                broken[owner] = f"{broken[owner]}\n{problem}" if owner in broken else f"{owner}: {problem}"
                problems.remove(problem)
    if problems:
        raise SpecError(sorted(problems, key=lambda p: (p.file, p.line or 0)))
    products = tuple(e.product for e in entries if e.product is not None and e.address not in broken)
    return MeshSpec(
        settings=settings,
        domains=tuple(d for d, _ in domains),
        products=products,
        broken=broken,
        warnings=tuple(sorted(warnings, key=lambda p: (p.file, p.line or 0))),
    )


def _folders(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _domain(base: Path, folder: Path, problems: list[Problem], storage: str) -> tuple[Domain, LineMap] | None:
    file = f"domains/{folder.name}/domain.yaml"
    if not (folder / "domain.yaml").is_file():
        problems.append(
            Problem(file, None, "", "missing: a domain folder needs domain.yaml (name, description, owner)")
        )
        return None
    doc, lines, found = read_yaml(folder / "domain.yaml", file)
    if found:
        problems += found
        return None
    domain, found = check_domain(doc, file=file, lines=lines, folder=folder.name, root=base, storage=storage)
    problems += found
    return domain, lines


def _product(base: Path, domain: str, folder: Path, problems: list[Problem]) -> ProductEntry:
    prefix = f"domains/{domain}/products/{folder.name}"
    odps_file, odcs_file = f"{prefix}/product.odps.yaml", f"{prefix}/contract.odcs.yaml"
    contract_doc, contract_lines = _read(
        folder / "contract.odcs.yaml", odcs_file, problems, "the output contract"
    )
    contract = None
    if contract_doc is not None:
        contract, found = check_contract(
            contract_doc, path=odcs_file, lines=contract_lines, strict_tessera=True
        )
        problems += found
    doc, lines = _read(folder / "product.odps.yaml", odps_file, problems, "the product (ODPS v1)")
    product = None
    if doc is not None:
        transform = _transform(folder, prefix, problems)
        product, found = check_product(
            doc,
            file=odps_file,
            lines=lines,
            domain=domain,
            folder=folder.name,
            contract=contract,
            transform=transform,
        )
        problems += found
    return ProductEntry(
        address=f"{domain}.{folder.name}",
        file=odps_file,
        lines=lines,
        inputs=tuple(input_ports(doc)),
        contract=contract,
        contract_lines=contract_lines,
        product=product,
    )


def _read(path: Path, file: str, problems: list[Problem], what: str) -> tuple[Any, LineMap]:
    if not path.is_file():
        problems.append(Problem(file, None, "", f"missing: a product folder needs {path.name}, {what}"))
        return None, LineMap()
    doc, lines, found = read_yaml(path, file)
    problems += found
    return (None if found else doc), lines


def _transform(folder: Path, prefix: str, problems: list[Problem]) -> Transform | None:
    present = [(name, kind) for name, kind in _TRANSFORMS if (folder / name).is_file()]
    if len(present) > 1:
        message = "a product has one transform: keep transform.sql or transform.py, not both"
        problems.append(Problem(f"{prefix}/transform.py", None, "", message))
    if not present:
        return None
    name, kind = present[0]
    code, found = read_text(folder / name, f"{prefix}/{name}")  # bounded like every mesh file
    if code is None:
        problems += found
        return None
    return Transform(kind="sql" if kind == "sql" else "python", path=f"{prefix}/{name}", code=code)
