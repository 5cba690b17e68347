"""ODPS v1 products: validate ``product.odps.yaml`` against the standard's schema, then read a ``Product``.

Tessera's rules on top of the standard: ``name`` and ``domain`` equal their folders, a ``version``, a role for
each team member (free text, as ODPS says: common spellings map to Tessera's roles, others are kept as
information), an output port that names this product's contract (its id, and its version or major), valid
``tessera.*`` properties, and a schedule Tessera can run. Input ports are resolved later, across the mesh.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, cast

from tessera.errors import Problem
from tessera.model.contract import Contract
from tessera.model.product import ROLES, InputPort, Member, Product, Transform, WriteMode, tessera_role
from tessera.spec.contract import STATUSES
from tessera.spec.custom import read_custom
from tessera.spec.names import name_problem
from tessera.spec.schemas import schema_errors
from tessera.spec.yaml_lines import LineMap, Report

__all__ = ["check_product", "input_ports", "odps_problems"]


def odps_problems(doc: Any, path: str, lines: LineMap | None = None) -> list[Problem]:
    """What the ODPS v1 standard says is wrong with ``doc``, one problem per error."""
    report = Report(path, lines)
    if not isinstance(doc, dict):
        report.add((), "a data product must be a YAML mapping (apiVersion, kind, id, status, ...)")
        return report.problems
    for key, message in schema_errors("odps", doc):
        report.add(key, message)
    return report.problems


def input_ports(doc: Any) -> list[tuple[int, InputPort]]:
    """The well-formed ``inputPorts`` of an ODPS document, with their index in the list."""
    ports = doc.get("inputPorts") if isinstance(doc, dict) else None
    out: list[tuple[int, InputPort]] = []
    for index, port in enumerate(ports if isinstance(ports, list) else ()):
        if isinstance(port, dict) and isinstance(port.get("name"), str):
            version, contract_id = port.get("version"), port.get("contractId")
            out.append(
                (
                    index,
                    InputPort(
                        address=port["name"],
                        version=version if isinstance(version, str) else None,
                        contract_id=contract_id if isinstance(contract_id, str) else None,
                    ),
                )
            )
    return out


def check_product(
    doc: Any,
    *,
    file: str,
    lines: LineMap,
    domain: str,
    folder: str,
    contract: Contract | None,
    transform: Transform | None = None,
) -> tuple[Product | None, list[Problem]]:
    """Validate one product.odps.yaml in ``domains/<domain>/products/<folder>/`` and read it with its contract
    (``None`` when the contract could not be read). Problems are returned, never raised."""
    report = Report(file, lines, odps_problems(doc, file, lines))
    if not isinstance(doc, dict):
        return None, report.problems
    for key, folder_name in (("name", folder), ("domain", domain)):
        value = doc.get(key)
        if value is None:
            report.add((key,), f"missing required key {key!r} (Tessera needs it: it equals the folder name)")
        elif isinstance(value, str) and value != folder_name:
            report.add((key,), f"{key} {value!r} must equal the folder name {folder_name!r}")
    if (problem := name_problem(folder, "product")) is not None:
        report.add(("name",), problem)
    if not isinstance(doc.get("version"), str):
        report.add(("version",), "missing required key 'version' (the product's own version, e.g. 1.0.0)")
    status = doc.get("status")
    if isinstance(status, str) and status not in STATUSES:
        report.add(("status",), f"status {status!r} is not one of {', '.join(STATUSES)}")
    members = _members(doc, report)
    custom = read_custom(doc.get("customProperties"), ("customProperties",), "product", report)
    _check_frequency(doc, custom.get("tessera.updateFrequency"), report)
    if contract is not None:
        _check_output(doc, contract, report)
        if custom.get("tessera.writeMode") == "merge" and not contract.primary_key:
            report.add(
                ("customProperties",), "writeMode merge upserts on the primary key; the contract has none"
            )
    if contract is None:
        return None, report.problems
    team = doc["team"] if isinstance(doc.get("team"), dict) else {}
    description = doc.get("description")
    consumers = custom.get("tessera.consumers")
    product = Product(
        domain=domain,
        name=folder,
        id=_text(doc.get("id")),
        version=_text(doc.get("version")),
        status=_text(doc.get("status")),
        contract=contract,
        description=description.get("purpose") if isinstance(description, dict) else None,
        tags=tuple(t for t in _list(doc.get("tags")) if isinstance(t, str)),
        input_ports=_with_expectations(doc, report),
        members=members,
        team=team.get("name") if isinstance(team.get("name"), str) else None,
        write_mode=cast(WriteMode, custom.get("tessera.writeMode", "overwrite")),
        update_frequency=custom.get("tessera.updateFrequency"),
        consumers=tuple(consumers) if isinstance(consumers, list) else (),
        custom=custom,
        document=doc,
        transform=transform,
        path=str(PurePosixPath(file).parent),
    )
    return product, report.problems


def _with_expectations(doc: dict[str, Any], report: Report) -> tuple[InputPort, ...]:
    """The input ports, each with what the product expects of it (``tessera.expectations``, an ODCS
    fragment; spec/expectations.py)."""
    from dataclasses import replace

    from tessera.spec.expectations import read_expectations

    out: list[InputPort] = []
    for index, port in input_ports(doc):
        base = ("inputPorts", index, "customProperties")
        items = doc["inputPorts"][index].get("customProperties")
        custom = read_custom(items, base, "input", report)
        if "tessera.expectations" not in custom:
            out.append(port)
            continue
        at = next(
            i
            for i, p in enumerate(items)
            if isinstance(p, dict) and p.get("property") == "tessera.expectations"
        )
        if port.is_source:
            report.add((*base, at, "property"), "expectations are of products: Tessera publishes no source")
            out.append(port)
            continue
        found = read_expectations(custom["tessera.expectations"], (*base, at, "value"), report)
        out.append(replace(port, expectations=found))
    return tuple(out)


def _members(doc: dict[str, Any], report: Report) -> tuple[Member, ...]:
    team = doc.get("team")
    items = team.get("members") if isinstance(team, dict) else None
    out: list[Member] = []
    for index, item in enumerate(_list(items)):
        if not isinstance(item, dict) or not isinstance(item.get("username"), str):
            continue
        role = item.get("role")
        if not isinstance(role, str) or not role.strip():
            where = ("team", "members", index, "role" if "role" in item else "username")
            report.add(where, f"missing role; Tessera's roles are: {', '.join(ROLES)}")
            continue
        mapped = tessera_role(role)  # ODPS roles are free text: known spellings grant a Tessera role
        out.append(
            Member(
                username=item["username"],
                role=mapped or role.strip(),
                name=_text(item.get("name")) or None,
                declared_role=role,
            )
        )
    return tuple(out)


def _check_output(doc: dict[str, Any], contract: Contract, report: Report) -> None:
    """The first output port names the contract: ``contractId`` equal to its id. Its ``version`` (which ODPS
    requires) may be the contract's, or its major alone (``"2"``, ``v2``), so a minor or patch release edits
    one file; another version of that major is a warning (the contract's is used), another major an error."""
    ports = doc.get("outputPorts")
    port = ports[0] if isinstance(ports, list) and ports else None
    if not isinstance(port, dict):
        report.add(("outputPorts",), "needs an output port naming its contract (contractId)")
        return
    value = port.get("contractId")
    if "contractId" not in port:
        report.add(("outputPorts", 0), f"missing contractId: the contract's id {contract.id!r}")
    elif value != contract.id:
        message = f"contractId {value!r} must equal the contract's id {contract.id!r} (contract.odcs.yaml)"
        report.add(("outputPorts", 0, "contractId"), message)
    version = port.get("version")
    if not isinstance(version, str) or version in (contract.version, f"v{contract.version}"):
        return
    if version.strip().removeprefix("v") == str(contract.major):
        return
    where = ("outputPorts", 0, "version")
    if _major(version) != _major(contract.version):
        report.add(
            where,
            f"version {version!r} is not of the contract's major version {contract.version!r} "
            "(contract.odcs.yaml): give the contract's version, or leave the port's version out",
        )
    else:
        report.warn(
            where,
            f"version {version!r} differs from the contract's {contract.version!r}: the contract's is used "
            f"(write the major alone, {str(contract.major)!r}, to follow it)",
        )


def _major(version: str) -> str:
    return version.strip().removeprefix("v").split(".", 1)[0]


def _check_frequency(doc: dict[str, Any], value: Any, report: Report) -> None:
    if not isinstance(value, str):
        return
    from tessera.errors import TesseraError
    from tessera.scheduling.cron import parse_schedule

    try:
        parse_schedule(value)
        return
    except TesseraError as exc:
        problem = str(exc)
    items = _list(doc.get("customProperties"))
    index = next(
        i
        for i, p in enumerate(items)
        if isinstance(p, dict) and p.get("property") == "tessera.updateFrequency"
    )
    report.add(
        ("customProperties", index, "value"),
        problem,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
