"""A transform reads only what its product declares, and a ``transform.py`` has the shape the build calls.

A SQL transform's tables must each be one of its input ports (``<domain>.<product>`` or
``source.<system>.<table>``): declaring an input is what puts it in the DAG and the lineage. A Python
transform must compile and define one public function ``transform`` whose parameters are its inputs, each
named by its address with ``_`` for ``.`` (``sales.orders`` → ``sales_orders``, ``source.pos.orders`` →
``source_pos_orders``), or that takes one ``inputs`` mapping; its optional ``INPUT_FORMAT`` is one of
``duckdb``, ``arrow``, ``polars``. The column lineage it declares (``tessera.lineage``) must name columns of
its contract and of its input ports. Every problem names the file and line.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from tessera.errors import Problem
from tessera.model.product import MeshSettings, Product
from tessera.spec.custom import DeclaredLineage, split_column
from tessera.spec.yaml_lines import LineMap, Report

__all__ = [
    "INPUTS_PARAMETER",
    "INPUT_FORMATS",
    "PYTHON_POLICIES",
    "InputFormat",
    "ParameterKind",
    "PythonPolicy",
    "parameter_name",
    "product_transform_problems",
    "python_forbidden",
    "python_forbidden_message",
    "signature_problems",
    "transform_problems",
    "unknown_domain_problems",
]

PythonPolicy = Literal["allow", "forbid"]
PYTHON_POLICIES: Final[tuple[PythonPolicy, ...]] = ("allow", "forbid")
InputFormat = Literal["duckdb", "arrow", "polars"]
INPUT_FORMATS: Final[tuple[InputFormat, ...]] = ("duckdb", "arrow", "polars")
#: The one parameter that receives every input as a mapping of address → frame.
INPUTS_PARAMETER: Final = "inputs"
#: ``inspect.Parameter.kind.name`` in lower case.
ParameterKind = Literal[
    "positional_only", "positional_or_keyword", "var_positional", "keyword_only", "var_keyword"
]


def parameter_name(address: str) -> str:
    """The parameter of ``transform`` that receives input ``address``: ``sales.orders`` → ``sales_orders``."""
    return address.replace(".", "_")


def signature_problems(parameters: Sequence[tuple[str, ParameterKind]], inputs: Sequence[str]) -> list[str]:
    """What is wrong with ``transform``'s parameters (name, kind) for a product with ``inputs``."""
    problems: list[str] = []
    for name, kind in parameters:
        if kind in ("var_positional", "var_keyword"):
            star = "*" if kind == "var_positional" else "**"
            problems.append(
                f"transform({star}{name}) is not supported: take each input by name, or one `inputs` mapping"
            )
        elif kind == "positional_only":
            problems.append(f"parameter {name!r} is positional-only: transform is called with keywords")
    if problems or [name for name, _ in parameters] == [INPUTS_PARAMETER]:
        return problems
    expected = {parameter_name(a): a for a in inputs}
    names = [name for name, _ in parameters]
    hint = ", ".join(expected) or "none"
    for name in names:
        if name not in expected:
            problems.append(
                f"parameter {name!r} is not an input; the inputs are passed as {hint} "
                "(the address with _ for .), or all at once as one `inputs` mapping"
            )
    for name, address in expected.items():
        if name not in names:
            problems.append(
                f"transform() has no parameter {name!r} for input {address}: add it, or take one `inputs` "
                "mapping (or remove the input port)"
            )
    return problems


def python_forbidden(settings: MeshSettings, domain: str) -> str | None:
    """The mesh.yaml key that forbids Python transforms in ``domain`` (the domain's own entry wins over the
    mesh-wide one), or None when they are allowed (the default)."""
    transforms = settings.transforms
    domains = transforms.get("domains")
    own = domains.get(domain) if isinstance(domains, Mapping) else None
    if isinstance(own, Mapping) and own.get("python") in PYTHON_POLICIES:
        return f"transforms.domains.{domain}.python" if own["python"] == "forbid" else None
    return "transforms.python" if transforms.get("python") == "forbid" else None


