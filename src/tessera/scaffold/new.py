"""``tessera new``: a domain, or a product with a contract inferred from data or from its inputs' contracts.

    new_domain(root, name, owner)                           domains/<name>/domain.yaml
    new_product(root, "d.p", source=FILE)                   product.odps.yaml + contract.odcs.yaml (inferred)
    new_product(root, "d.p", inputs=["d.q", "source.s.t"])  ... + transform.sql selecting the inputs' columns

What is written satisfies every built-in policy (an owner, snake_case names, a timeliness SLA, personal data
classified with a retention default), so ``tessera apply && tessera publish`` works on the first try; the
descriptions are ``TODO:`` placeholders that ``tessera validate`` lists until someone writes them. Nothing is
overwritten: a file that exists stops the command before anything is written, and a failure while writing
removes what was written.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tessera.errors import NotFoundError, SpecError, TesseraError
from tessera.interop.ready import todo_purpose

__all__ = ["new_domain", "new_product"]

_EMAIL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]*@[A-Za-z0-9.\-]+$")
_KEY = re.compile(r"(?:^|_)(?:id|key|code|number|no|uuid)$")
_PRODUCT_FILES = ("product.odps.yaml", "contract.odcs.yaml", "transform.sql", "transform.py")
_HEADER = "# Written by `tessera new`{what}. Replace each TODO; `tessera validate` lists those left.\n"


def _mesh_root(root: Path) -> Path:
    base = Path(root).expanduser().resolve()
    if not (base / "mesh.yaml").is_file():
        raise NotFoundError(
            f"{base} is not a Tessera mesh (no mesh.yaml): run `tessera new` inside a mesh, or create one "
            "with `tessera init`"
        )
    return base


def _name(name: str, what: str) -> str:
    from tessera.spec.names import name_problem

    problem = name_problem(name, what)
    if problem is not None:
        raise TesseraError(f"{problem}: nothing was written")
    return name


def _dump(doc: dict[str, Any], header: str) -> str:
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def _write_new(folder: Path, files: dict[str, str], *, dry_run: bool = False) -> list[Path]:
    """Write ``files`` into ``folder``, refusing before anything is written when one exists; on a failure,
    remove what this call created. ``dry_run``: only the refusal."""
    existing = [folder / n for n in files if (folder / n).exists()]
    if existing:
        raise TesseraError(
            f"{', '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}: "
            "`tessera new` does not overwrite files (nothing was written)"
        )
    if dry_run:
        return []
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = folder / name
            with path.open("x", encoding="utf-8") as out:
                written.append(path)
                out.write(text)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if missing:
            shutil.rmtree(missing[-1], ignore_errors=True)
        raise
    return written


# -- domains ---------------------------------------------------------------------------------------------------


def new_domain(root: Path, name: str, owner: str) -> list[Path]:
    """Write ``domains/<name>/domain.yaml`` owned by ``owner`` (an email address)."""
    base = _mesh_root(root)
    _name(name, "domain")
    if not _EMAIL.match(owner):
        raise TesseraError(f"--owner {owner!r} is not an email address (e.g. dana@company.com)")
    folder = base / "domains" / name
    if folder.exists() and (folder / "domain.yaml").exists():
        raise TesseraError(f"domain {name} exists ({folder / 'domain.yaml'}): nothing was written")
    doc = {
        "name": name,
        "description": f"TODO: describe the {name} domain: what it does and which data it owns",
        "owner": owner,
    }
    return _write_new(folder, {"domain.yaml": _dump(doc, _HEADER.format(what=""))})


# -- products --------------------------------------------------------------------------------------------------


def new_product(
    root: Path,
    address: str,
    *,
    source: str | None = None,
    fmt: str | None = None,
    dbt_model: str | None = None,
    inputs: Sequence[str] = (),
    owner: str | None = None,
    manifest: str | Path = "target/manifest.json",
) -> list[Path]:
    """Write a product: its contract inferred from the data file ``source`` (read as ``fmt``, default its
    suffix), or built from the contracts of ``inputs`` with a ``transform.sql`` that selects their columns."""
    base = _mesh_root(root)
    domain, product = _address(address)
    domain_doc = _domain_doc(base, domain)
    owner = owner or _text(domain_doc.get("owner"))
    if not owner or not _EMAIL.match(owner):
        raise TesseraError(f"give the product's owner with --owner EMAIL (the domain names {owner!r})")
    given = sum(x is not None for x in (source, dbt_model)) + bool(inputs)
    if given > 1:
        raise TesseraError("give one of --from FILE, --from-dbt MODEL or --input, not several")
    if given != 1:
        raise TesseraError(
            "say where the product's data comes from: --from FILE, --from-dbt MODEL or --input"
        )
    folder = base / "domains" / domain / "products" / product
    _write_new(folder, dict.fromkeys(_PRODUCT_FILES, ""), dry_run=True)  # refuse before reading any data
    table = product
    files: dict[str, str] = {}
    if dbt_model is not None:
        contract, ports, sql = _from_dbt(Path(manifest), dbt_model, domain, table)
        origin = f" from dbt model {dbt_model}"
        if sql is not None:
            files["transform.sql"] = sql
    elif source is not None:
        from tessera.interop.infer import refuse_mesh_data

        refuse_mesh_data(Path(source).expanduser(), (base,))  # also when run with -C from elsewhere
        contract = _from_data(source, fmt, table)
        origin = f" from {Path(source).name}"
        ports = []
    else:
        contract, ports, sql = _from_inputs(base, inputs, table)
        origin = f" from {', '.join(inputs)}"
        files["transform.sql"] = sql
    contract.update(id=f"{domain}-{product}", name=product, domain=domain)
    contract = _ordered(contract)
    files = {
        "product.odps.yaml": _dump(
            _product_doc(domain, product, owner, ports, contract), _HEADER.format(what=origin)
        ),
        "contract.odcs.yaml": _dump(contract, _HEADER.format(what=origin)),
        **files,
    }
    return _write_new(folder, files)


def _from_dbt(
    manifest: Path, model: str, domain: str, table: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """The contract of one dbt model (columns, tests as rules, an enforced dbt contract), its ``ref()`` and
    ``source()`` edges as input ports, and its compiled SQL when that is plain SQL (else no transform: the
    product is published with ``tessera publish --from``)."""
    from tessera.interop import import_source
    from tessera.interop.model import ImportOptions

    if not manifest.is_file():
        raise NotFoundError(
            f"no dbt manifest at {manifest}: run `dbt parse` in the dbt project, or give --manifest FILE"
        )
    found = import_source("dbt", str(manifest), ImportOptions(model=model, domain=domain))[0]
    from tessera.interop.ready import ready_for_mesh

    contract = ready_for_mesh({**found.contract, "schema": [{**found.contract["schema"][0], "name": table}]})
    ports = [
        {"name": address, "version": "1.0.0", "contractId": address.replace(".", "-")}
        for address in found.inputs
    ]
    return contract, ports, found.transform


def _address(address: str) -> tuple[str, str]:
    parts = address.split(".")
    if len(parts) != 2:
        raise TesseraError(f"{address!r} is not a product address DOMAIN.NAME (e.g. logistics.shipments)")
    return _name(parts[0], "domain"), _name(parts[1], "product")


def _domain_doc(base: Path, domain: str) -> dict[str, Any]:
    path = base / "domains" / domain / "domain.yaml"
    if not path.is_file():
        raise NotFoundError(
            f"no domain {domain} in this mesh ({path} is missing): "
            f"create it first with `tessera new domain {domain} --owner EMAIL`"
        )
    from tessera.spec.yaml_lines import read_yaml

    doc, _, problems = read_yaml(path, str(path))
    if problems:
        raise SpecError(problems)
    return doc if isinstance(doc, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _ordered(contract: dict[str, Any]) -> dict[str, Any]:
    head = ("apiVersion", "kind", "id", "name", "version", "status", "domain")
    return {**{k: contract[k] for k in head if k in contract}, **contract}


def _product_doc(
    domain: str, product: str, owner: str, ports: list[dict[str, Any]], contract: dict[str, Any]
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": f"{domain}.{product}",
        "name": product,
        "domain": domain,
        "version": "1.0.0",
        "status": "draft",
        "description": {"purpose": todo_purpose(product)},
    }
    if contract.get("tags"):
        doc["tags"] = list(contract["tags"])
    if ports:
        doc["inputPorts"] = ports
    doc["outputPorts"] = [
        {"name": product, "type": "tables", "version": contract["version"], "contractId": contract["id"]}
    ]
    doc["team"] = {"members": [{"username": owner, "role": "product owner"}]}
    return doc


def _from_data(source: str, fmt: str | None, table: str) -> dict[str, Any]:
    from tessera.interop.infer import infer_contract

    kind = fmt or _format_of(source)
    contract = infer_contract(source, kind, name=table)
    bad = [p["name"] for p in contract["schema"][0]["properties"] if not _snake(p["name"].lower())]
    if bad:
        raise TesseraError(
            f"{source}: column names that are not snake_case ([a-z][a-z0-9_]*): {', '.join(bad)}; rename them "
            "in the data, or publish it through a transform (--input) that renames them (nothing was written)"
        )
    for prop in contract["schema"][0]["properties"]:
        prop["name"] = prop["name"].lower()  # publish matches the data's columns regardless of case
    return contract


def _format_of(source: str) -> str:
    path = Path(source)
    if (path / "_delta_log").is_dir():
        return "delta"
    suffix = path.suffix.lower().lstrip(".")
    kind = {"pq": "parquet", "jsonl": "json", "ndjson": "json", "tsv": "csv"}.get(suffix, suffix)
    if kind not in {"parquet", "csv", "json"}:
        raise TesseraError(
            f"{source}: cannot tell its format from the name; add --format parquet|csv|json|delta"
        )
    return kind


def _snake(name: str) -> bool:
    return re.match(r"^[a-z][a-z0-9_]*$", name) is not None


# -- from input ports ------------------------------------------------------------------------------------------


def _from_inputs(
    base: Path, inputs: Sequence[str], table: str
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """The contract (the inputs' columns as their contracts declare them), the input ports and the SQL stub."""
    from tessera.spec import load_mesh

    spec = load_mesh(base)
    found = [_input(spec, base, address) for address in dict.fromkeys(inputs)]
    single = len(found) == 1
    columns: list[dict[str, Any]] = []
    select: list[str] = []
    joins: list[str] = []
    taken: set[str] = set()
    for index, (address, props, _) in enumerate(found):
        alias = f"i{index + 1}"
        if index:
            keys = [p["name"] for p in props if p["name"] in taken and _KEY.search(p["name"])]
            if not keys:
                raise TesseraError(
                    f"{address} shares no key column (*_id, *_key, *_code) with the inputs before it: "
                    "write the join in transform.sql yourself, or start from one input (nothing was written)"
                )
            joins.append(f"JOIN {address} AS {alias} USING ({', '.join(keys)})")
        for prop in props:
            if prop["name"] in taken:
                continue
            taken.add(prop["name"])
            select.append(prop["name"] if single or _KEY.search(prop["name"]) else f"{alias}.{prop['name']}")
            columns.append(prop if single else _joined(prop))
    personal = any(c.get("classification") for c in columns)
    contract: dict[str, Any] = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "version": "1.0.0",
        "status": "draft",
        "description": {"purpose": todo_purpose(table)},
        "schema": [
            {
                "name": table,
                "physicalType": "table",
                "quality": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
                "properties": columns,
            }
        ],
        "slaProperties": _sla_from(found, table, columns, personal),
    }
    if personal:
        contract["tags"] = ["pii"]
    first = found[0][0]
    sql = (
        f"-- TODO: describe what this transform does. Written by `tessera new` from {', '.join(inputs)}.\n"
        "SELECT\n    " + ",\n    ".join(select) + f"\nFROM {first}" + ("" if single else " AS i1") + "\n"
    )
    sql += "".join(f"{j}\n" for j in joins)
    ports = [_port(address, doc) for address, _, doc in found]
    return contract, ports, sql


