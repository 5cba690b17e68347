"""A fast yes/no JSON Schema (draft 2019-09) check, so valid documents skip jsonschema's slow path.

``jsonschema`` needs ~12 ms for a 10-column ODCS contract (``unevaluatedProperties`` re-validates every
``if``/``then`` branch to learn which keys were evaluated). This compiles a schema once into closures that
return the set of property names evaluated at the instance (``None`` when invalid), which is what
``unevaluatedProperties`` needs, in one pass. It is used only to say "valid": on ``None`` the caller runs
jsonschema for the errors, so a mistake here can cost time but never invent an error. It refuses (raises
``Unsupported``) schemas with keywords it does not implement, and those always take jsonschema's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "Unsupported", "compile_check"]

#: instance → property names evaluated at it (empty for non-objects), or None when invalid
Check = Callable[[Any], frozenset[str] | set[str] | None]

_NONE: frozenset[str] = frozenset()
_IGNORED = frozenset(
    {"$schema", "$id", "$comment", "$defs", "$anchor", "definitions", "title", "description", "default"}
    | {"examples", "deprecated", "readOnly", "writeOnly", "format", "contentMediaType", "contentEncoding"}
)

# bool is no JSON string, object or array, so plain isinstance is exact for these
_PYTHON_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool}
#: keywords compiled together with another one (if/then/else, the additional/pattern pair, unevaluated last)
_ELSEWHERE = frozenset({"then", "else", "patternProperties", "additionalProperties", "unevaluatedProperties"})


class Unsupported(Exception):
    """The schema uses a keyword this checker does not implement."""


def compile_check(root: dict[str, Any]) -> Check:
    """Compile ``root`` (local ``$ref`` only) into a ``Check``; raises ``Unsupported``."""
    return _Compiler(root).compile(root)


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return name == "number" and isinstance(value, int | float)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | dict) or isinstance(b, list | dict):
        return False
    return bool(a == b)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.done: dict[int, Check] = {}

    def compile(self, schema: Any) -> Check:
        key = id(schema)
        if key in self.done:
            return self.done[key]
        slot: list[Check] = []

        def forward(value: Any) -> frozenset[str] | set[str] | None:
            return slot[0](value)

        self.done[key] = forward  # stands in while a recursive schema compiles
        built = self._build(schema)
        slot.append(built)
        self.done[key] = built
        return built

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#"):
            raise Unsupported(f"$ref {ref}")
        node: Any = self.root
        for part in filter(None, ref[1:].split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return self.compile(node)

    def _build(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return lambda value: _NONE
        if schema is False:
            return lambda value: None
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks: list[Check] = []
        for keyword, arg in schema.items():
            if keyword in _IGNORED or keyword in _ELSEWHERE:
                continue
            make = getattr(self, "k_" + keyword.lstrip("$"), None)
            if make is None:
                raise Unsupported(keyword)
            checks.append(make(arg, schema))
        if "additionalProperties" in schema or "patternProperties" in schema:
            checks.append(self._additional(schema))
        unevaluated = schema.get("unevaluatedProperties")
        rest = self.compile(unevaluated) if unevaluated is not None else None

        if rest is None and len(checks) == 1:
            return checks[0]

        def check(value: Any) -> frozenset[str] | set[str] | None:
            seen: set[str] | None = None
            for one in checks:
                found = one(value)
                if found is None:
                    return None
                if found:
                    seen = set(found) if seen is None else seen | found
            if rest is not None and isinstance(value, dict):
                for name in value:
                    if (seen is None or name not in seen) and rest(value[name]) is None:
                        return None
                return set(value)
            return _NONE if seen is None else seen

        return check

    # --- keywords: each returns a Check ---------------------------------------------------------------
    def k_ref(self, arg: str, _: dict[str, Any]) -> Check:
        return self.ref(arg)

    def k_type(self, arg: str | list[str], _: dict[str, Any]) -> Check:
        names = [arg] if isinstance(arg, str) else list(arg)
        if len(names) == 1 and names[0] in _PYTHON_TYPES:
            kind = _PYTHON_TYPES[names[0]]
            return lambda value: _NONE if isinstance(value, kind) else None
        return lambda value: _NONE if any(_is_type(value, n) for n in names) else None

    def k_enum(self, arg: list[Any], _: dict[str, Any]) -> Check:
        texts = frozenset(x for x in arg if isinstance(x, str))

        def check(value: Any) -> frozenset[str] | set[str] | None:
            if isinstance(value, str):
                return _NONE if value in texts else None
            return _NONE if any(_same(value, x) for x in arg) else None

        return check

    def k_const(self, arg: Any, _: dict[str, Any]) -> Check:
        if isinstance(arg, str):
            return lambda value: _NONE if isinstance(value, str) and value == arg else None
        return lambda value: _NONE if _same(value, arg) else None

    def k_properties(self, arg: dict[str, Any], _: dict[str, Any]) -> Check:
        subs = {name: self.compile(sub) for name, sub in arg.items()}

        def check(value: Any) -> frozenset[str] | set[str] | None:
            if not isinstance(value, dict):
                return _NONE
            seen: set[str] = set()
            if len(subs) < len(value):
                for name, sub in subs.items():
                    if name in value:
                        if sub(value[name]) is None:
                            return None
                        seen.add(name)
                return seen
            for name, item in value.items():
                known = subs.get(name)
                if known is not None:
                    if known(item) is None:
                        return None
                    seen.add(name)
            return seen

        return check

    def _additional(self, schema: dict[str, Any]) -> Check:
        named = set(schema.get("properties", {}))
        patterns = [(re.compile(p), self.compile(s)) for p, s in schema.get("patternProperties", {}).items()]
        extra = self.compile(schema["additionalProperties"]) if "additionalProperties" in schema else None

        def check(value: Any) -> frozenset[str] | set[str] | None:
            if not isinstance(value, dict):
                return _NONE
            seen: set[str] = set()
            for name, item in value.items():
                matched = False
                for pattern, sub in patterns:
                    if pattern.search(name):
                        matched = True
                        if sub(item) is None:
                            return None
                if matched:
                    seen.add(name)
                elif name not in named and extra is not None:
                    if extra(item) is None:
                        return None
                    seen.add(name)
            return seen

        return check

    def k_required(self, arg: list[str], _: dict[str, Any]) -> Check:
        return lambda value: None if isinstance(value, dict) and any(n not in value for n in arg) else _NONE

    def k_items(self, arg: Any, schema: dict[str, Any]) -> Check:
        if isinstance(arg, list):
            raise Unsupported("items as a list")
        sub = self.compile(arg)

        def check(value: Any) -> frozenset[str] | set[str] | None:
            if isinstance(value, list) and any(sub(item) is None for item in value):
                return None
            return _NONE

        return check

    def k_allOf(self, arg: list[Any], _: dict[str, Any]) -> Check:
        subs = [self.compile(s) for s in arg]

        def check(value: Any) -> frozenset[str] | set[str] | None:
            seen: set[str] = set()
            for sub in subs:
                found = sub(value)
                if found is None:
                    return None
                seen.update(found)
            return seen

        return check

    def k_anyOf(self, arg: list[Any], _: dict[str, Any]) -> Check:
        subs = [self.compile(s) for s in arg]

        def check(value: Any) -> frozenset[str] | set[str] | None:
            results = [sub(value) for sub in subs]
            passed = [r for r in results if r is not None]
            return set().union(*passed) if passed else None

        return check

    def k_oneOf(self, arg: list[Any], _: dict[str, Any]) -> Check:
        subs = [self.compile(s) for s in arg]

        def check(value: Any) -> frozenset[str] | set[str] | None:
            passed = [r for r in (sub(value) for sub in subs) if r is not None]
            return passed[0] if len(passed) == 1 else None

        return check

    def k_not(self, arg: Any, _: dict[str, Any]) -> Check:
        sub = self.compile(arg)
        return lambda value: _NONE if sub(value) is None else None

    def k_if(self, arg: Any, schema: dict[str, Any]) -> Check:
        test = self.compile(arg)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))

        def check(value: Any) -> frozenset[str] | set[str] | None:
            found = test(value)
            if found is None:
                return otherwise(value)
            more = then(value)
            return None if more is None else {*found, *more}

        return check

    def k_minItems(self, arg: int, _: dict[str, Any]) -> Check:
        return lambda value: None if isinstance(value, list) and len(value) < arg else _NONE

    def k_maxItems(self, arg: int, _: dict[str, Any]) -> Check:
        return lambda value: None if isinstance(value, list) and len(value) > arg else _NONE

    def k_uniqueItems(self, arg: bool, _: dict[str, Any]) -> Check:
        def check(value: Any) -> frozenset[str] | set[str] | None:
            if arg and isinstance(value, list):
                for i, item in enumerate(value):
                    if any(_same(item, other) for other in value[i + 1 :]):
                        return None
            return _NONE

        return check

    def k_minLength(self, arg: int, _: dict[str, Any]) -> Check:
        return lambda value: None if isinstance(value, str) and len(value) < arg else _NONE

    def k_maxLength(self, arg: int, _: dict[str, Any]) -> Check:
        return lambda value: None if isinstance(value, str) and len(value) > arg else _NONE

    def k_pattern(self, arg: str, _: dict[str, Any]) -> Check:
        pattern = re.compile(arg)
        return lambda value: None if isinstance(value, str) and not pattern.search(value) else _NONE

    def k_minimum(self, arg: float, _: dict[str, Any]) -> Check:
        return lambda value: None if _number(value) and value < arg else _NONE

    def k_maximum(self, arg: float, _: dict[str, Any]) -> Check:
        return lambda value: None if _number(value) and value > arg else _NONE

    def k_exclusiveMinimum(self, arg: float, _: dict[str, Any]) -> Check:
        return lambda value: None if _number(value) and value <= arg else _NONE

    def k_exclusiveMaximum(self, arg: float, _: dict[str, Any]) -> Check:
        return lambda value: None if _number(value) and value >= arg else _NONE
