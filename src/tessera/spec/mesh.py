"""``load_mesh``: read a whole mesh folder, check every file and the rules across files, raise every problem.

The walk reads ``mesh.yaml``, each ``domains/<d>/domain.yaml`` and each product folder
``domains/<d>/products/<p>/`` (``product.odps.yaml``, ``contract.odcs.yaml``, an optional ``transform.sql`` or
``transform.py``). Every file is checked on its own first; the rules across files (input ports, contract
ids, unique names, cycles) live in ``tessera.spec.graph``. Problems name files relative to the mesh root.

What is made of each file on its own — settings, a domain, a product folder's entry and problems — is kept in
the mesh index (``tessera.spec.index``) under the digests of the bytes it was made from, so a second command
parses only what changed; the rules across files run every time (docs/architecture.md, "The mesh index").
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tessera.errors import Problem, SpecError
from tessera.model.product import Domain, MeshSettings, MeshSpec, Transform
from tessera.spec.files import PRODUCT_FILES, FileReader, MeshFiles, folders
from tessera.spec.graph import CYCLE, Links, ProductEntry, cross_check
from tessera.spec.index import Index, key_of, open_index
from tessera.spec.names import ENV_CATALOG, source_location_problem
from tessera.spec.yaml_lines import LineMap

__all__ = ["Scan", "Slot", "load_mesh", "scan_mesh"]

_TRANSFORMS = (("transform.sql", "sql"), ("transform.py", "python"))


def load_mesh(
    root: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    partial: bool = False,
    strict: bool = False,
) -> MeshSpec:
    """Load and validate the mesh in folder ``root``; raises ``SpecError`` with every problem in every file.

    ``environ`` (default ``os.environ``) may set ``TESSERA_CATALOG_URL`` to override mesh.yaml's catalog, and
    ``TESSERA_NO_INDEX=1`` to read every file without the mesh index.
    Warnings (``Problem.severity``) refuse nothing and are on ``MeshSpec.warnings``; ``strict`` makes them
    errors."""
    scan = scan_mesh(root, environ=environ)
    try:
        return scan.spec(strict=strict, partial=partial)
    finally:
        scan.save()


def scan_mesh(root: str | Path, *, environ: Mapping[str, str] | None = None) -> Scan:
    """Every file of the mesh in ``root`` read and checked on its own, and the rules across files, with
    nothing refused yet (``Scan.spec`` decides); raises ``SpecError`` only when ``root`` is not a mesh."""
    base = Path(root).expanduser().resolve()
    if not (base / "mesh.yaml").is_file():
        from tessera.spec.settings import not_a_mesh

        raise not_a_mesh(base)
    index = open_index(base, environ)
    files = MeshFiles.walk(base) if index is not None else None
    reader = FileReader(files, base)
    problems: list[Problem] = []
    keys: dict[str, bytes] = {}
    if files is not None:
        catalog = (os.environ if environ is None else environ).get(ENV_CATALOG) or ""
        keys["mesh.yaml"] = key_of(str(base), files.digest(".", ("mesh.yaml",)), catalog)
    doc, lines, settings, found = _settings(base, reader, index, keys.get("mesh.yaml", b""), environ)
    problems += found
    domains: list[tuple[Domain, LineMap]] = []
    slots: list[Slot] = []
    for name in files.domains if files is not None else folders(base / "domains"):
        if files is not None:
            keys[name] = key_of(
                str(base), files.digest(f"domains/{name}", ("domain.yaml",)), settings.storage
            )
        domain, found = _domain(base, name, reader, index, keys.get(name, b""), settings.storage)
        problems += found
        if domain is not None:
            domains.append(domain)
        products = (
            files.products[name] if files is not None else folders(base / "domains" / name / "products")
        )
        for product in products:
            slots.append(_slot(base, name, product, reader, files, index))
            problems += slots[-1].problems
    problems += _cross(domains, slots, files, index)
    problems += _unknown_domains(doc, lines, [d.name for d, _ in domains], index, keys.get("mesh.yaml", b""))
    if index is not None:
        index.keep("product", {s.folder for s in slots})
        index.keep("domain", set(files.domains if files is not None else ()))
    return Scan(settings, domains, slots, problems, files, index, keys)


@dataclass(slots=True)
class Slot:
    """One product folder as scanned: its address, its own files' problems, and its entry — made now, or kept
    in the index and unpickled only when asked for (``entry()``, ``links()``). ``key`` is the digest of its
    files (empty without an index)."""

    address: str
    folder: str
    key: bytes
    inputs: tuple[str, ...]
    loaded: bool
    problems: tuple[Problem, ...]
    links_digest: bytes
    _links: Links | bytes
    _entry: ProductEntry | bytes

    def entry(self) -> ProductEntry:
        if isinstance(self._entry, bytes):
            self._entry = pickle.loads(zlib.decompress(self._entry))
        assert isinstance(self._entry, ProductEntry)
        return self._entry

    def links(self) -> Links:
        if isinstance(self._links, bytes):
            self._links = pickle.loads(self._links)
        assert isinstance(self._links, Links)
        return self._links


@dataclass(slots=True)
class Scan:
    """A scanned mesh: settings, domains, product folders and every problem found, warnings included."""

    settings: MeshSettings
    domains: list[tuple[Domain, LineMap]]
    slots: list[Slot]
    problems: list[Problem]
    files: MeshFiles | None
    index: Index | None
    #: The index keys of mesh.yaml's settings (``"mesh.yaml"``) and of each domain (by name); none without one.
    keys: dict[str, bytes]

    def outcome(self, *, strict: bool, partial: bool) -> tuple[list[Slot], dict[str, str], list[Problem]]:
        """The product folders that load, the products left out (``partial``) and why, and the warnings;
        raises ``SpecError`` with every error that is not left out."""
        problems = self.problems
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
            owners = {f"{s.folder}/": s.address for s in self.slots}
            for problem in list(problems):
                owner = _owner(problem.file, owners)
                if owner is not None:
                    broken[owner] = (
                        f"{broken[owner]}\n{problem}" if owner in broken else f"{owner}: {problem}"
                    )
                    problems.remove(problem)
        if problems:
            raise SpecError(sorted(problems, key=lambda p: (p.file, p.line or 0)))
        kept = [s for s in self.slots if s.loaded and s.address not in broken]
        return kept, broken, sorted(warnings, key=lambda p: (p.file, p.line or 0))

    def spec(self, *, strict: bool = False, partial: bool = False) -> MeshSpec:
        kept, broken, warnings = self.outcome(strict=strict, partial=partial)
        products = []
        for slot in kept:
            product = slot.entry().product
            assert product is not None
            products.append(product)
        return MeshSpec(
            settings=self.settings,
            domains=tuple(d for d, _ in self.domains),
            products=tuple(products),
            broken=broken,
            warnings=tuple(warnings),
        )

    def save(self) -> None:
        if self.index is not None:
            self.index.save()


def _owner(file: str, owners: dict[str, str]) -> str | None:
    """The address of the product folder ``file`` is in, if any (``domains/<d>/products/<p>/...``)."""
    parts = file.split("/", 4)
    if len(parts) < 5 or parts[0] != "domains" or parts[2] != "products":
        return next((a for folder, a in owners.items() if file.startswith(folder)), None)
    return owners.get("/".join(parts[:4]) + "/")


def _settings(
    base: Path, reader: FileReader, index: Index | None, key: bytes, environ: Mapping[str, str] | None
) -> tuple[Any, LineMap, MeshSettings, list[Problem]]:
    if index is not None:
        found = index.get("mesh", "mesh.yaml", key)
        if found is not None:
            return found  # type: ignore[no-any-return]
    from tessera.spec.settings import check_settings
    from tessera.spec.yaml_lines import parse_yaml

    text, problems = reader.text(base / "mesh.yaml", "mesh.yaml")
    doc, lines = None, LineMap()
    if text is not None:
        doc, lines, problems = parse_yaml(text, "mesh.yaml")
    settings, found = check_settings(doc if not problems else {"name": base.name}, lines, base, environ)
    result = (doc, lines, settings, problems + found)
    if index is not None:
        index.put("mesh", "mesh.yaml", key, result)
    return result


def _unknown_domains(
    doc: Any, lines: LineMap, names: list[str], index: Index | None, key: bytes
) -> list[Problem]:
    if index is not None:
        key = key_of(key, *names)
        found = index.get("mesh", "transforms.domains", key)
        if found is not None:
            return list(found)
    from tessera.spec.transforms import unknown_domain_problems  # imports ast: only when it must run

    problems = unknown_domain_problems(doc, lines, names)
    if index is not None:
        index.put("mesh", "transforms.domains", key, tuple(problems))
    return problems


def _domain(
    base: Path, name: str, reader: FileReader, index: Index | None, key: bytes, storage: str
) -> tuple[tuple[Domain, LineMap] | None, list[Problem]]:
    file = f"domains/{name}/domain.yaml"
    if index is not None:
        found = index.get("domain", name, key)
        if found is not None and found[1] == source_verdicts(found[0][0], base, storage):
            return found[0]  # type: ignore[no-any-return]
    result = _check_domain(base, name, file, reader, storage)
    if index is not None:
        index.put("domain", name, key, (result, source_verdicts(result[0], base, storage)))
    return result


def source_verdicts(
    domain: tuple[Domain, LineMap] | None, base: Path, storage: str
) -> tuple[tuple[str, str | None], ...]:
    """What the disk says of each local source of ``domain`` now: where its path leads is not in the bytes of
    domain.yaml (a link may be added or moved), so a domain's kept check is used only while every source's
    verdict is the one it was made with (docs/architecture.md, "The mesh index")."""
    if domain is None:
        return ()
    return tuple(
        (table.uri, source_location_problem(table.uri, base, storage))
        for system in domain[0].source_systems
        for table in system.tables
        if table.uri
    )


def _check_domain(
    base: Path, name: str, file: str, reader: FileReader, storage: str
) -> tuple[tuple[Domain, LineMap] | None, list[Problem]]:
    from tessera.spec.domain import check_domain

    folder = base / "domains" / name
    if not reader.is_file(folder / "domain.yaml"):
        return None, [
            Problem(file, None, "", "missing: a domain folder needs domain.yaml (name, description, owner)")
        ]
    doc, lines, problems = _yaml(reader, folder / "domain.yaml", file)
    if problems:
        return None, problems
    domain, found = check_domain(doc, file=file, lines=lines, folder=name, root=base, storage=storage)
    return (domain, lines), found


def _slot(
    base: Path, domain: str, name: str, reader: FileReader, files: MeshFiles | None, index: Index | None
) -> Slot:
    folder = f"domains/{domain}/products/{name}"
    key = b""
    if files is not None and index is not None:
        key = key_of(files.digest(folder, PRODUCT_FILES))
        found = index.get("product", folder, key)
        if found is not None:
            inputs, loaded, kept, links_digest, links, entry = found
            return Slot(f"{domain}.{name}", folder, key, inputs, loaded, kept, links_digest, links, entry)
    problems: list[Problem] = []
    entry = _product(base, domain, base / folder, problems, reader)
    links = entry.links()
    links_blob = pickle.dumps(links, protocol=pickle.HIGHEST_PROTOCOL)
    links_digest = hashlib.blake2b(links_blob, digest_size=20).digest()
    inputs = tuple(port.address for _, port in entry.inputs)
    slot = Slot(
        entry.address,
        folder,
        key,
        inputs,
        entry.product is not None,
        tuple(problems),
        links_digest,
        links,
        entry,
    )
    if index is not None:
        blob = zlib.compress(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL), 1)
        value = (inputs, slot.loaded, slot.problems, links_digest, links_blob, blob)
        index.put("product", folder, key, value)
    return slot


def _cross(
    domains: Sequence[tuple[Domain, LineMap]],
    slots: Sequence[Slot],
    files: MeshFiles | None,
    index: Index | None,
) -> list[Problem]:
    """The rules across files; kept under the digest of everything they read (each domain and each
    folder's links), which changes only when a file changes what another file may refer to."""
    key = b""
    if index is not None:
        digest = hashlib.blake2b(
            pickle.dumps(list(domains), protocol=pickle.HIGHEST_PROTOCOL), digest_size=20
        )
        for slot in slots:
            digest.update(b"\0" + slot.address.encode() + b"\0" + slot.links_digest)
        key = key_of(digest.digest())
        found = index.get("cross", "mesh", key)
        if found is not None:
            return list(found)
    problems = cross_check(domains, [s.links() for s in slots])
    if index is not None:
        index.put("cross", "mesh", key, tuple(problems))
    return problems


def _yaml(reader: FileReader, path: Path, file: str) -> tuple[Any, LineMap, list[Problem]]:
    from tessera.spec.yaml_lines import parse_yaml

    text, problems = reader.text(path, file)
    if text is None:
        return None, LineMap(), problems
    return parse_yaml(text, file)


def _product(
    base: Path, domain: str, folder: Path, problems: list[Problem], reader: FileReader
) -> ProductEntry:
    from tessera.spec.contract import check_contract
    from tessera.spec.product import check_product, input_ports

    prefix = f"domains/{domain}/products/{folder.name}"
    odps_file, odcs_file = f"{prefix}/product.odps.yaml", f"{prefix}/contract.odcs.yaml"
    contract_doc, contract_lines = _read(
        reader, folder / "contract.odcs.yaml", odcs_file, problems, "the output contract"
    )
    contract = None
    if contract_doc is not None:
        contract, found = check_contract(
            contract_doc, path=odcs_file, lines=contract_lines, strict_tessera=True
        )
        problems += found
    doc, lines = _read(reader, folder / "product.odps.yaml", odps_file, problems, "the product (ODPS v1)")
    product = None
    if doc is not None:
        transform = _transform(reader, folder, prefix, problems)
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


def _read(
    reader: FileReader, path: Path, file: str, problems: list[Problem], what: str
) -> tuple[Any, LineMap]:
    if not reader.is_file(path):
        problems.append(Problem(file, None, "", f"missing: a product folder needs {path.name}, {what}"))
        return None, LineMap()
    doc, lines, found = _yaml(reader, path, file)
    problems += found
    return (None if found else doc), lines


def _transform(reader: FileReader, folder: Path, prefix: str, problems: list[Problem]) -> Transform | None:
    present = [(name, kind) for name, kind in _TRANSFORMS if reader.is_file(folder / name)]
    if len(present) > 1:
        message = "a product has one transform: keep transform.sql or transform.py, not both"
        problems.append(Problem(f"{prefix}/transform.py", None, "", message))
    if not present:
        return None
    name, kind = present[0]
    code, found = reader.text(folder / name, f"{prefix}/{name}")  # bounded like every mesh file
    if code is None:
        problems += found
        return None
    return Transform(kind="sql" if kind == "sql" else "python", path=f"{prefix}/{name}", code=code)