def python_forbidden_message(settings: MeshSettings, product: Product) -> str | None:
    """Why ``product``'s transform.py may not run (None when it may)."""
    key = python_forbidden(settings, product.domain)
    if key is None:
        return None
    return (
        f"Python transforms are forbidden in domain {product.domain} (mesh.yaml {key}: forbid): a "
        "transform.py is code that runs with the build's rights; write the transform as transform.sql"
    )


def unknown_domain_problems(doc: Any, lines: LineMap, domains: Iterable[str]) -> list[Problem]:
    """mesh.yaml ``transforms.domains`` entries that name no domain (a typo would silently allow)."""
    transforms = doc.get("transforms") if isinstance(doc, dict) else None
    entries = transforms.get("domains") if isinstance(transforms, dict) else None
    if not isinstance(entries, dict):
        return []
    known = sorted(domains)
    report = Report("mesh.yaml", lines)
    for name in entries:
        if name not in known:
            report.add(
                ("transforms", "domains", name), f"no domain {name!r} (domains: {', '.join(known) or 'none'})"
            )
    return report.problems


def transform_problems(products: Iterable[Product], *, settings: MeshSettings) -> list[Problem]:
    """Problems with the transforms of ``products``: SQL the transform guard refuses (it does not parse, is
    not one SELECT, reads what is not an input port or reads files); Python that mesh.yaml forbids, that does
    not compile or has no fitting ``transform``; declared lineage that names unknown columns or inputs."""
    chosen = list(products)
    by_address = {p.address: p for p in chosen}
    return [
        p for product in chosen for p in product_transform_problems(product, by_address, settings=settings)
    ]


def product_transform_problems(
    product: Product, products: Mapping[str, Product], *, settings: MeshSettings
) -> list[Problem]:
    """``transform_problems`` of one product, whose input ports are looked up in ``products`` (those absent
    are not checked): what it reads is the product, its inputs' contracts and mesh.yaml's ``transforms``."""
    problems: list[Problem] = []
    transform = product.transform
    if transform is not None and transform.kind == "sql":
        problems += _sql_problems(product)
    elif transform is not None:
        if (forbidden := python_forbidden_message(settings, product)) is not None:
            problems.append(Problem(transform.path, 1, "", forbidden))
        problems += _python_problems(product)
    problems += _lineage_problems(product, products)
    return problems


def _sql_problems(product: Product) -> list[Problem]:
    """The transform guard's refusals (:mod:`tessera.access.transform_guard`), each at its file:line."""
    from tessera.access.transform_guard import check_transform

    transform = product.transform
    assert transform is not None
    inputs = [p.address for p in product.input_ports]
    _, refusals = check_transform(transform.code, inputs, product.address)
    return [Problem(transform.path, r.line, r.token, r.message) for r in refusals]