def _joined(prop: dict[str, Any]) -> dict[str, Any]:
    """A column taken into a join: rows may repeat, so keys and duplicate rules of one input do not carry."""
    out = {k: v for k, v in prop.items() if k not in {"unique", "primaryKey", "primaryKeyPosition"}}
    quality = [q for q in out.get("quality", []) if q.get("metric") != "duplicateValues"]
    if quality:
        out["quality"] = quality
    else:
        out.pop("quality", None)
    return out


def _input(spec: Any, base: Path, address: str) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(address, its columns as ODCS properties, its contract document)."""
    if address.startswith("source."):
        table = next(
            (t for d in spec.domains for s in d.source_systems for t in s.tables if t.address == address),
            None,
        )
        if table is None:
            raise NotFoundError(f"--input {address}: no such source table in any domain.yaml")
        from tessera.interop.infer import infer_contract

        doc = infer_contract(table.uri, table.format, name=table.name)
        return address, _plain(doc["schema"][0]["properties"]), {}
    product = spec.product(address)
    if product is None:
        raise NotFoundError(
            f"--input {address}: no such product in this mesh (DOMAIN.NAME or source.SYSTEM.TABLE)"
        )
    from tessera.spec.yaml_lines import read_yaml

    path = base / "domains" / product.domain / "products" / product.name / "contract.odcs.yaml"
    doc, _, _ = read_yaml(path, str(path))
    schema = doc.get("schema") if isinstance(doc, dict) else None
    props = schema[0].get("properties", []) if isinstance(schema, list) and schema else []
    return address, [dict(p) for p in props if isinstance(p, dict) and isinstance(p.get("name"), str)], doc


def _plain(props: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A source's inferred columns without the suggestions drawn from one file (its data is not ours)."""
    return [{k: v for k, v in p.items() if k != "quality"} for p in props]


def _port(address: str, doc: dict[str, Any]) -> dict[str, Any]:
    if address.startswith("source."):
        return {"name": address, "version": "1.0.0", "contractId": address}
    return {"name": address, "version": str(doc.get("version", "1.0.0")), "contractId": str(doc.get("id"))}


def _sla_from(
    found: list[tuple[str, list[dict[str, Any]], dict[str, Any]]],
    table: str,
    columns: list[dict[str, Any]],
    personal: bool,
) -> list[dict[str, Any]]:
    """A daily frequency, and for personal data a retention on a time column: the inputs' own when theirs
    counts from a column this product keeps, else the default on its first time column."""
    from tessera.interop.ready import default_sla

    sla: list[dict[str, Any]] = [{"property": "frequency", "value": 1, "unit": "d"}]
    if not personal:
        return sla
    names = {c["name"] for c in columns}
    for _, _, doc in found:
        for item in doc.get("slaProperties") or []:
            element = str(item.get("element") or "")
            if item.get("property") == "retention" and element.rsplit(".", 1)[-1] in names:
                sla.append({**item, "element": f"{table}.{element.rsplit('.', 1)[-1]}"})
                return sla
    return default_sla(table, columns, personal)
