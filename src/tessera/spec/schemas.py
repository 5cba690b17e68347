"""The JSON Schemas Tessera validates against, compiled once per process, and their errors made readable.

``odcs`` is the schema bundled in the ``open-data-contract-standard`` package; ``odps`` is the ODPS v1.0.0
schema (Apache-2.0, Bitol project) copied into ``schemas/``; ``mesh``, ``domain`` and ``tessera-*`` are
Tessera's own (draft 2019-09, no unknown keys anywhere).

``schema_errors`` turns jsonschema's errors into ``(key path, message)`` pairs that name the real offending
key: ``oneOf``/``anyOf`` failures descend to the branch that matters, an unknown key is reported at the key
itself (with a close match when there is one), and ``unevaluatedProperties`` complaints that only echo a
failure elsewhere in the same object are dropped.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from tessera.spec.fastcheck import Check, Unsupported, compile_check
from tessera.spec.yaml_lines import KeyPath

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = ["SCHEMA_FILES", "fast_check", "load_schema", "schema_errors", "validator"]

SCHEMA_FILES: dict[str, tuple[str, str]] = {
    "odcs": ("open_data_contract_standard", "schema.json"),
    "odps": ("tessera.spec", "schemas/odps-v1.0.0.json"),
    "mesh": ("tessera.spec", "schemas/mesh.json"),
    "domain": ("tessera.spec", "schemas/domain.json"),
    "tessera-product": ("tessera.spec", "schemas/tessera-product.json"),
    "tessera-contract": ("tessera.spec", "schemas/tessera-contract.json"),
    "tessera-column": ("tessera.spec", "schemas/tessera-column.json"),
    "tessera-input": ("tessera.spec", "schemas/tessera-input.json"),
}
_UNEXPECTED = re.compile(r"\((.*) (?:was|were) unexpected\)")
_GOT: dict[type, str] = {dict: "a mapping", list: "a list"}
_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer"}


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    package, resource = SCHEMA_FILES[name]
    schema: dict[str, Any] = json.loads(files(package).joinpath(resource).read_text(encoding="utf-8"))
    if name == "odcs":
        _only_when_typed(schema)
    return schema


def _only_when_typed(node: Any) -> None:
    """Make the ODCS schema's ``if logicalType == X`` conditionals apply only when ``logicalType`` is given.

    ODCS requires only a property's ``name``; ``logicalType`` is optional. But the bundled 3.2.0 JSON Schema
    writes its per-type rules as ``if: {properties: {logicalType: {const: map}}}``, which holds vacuously when
    the key is absent, so a property without ``logicalType`` would have to satisfy every type's rules at once
    (``map`` required, each type's closed ``logicalTypeOptions``). The standard's intent is that these rules
    belong to properties of that type: each such ``if`` also requires ``logicalType``."""
    if isinstance(node, list):
        for item in node:
            _only_when_typed(item)
        return
    if not isinstance(node, dict):
        return
    condition = node.get("if")
    if isinstance(condition, dict) and "logicalType" in json.dumps(condition):
        condition["required"] = sorted({*condition.get("required", ()), "logicalType"})
    for value in node.values():
        _only_when_typed(value)


@functools.cache
def validator(name: str) -> Any:
    """The compiled Draft 2019-09 validator for one named schema (cached for the process). jsonschema is
    imported here, on first need: valid documents pass the fast check and never need it."""
    from jsonschema import Draft201909Validator

    return Draft201909Validator(load_schema(name))


@functools.cache
def fast_check(name: str) -> Check | None:
    """The fast yes/no check of one named schema, or None when it uses keywords the fast check lacks."""
    try:
        return compile_check(load_schema(name))
    except Unsupported:
        return None


def schema_errors(name: str, instance: Any) -> list[tuple[KeyPath, str]]:
    """Every error of ``instance`` against the named schema, as ``(key path, message)``, in document order."""
    fast = fast_check(name)
    if fast is not None and fast(instance) is not None:
        return []
    check = validator(name)
    raw = list(check.iter_errors(instance))
    if not raw:
        return []
    hard: list[tuple[KeyPath, str]] = []
    weak: list[tuple[KeyPath, str, KeyPath]] = []
    for error in raw:
        for path, message, unless_under in _explain(error, check.schema):
            if unless_under is None:
                hard.append((path, message))
            else:
                weak.append((path, message, unless_under))
    real_paths = {path for path, _ in hard}
    for path, message, scope in weak:
        if not any(p[: len(scope)] == scope for p in real_paths):
            hard.append((path, message))
    return list(dict.fromkeys(hard))


def _explain(error: ValidationError, root: dict[str, Any]) -> Iterator[tuple[KeyPath, str, KeyPath | None]]:
    """Yield ``(path, message, scope)``: a message with a scope is an echo, dropped when another error lies
    at or under that scope (``unevaluatedProperties`` after a failed branch, an ambiguous ``oneOf``)."""
    path: KeyPath = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if kind in ("oneOf", "anyOf") and error.context:
        yield from _explain_branches(error, path, root)
    elif kind in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        known = _known_names(error.schema, root)
        listed = set(_listed_keys(error.message))
        for key in instance:
            if key not in known:
                yield (*path, key), _unknown(key, known), None
            elif key in listed:
                yield (*path, key), f"key {key!r} is not allowed here", path
    elif kind == "required" and isinstance(instance, dict):
        for name in value:
            if name not in instance:
                yield (*path, name), f"missing required key {name!r}", None
    elif kind == "enum":
        allowed = ", ".join(str(v) for v in value)
        hint = _close(instance, [str(v) for v in value]) if isinstance(instance, str) else ""
        yield path, f"{instance!r} is not allowed; expected one of: {allowed}{hint}", None
    elif kind == "const":
        yield path, f"{instance!r} is not allowed; expected {value!r}", None
    elif kind == "type":
        yield path, _type_message(value, instance), None
    elif kind == "oneOf" and isinstance(instance, dict):
        present = sorted({n for s in value for n in s.get("required", ()) if n in instance})
        if len(present) > 1:
            yield path, f"give only one of: {', '.join(present)}", None
        else:
            yield path, "matches more than one of the forms the standard allows; make it unambiguous", path
    elif kind == "not" and isinstance(value, dict) and "required" in value:
        for name in value["required"]:
            yield (*path, name), f"key {name!r} is not allowed here", None
    elif kind == "minItems":
        yield path, f"needs at least {value} item{'s' if value != 1 else ''}, has {len(instance)}", None
    elif kind == "maxItems":
        yield path, f"allows at most {value} item{'s' if value != 1 else ''}, has {len(instance)}", None
    elif kind == "uniqueItems":
        yield path, "has duplicate items; each must be different", None
    else:
        yield path, _short(error.message), None


def _explain_branches(
    error: ValidationError, path: KeyPath, root: dict[str, Any]
) -> Iterator[tuple[KeyPath, str, KeyPath | None]]:
    """A failed ``oneOf``/``anyOf``: explain the branch the instance came closest to (the deepest errors,
    and of the right type), or say what every branch wanted when none got anywhere."""
    context = error.context or []
    if all(c.validator == "required" and not c.relative_path for c in context):
        wanted = sorted({n for c in context for n in c.validator_value if n not in error.instance})
        yield path, f"needs one of: {', '.join(wanted)}", None
        return
    if all(c.validator == "type" and not c.relative_path for c in context):
        names = [
            t
            for c in context
            for t in ([c.validator_value] if isinstance(c.validator_value, str) else c.validator_value)
        ]
        yield path, _type_message(list(dict.fromkeys(names)), error.instance), None
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def progress(errors: list[ValidationError]) -> tuple[int, bool]:
        depth = max(len(e.relative_path) for e in errors)
        return depth, not any(e.validator == "type" and not e.relative_path for e in errors)

    closest = max(branches.values(), key=progress)
    if progress(closest) == (0, False):
        yield path, _short(error.message), None
        return
    for sub in closest:
        yield from _explain(sub, root)


def _listed_keys(message: str) -> Iterable[str]:
    match = _UNEXPECTED.search(message)
    if not match:
        return ()
    return [k.strip().strip("'\"") for k in match[1].split(", ")]


def _unknown(key: str, known: Iterable[str]) -> str:
    return f"unknown key {key!r}{_close(key, known)}"


def _close(word: str, choices: Iterable[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _type_message(expected: str | list[str], instance: Any) -> str:
    wanted = [expected] if isinstance(expected, str) else list(expected)
    names = " or ".join(_TYPE_NAMES.get(t, f"a {t}") for t in wanted)
    kind: type = type(instance)
    got = _GOT.get(kind, "")
    if not got:
        noun = {str: "text", bool: "boolean"}.get(kind, kind.__name__)
        got = "nothing (null)" if instance is None else _short(f"{noun} {instance!r}", 80)
    hint = " (put it in quotes)" if "string" in wanted and isinstance(instance, int | float | bool) else ""
    return f"expected {names}, got {got}{hint}"


def _short(message: str, limit: int = 240) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _known_names(schema: Any, root: dict[str, Any]) -> frozenset[str]:
    """Every property name any branch of ``schema`` could evaluate, following ``$ref`` and conditionals.

    Cached by identity: schema fragments come from ``load_schema``'s cache and live for the process."""
    cached = _KNOWN.get(id(schema))
    if cached is not None:
        return cached
    names: set[str] = set()
    seen: set[int] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        names.update(node.get("properties", {}))
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            stack.append(_resolve(root, ref))
        for keyword in ("allOf", "anyOf", "oneOf"):
            stack.extend(node.get(keyword, ()))
        stack.extend(node[k] for k in ("if", "then", "else") if k in node)
        stack.extend(node.get("dependentSchemas", {}).values())
    _KNOWN[id(schema)] = result = frozenset(names)
    return result


_KNOWN: dict[int, frozenset[str]] = {}


def _resolve(root: dict[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node
