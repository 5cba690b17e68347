"""``tessera validate``: every problem of a mesh folder (or one contract file) at once, warnings apart.

A mesh's problems are its files' (``tessera.spec``), its transforms', its policy files', and the violations of
every policy rule that needs no data: rules that read neither the quality run nor the grants are evaluated on
each product that loaded, so a publish is not the first to say that a product has no owner. Warnings (what
others' tools write that the standards refuse, a policy rule of severity warning) refuse nothing; with
``strict`` the standards' warnings are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import Problem, SpecError
from tessera.spec.index import key_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from tessera.governance import Policy, PolicySet
    from tessera.model.product import Domain, MeshSettings, MeshSpec, Product
    from tessera.spec.mesh import Scan, Slot

__all__ = ["Validation", "policy_violations", "product_violations", "validate_contract", "validate_mesh"]

#: A rule that reads one of these fields of the product document needs data (a quality run, live grants):
#: ``tessera validate`` leaves it to the publish gate and ``tessera govern``.
_NEEDS_DATA = re.compile(r"\b(?:quality|grants)\b")


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``tessera validate`` found: ``subject`` (the mesh's name or the contract file), the errors and the
    warnings (each a ``Problem`` with its file:line:key), and counts of what was read."""

    subject: str
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    domains: int = 0
    products: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "mesh": self.subject,
            "domains": self.domains,
            "products": self.products,
            "valid": self.valid,
            "problems": [_problem(p) for p in self.errors],
            "warnings": [_problem(p) for p in self.warnings],
        }


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "key": p.key, "message": p.message, "severity": p.severity}


def validate_mesh(root: str | Path | None, *, strict: bool = False) -> Validation:
    """Every problem of the mesh in ``root``. Problems in mesh.yaml or a domain.yaml stop the walk (raised as
    ``SpecError``); problems in a product's files do not stop the other products' policy checks.

    With the mesh index (``tessera.spec.index``), each product's checks are kept under the digests of all they
    read — its files, its inputs' files, mesh.yaml, its domain.yaml, the policy files — and the whole result
    under the digest of every file, so an unchanged mesh is answered without parsing anything
    (docs/architecture.md, "The mesh index")."""
    from tessera.platform.governing.govern import policy_fingerprint
    from tessera.spec.mesh import scan_mesh

    scan = scan_mesh(root if root is not None else ".")
    if scan.index is None:
        found = _checked(scan, strict, "")
    else:
        policies = policy_fingerprint(scan.settings.root)
        found = _checked(scan, strict, policies)
        unchanged = policy_fingerprint(scan.settings.root) == policies
        if unchanged:  # else a policy file changed while it was read: keep nothing
            scan.save()
    if isinstance(found, SpecError):
        raise found
    return found


def _checked(scan: Scan, strict: bool, policies: str) -> Validation | SpecError:
    from tessera.spec.mesh import source_verdicts

    index, files = scan.index, scan.files
    whole = b""
    if index is not None and files is not None:
        listing = "\0".join(f"{d}/{'/'.join(files.products[d])}" for d in files.domains).encode()
        every = b"\0".join(b"%s=%s" % (path.encode(), found.digest) for path, found in files.files.items())
        sources = repr([source_verdicts(d, scan.settings.root, scan.settings.storage) for d in scan.domains])
        whole = key_of(
            b"strict" if strict else b"", scan.keys["mesh.yaml"], policies, listing, every, sources
        )
        done = index.get("validate", "strict" if strict else "mesh", whole)
        if done is not None:
            kind, value = done
            return SpecError(value) if kind == "problems" else value
    try:
        found: Validation | SpecError = _validation(scan, strict, policies)
    except SpecError as exc:
        found = exc
    if index is not None:
        live = {s.address for s in scan.slots}
        for table in ("transform", "policy"):
            index.keep(table, live)
        index.keep("todo", {s.folder for s in scan.slots} | {f"domains/{d}" for d in scan.keys})
        stored = ("problems", found.problems) if isinstance(found, SpecError) else ("done", found)
        index.put("validate", "strict" if strict else "mesh", whole, stored)
    return found


def _validation(scan: Scan, strict: bool, policies: str) -> Validation:
    from tessera.platform.governing.govern import policy_problems

    problems: list[Problem] = []
    try:
        kept, _, warnings = scan.outcome(strict=strict, partial=False)
    except SpecError as exc:
        problems = list(exc.problems)
        try:
            kept, _, warnings = scan.outcome(strict=strict, partial=True)  # the products that did load
        except SpecError:
            raise exc from None
    settings = scan.settings
    domains = {d.name: d for d, _ in scan.domains}
    products = {s.address: s for s in kept}
    mesh_key = scan.keys.get("mesh.yaml", b"")
    contracts = (
        {a: scan.files.digest(s.folder, ("contract.odcs.yaml",)).hex() for a, s in products.items()}
        if scan.files
        else {}
    )
    for slot in kept:
        # an input is read for its contract alone (its columns), and only when it loaded
        inputs = [f"{a}={contracts.get(a, '-')}" for a in slot.inputs]
        key = key_of(slot.key, mesh_key, *inputs)
        problems += _memo(
            scan, "transform", slot.address, key, partial(_transforms, slot, products, settings)
        )
    found = _memo(scan, "policies", "mesh", key_of(policies, mesh_key), lambda: policy_problems(settings))
    problems += found
    if not found:
        chosen: list[PolicySet] = []
        for slot in kept:
            domain = slot.address.split(".", 1)[0]
            key = key_of(slot.key, scan.keys.get(domain, b""), mesh_key, policies)
            compute = partial(_violations, slot, domains, settings, chosen)
            problems += _memo(scan, "policy", slot.address, key, compute)
    folders = [d.path for d in domains.values() if d.path] + [s.folder for s in kept]
    for folder in folders:
        problems += [replace(n, severity="warning") for n in _todo_notes(scan, folder)]
    return Validation(
        subject=settings.name,
        errors=tuple(_ordered(p for p in problems if p.is_error)),
        warnings=tuple(_ordered([*warnings, *(p for p in problems if not p.is_error)])),
        domains=len(scan.domains),
        products=len(kept),
    )


