"""The rules across a mesh's files: unique ids and source systems, resolvable input ports, no cycles.

An input port names a product (``<domain>.<product>``, which must exist, and whose contract id it must
repeat) or a source table (``source.<system>.<table>``, declared in some domain's ``sourceSystems``). Product
inputs form a graph that must be acyclic; each cycle is reported once, with its path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tessera.errors import Problem
from tessera.model.address import NAME_PATTERN
from tessera.model.contract import Contract
from tessera.model.product import Domain, InputPort, Product
from tessera.spec.yaml_lines import KeyPath, LineMap, Report

__all__ = ["CYCLE", "Links", "ProductEntry", "cross_check", "find_cycles"]

CYCLE = "input ports form a cycle: "

_PRODUCT = re.compile(rf"^{NAME_PATTERN}\.{NAME_PATTERN}$")
_SOURCE = re.compile(rf"^source\.{NAME_PATTERN}\.{NAME_PATTERN}$")
_MAJOR = re.compile(r"^v?(\d+)(?:\.\d+\.\d+(?:[-+].*)?)?$")


@dataclass(frozen=True, slots=True)
class ProductEntry:
    """One product folder as read, for the rules across files (``product`` is None if it did not load)."""

    address: str
    file: str
    lines: LineMap
    inputs: tuple[tuple[int, InputPort], ...]
    contract: Contract | None
    contract_lines: LineMap
    product: Product | None

    def links(self) -> Links:
        """What the rules across files read of this folder, and no more (the mesh index keeps it apart)."""
        paths: list[tuple[str | int, ...]] = [(), ("id",), ("inputPorts",)]
        for index, _ in self.inputs:
            paths += [("inputPorts", index), *(("inputPorts", index, k) for k in _PORT_KEYS)]
        contract = self.contract
        if contract is not None:  # its id, version and file: the rest is no other file's business
            contract = Contract(contract.id, contract.version, "", "", (), path=contract.path)
        return Links(
            address=self.address,
            file=self.file,
            lines=self.lines.subset(paths),
            inputs=self.inputs,
            product_id=self.product.id if self.product is not None else None,
            contract=contract,
            contract_lines=self.contract_lines.subset([(), ("id",)]),
        )


_PORT_KEYS = ("name", "contractId", "version")


@dataclass(frozen=True, slots=True)
class Links:
    """One product folder as the rules across files see it: its address, input ports, product and contract
    ids, the contract's version, and the lines of those keys (``product_id`` None: the product did not load)."""

    address: str
    file: str
    lines: LineMap
    inputs: tuple[tuple[int, InputPort], ...]
    product_id: str | None
    contract: Contract | None
    contract_lines: LineMap


def cross_check(domains: Sequence[tuple[Domain, LineMap]], entries: Sequence[Links]) -> list[Problem]:
    """Every problem between files of one mesh (domains come with the line maps of their domain.yaml)."""
    problems: list[Problem] = []
    sources = _sources(domains, problems)
    by_address = {e.address: e for e in entries}
    _unique(entries, problems)
    edges: dict[str, list[tuple[str, int]]] = {}
    for entry in entries:
        report = Report(entry.file, entry.lines, problems)
        seen: set[str] = set()
        for index, port in entry.inputs:
            where: KeyPath = ("inputPorts", index)
            if port.address in seen:
                report.add((*where, "name"), f"input {port.address!r} is listed twice")
            seen.add(port.address)
            if _SOURCE.match(port.address):
                if port.address not in sources:
                    hint = _close(port.address, sources)
                    report.add((*where, "name"), f"no domain declares source table {port.address!r}{hint}")
            elif _PRODUCT.match(port.address):
                upstream = by_address.get(port.address)
                if upstream is None:
                    hint = _close(port.address, by_address)
                    report.add((*where, "name"), f"no product {port.address!r} in this mesh{hint}")
                    continue
                edges.setdefault(entry.address, []).append((port.address, index))
                if upstream.contract is not None:
                    _check_upstream(port, upstream.contract, where, report)
            else:
                report.add(
                    (*where, "name"),
                    f"{port.address!r} is not an input: name a product as <domain>.<product> "
                    "or a source table as source.<system>.<table>",
                )
    for cycle in find_cycles({a: [u for u, _ in ups] for a, ups in edges.items()}):
        first = by_address[cycle[0]]
        index = next(i for u, i in edges[cycle[0]] if u == cycle[1])
        Report(first.file, first.lines, problems).add(
            ("inputPorts", index, "name"), f"{CYCLE}{' → '.join(cycle)}"
        )
    return problems


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles of a directed graph (each once, starting at its smallest node), as node paths ending where
    they start: ``[a, b, a]``. Iterative, so deep chains of products do not hit the recursion limit."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    found: dict[tuple[str, ...], list[str]] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        state[start] = 1
        stack = [iter(graph.get(start, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                loop = path[path.index(nxt) :]
                turn = loop.index(min(loop))
                loop = loop[turn:] + loop[:turn]
                found.setdefault(tuple(loop), [*loop, loop[0]])
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return [found[key] for key in sorted(found)]


def _check_upstream(port: InputPort, contract: Contract, where: KeyPath, report: Report) -> None:
    if port.contract_id != contract.id:
        report.add(
            (*where, "contractId"),
            f"contractId {port.contract_id!r} must equal {port.address}'s contract id {contract.id!r}",
        )
    match = _MAJOR.match(port.version or "")
    if match is None:
        report.add(
            (*where, "version"), f"version {port.version!r} must name the upstream contract's major: 1.0.0"
        )
    elif contract.version and contract.major < int(match[1]):
        report.add(
            (*where, "version"),
            f"reads major {match[1]} of {port.address}, whose contract is at {contract.version}",
        )


def _sources(domains: Sequence[tuple[Domain, LineMap]], problems: list[Problem]) -> set[str]:
    owner: dict[str, str] = {}
    addresses: set[str] = set()
    for domain, lines in domains:
        report = Report(f"{domain.path}/domain.yaml", lines, problems)
        for index, system in enumerate(domain.source_systems):
            if system.name in owner and system.name:
                message = (
                    f"source system {system.name!r} is already declared by domain {owner[system.name]!r}"
                )
                report.add(("sourceSystems", index, "name"), message)
            owner.setdefault(system.name, domain.name)
            addresses.update(t.address for t in system.tables)
    return addresses


def _unique(entries: Sequence[Links], problems: list[Problem]) -> None:
    products: dict[str, str] = {}
    contracts: dict[str, str] = {}
    for entry in entries:
        product_id, contract = entry.product_id, entry.contract
        if product_id:
            if product_id in products:
                message = f"product id {product_id!r} is already used by {products[product_id]}"
                Report(entry.file, entry.lines, problems).add(("id",), message)
            products.setdefault(product_id, entry.address)
        if contract is not None and contract.id:
            if contract.id in contracts:
                message = (
                    f"contract id {contract.id!r} is already used by {contracts[contract.id]}'s contract"
                )
                Report(contract.path or entry.file, entry.contract_lines, problems).add(("id",), message)
            contracts.setdefault(contract.id, entry.address)


def _close(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean {match[0]!r}?)" if match else ""