def _python_problems(product: Product) -> list[Problem]:
    transform = product.transform
    assert transform is not None
    file = transform.path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are the runtime's to show
            tree = ast.parse(transform.code, filename=file)
            compile(tree, file, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return [Problem(file, exc.lineno, "", f"the Python does not compile: {exc.msg}")]
    except ValueError as exc:  # e.g. a NUL byte in the source
        return [Problem(file, None, "", f"the Python does not compile: {exc}")]
    problems: list[Problem] = []
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    bound_otherwise = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == "transform":
                found.append(node)
            elif not node.name.startswith("_"):
                problems.append(
                    Problem(
                        file,
                        node.lineno,
                        node.name,
                        f"a transform module has one public function, transform(); "
                        f"name this helper _{node.name}",
                    )
                )
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            bound_otherwise |= "transform" in names
            if "INPUT_FORMAT" in names:
                problems += _input_format_problems(file, node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound_otherwise |= any((a.asname or a.name) == "transform" for a in node.names)
    if not found:
        if not bound_otherwise:
            message = "defines no function transform(...): the build calls transform() with the inputs"
            problems.append(Problem(file, None, "transform", message))
        return problems
    for again in found[1:]:
        message = f"transform is defined again (first on line {found[0].lineno}); keep one"
        problems.append(Problem(file, again.lineno, "transform", message))
    function = found[-1]
    if isinstance(function, ast.AsyncFunctionDef):
        message = "transform must be a plain function, not async def"
        problems.append(Problem(file, function.lineno, "transform", message))
    inputs = [p.address for p in product.input_ports]
    params = _parameters(function.args)
    problems += [Problem(file, function.lineno, "transform", m) for m in signature_problems(params, inputs)]
    clashes = _clashes(inputs)
    if clashes and [n for n, _ in params] != [INPUTS_PARAMETER]:
        problems.append(Problem(file, function.lineno, "transform", clashes))
    return problems


def _clashes(inputs: Sequence[str]) -> str:
    seen: dict[str, str] = {}
    for address in inputs:
        name = parameter_name(address)
        if name in seen:
            return (
                f"inputs {seen[name]} and {address} would both be parameter {name!r}: "
                "take one `inputs` mapping instead"
            )
        seen[name] = address
    return ""


def _parameters(args: ast.arguments) -> list[tuple[str, ParameterKind]]:
    out: list[tuple[str, ParameterKind]] = [(a.arg, "positional_only") for a in args.posonlyargs]
    out += [(a.arg, "positional_or_keyword") for a in args.args]
    out += [(args.vararg.arg, "var_positional")] if args.vararg else []
    out += [(a.arg, "keyword_only") for a in args.kwonlyargs]
    out += [(args.kwarg.arg, "var_keyword")] if args.kwarg else []
    return out


def _input_format_problems(file: str, node: ast.Assign | ast.AnnAssign) -> list[Problem]:
    value = node.value
    if isinstance(value, ast.Constant) and value.value not in INPUT_FORMATS:
        allowed = ", ".join(repr(f) for f in INPUT_FORMATS)
        message = f"INPUT_FORMAT {value.value!r} is not one of {allowed}"
        return [Problem(file, node.lineno, "INPUT_FORMAT", message)]
    return []


def _lineage_problems(product: Product, products: Mapping[str, Product]) -> list[Problem]:
    entries: Sequence[DeclaredLineage] = product.custom.get("tessera.lineage", ())
    if not entries:
        return []
    file = f"{product.path or '.'}/product.odps.yaml"
    transform = product.transform
    if transform is None or transform.kind != "python":
        what = "a SQL transform, whose lineage is read from the SQL" if transform else "no transform"
        message = (
            f"tessera.lineage declares the column lineage of a transform.py; {product.address} has {what}"
        )
        return [Problem(file, entries[0].line, entries[0].key, message)]
    problems: list[Problem] = []
    contract = product.contract
    ports = {p.address for p in product.input_ports}
    for entry in entries:
        if entry.column is not None and contract.column(entry.column) is None:
            message = (
                f"column {entry.column!r} is not in the contract "
                f"(columns: {', '.join(contract.column_names)})"
            )
            problems.append(Problem(file, entry.line, f"{entry.key}.column", message))
        for number, source in enumerate(entry.sources):
            split = split_column(source)
            assert split is not None  # read_custom kept only sources that name a column
            address, column = split
            key, line = f"{entry.key}.from[{number}]", entry.source_lines[number]
            upstream = products.get(address)
            if address not in ports:
                message = (
                    f"{address!r} is not an input port of {product.address} "
                    f"(inputs: {', '.join(sorted(ports)) or 'none'})"
                )
                problems.append(Problem(file, line, key, message))
            elif upstream is not None and column != "*" and upstream.contract.column(column) is None:
                message = (
                    f"{address} has no column {column!r} "
                    f"(columns: {', '.join(upstream.contract.column_names)})"
                )
                problems.append(Problem(file, line, key, message))
    return problems