def _memo(
    scan: Scan, table: str, name: str, key: bytes, compute: Callable[[], list[Problem]]
) -> list[Problem]:
    """``compute()``, or what it gave before for ``key`` (kept in the mesh index when there is one)."""
    if scan.index is None:
        return compute()
    found = scan.index.get(table, name, key)
    if found is None:
        found = tuple(compute())
        scan.index.put(table, name, key, found)
    return list(found)


def _transforms(slot: Slot, products: dict[str, Slot], settings: MeshSettings) -> list[Problem]:
    """The transform's problems; it reads the product, its inputs' contracts and mesh.yaml's transforms."""
    from tessera.spec.expectations import unmet_problems
    from tessera.spec.transforms import product_transform_problems

    product = _product(slot)
    inputs = {a: _product(products[a]) for a in slot.inputs if a in products}
    # what it expects of its inputs reads the same: its file and their contracts (consumer contracts)
    return product_transform_problems(product, inputs, settings=settings) + unmet_problems(product, inputs)


def _violations(
    slot: Slot, domains: dict[str, Domain], settings: MeshSettings, policies: list[PolicySet]
) -> list[Problem]:
    if not policies:
        from tessera.platform.governing.govern import policy_set

        policies.append(policy_set(settings))  # once, for every product
    return product_violations(
        _product(slot), domains.get(slot.address.split(".", 1)[0]), settings, policies[0]
    )


def _product(slot: Slot) -> Product:
    product = slot.entry().product
    assert product is not None  # only products that loaded are checked
    return product


def _todo_notes(scan: Scan, folder: str) -> list[Problem]:
    """The TODO placeholders of one domain or product folder (kept under the digest of its files)."""
    from tessera.spec.files import FOLDER_FILES
    from tessera.spec.todos import todo_notes_in

    root, files = scan.settings.root, scan.files
    if files is None:
        paths = [(root / folder / name, name) for name in FOLDER_FILES]
        return [
            n
            for path, name in paths
            if path.is_file()
            for n in todo_notes_in(path.read_bytes(), f"{folder}/{name}")
        ]

    def compute() -> list[Problem]:
        notes: list[Problem] = []
        for name in FOLDER_FILES:
            found = files.files.get(f"{folder}/{name}")
            if found is not None:
                data = found.data if found.data is not None else (root / folder / name).read_bytes()
                notes += todo_notes_in(data, f"{folder}/{name}")
        return notes

    return _memo(scan, "todo", folder, files.digest(folder, FOLDER_FILES), compute)


def validate_contract(path: str | Path, *, strict: bool = False) -> Validation:
    """One ODCS file as the standard reads it (outside any mesh): its errors and warnings."""
    from tessera.spec.contract import check_contract
    from tessera.spec.yaml_lines import read_yaml

    file = str(path)
    if not Path(path).is_file():
        raise SpecError([Problem(file, None, "", "no such file")])
    doc, lines, problems = read_yaml(Path(path), file)
    if not problems:
        _, problems = check_contract(doc, path=file, lines=lines)
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    return Validation(
        subject=file,
        errors=tuple(p for p in problems if p.is_error),
        warnings=tuple(p for p in problems if not p.is_error),
    )


def policy_violations(spec: MeshSpec) -> list[Problem]:
    """The violations of every policy rule that needs no data, on every product of ``spec``, each as a problem
    of the product's file (warnings for rules of severity warning or info)."""
    from tessera.platform.governing.govern import policy_set

    policies = policy_set(spec.settings)
    return [
        p
        for product in spec.products
        for p in product_violations(product, spec.domain(product.domain), spec.settings, policies)
    ]


def product_violations(
    product: Product, domain: Domain | None, settings: MeshSettings, policies: PolicySet
) -> list[Problem]:
    """``policy_violations`` of one product: what they read is the product, its domain, mesh.yaml and the
    policy files."""
    from tessera.governance import evaluate_policies, product_document

    chosen = [p for p in map(_without_data, policies.applicable(product.domain)) if p is not None]
    document = product_document(product, domain, settings)
    file = f"{product.path}/product.odps.yaml" if product.path else product.address
    out: list[Problem] = []
    for violation in evaluate_policies(chosen, document):
        key = f"policy {violation.policy}.{violation.rule}"
        problem = Problem(file, None, key, violation.message)
        out.append(problem if violation.severity == "error" else replace(problem, severity="warning"))
    return out


def _without_data(policy: Policy) -> Policy | None:
    """``policy`` with only its rules that need no data; None when none is left or its match needs data."""
    if policy.match and _NEEDS_DATA.search(policy.match):
        return None
    rules = tuple(
        r for r in policy.rules if not _NEEDS_DATA.search(f"{r.expression}\n{r.message_expression or ''}")
    )
    return replace(policy, rules=rules) if rules else None


def _ordered(problems: Any) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0))
