"""YAML with line numbers: plain Python data plus a map from key path to line, and a problem collector.

PyYAML's composer (the C one when available) gives a node tree with marks; one walk over it builds the data
and records the 1-based line of every mapping key and sequence item under its key path, e.g.
``("schema", 0, "properties", 2, "logicalTyp")``. Scalars become JSON-compatible values: timestamps stay
strings (JSON Schema validates strings, and the canonical JSON hash needs them), keys are their source text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tessera.errors import Problem

__all__ = ["KeyPath", "LineMap", "Report", "key_path", "parse_yaml", "read_yaml"]

KeyPath = tuple[str | int, ...]

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVED: dict[str, str] = {}


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader with plain scalars' implicit tags memoised (the same keys and values recur a lot)."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> Any:
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _RESOLVED.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_RESOLVED) < 100_000:
                    _RESOLVED[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


_AS_TEXT = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"})
_MERGE = "tag:yaml.org,2002:merge"


def key_path(path: Sequence[str | int]) -> str:
    """``("schema", 0, "properties", 2, "logicalTyp")`` → ``schema[0].properties[2].logicalTyp``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class LineMap:
    """Key path → 1-based line. A path without its own line answers with its nearest parent's."""

    __slots__ = ("_lines",)

    def __init__(self, lines: dict[KeyPath, int] | None = None) -> None:
        self._lines = lines if lines is not None else {}

    def line(self, path: Sequence[str | int]) -> int | None:
        probe = tuple(path)
        while True:
            found = self._lines.get(probe)
            if found is not None or not probe:
                return found
            probe = probe[:-1]

    def __len__(self) -> int:
        return len(self._lines)


class Report:
    """Problems found in one file, each placed by key path."""

    __slots__ = ("file", "lines", "problems")

    def __init__(
        self, file: str, lines: LineMap | None = None, problems: list[Problem] | None = None
    ) -> None:
        self.file = file
        self.lines = lines if lines is not None else LineMap()
        self.problems: list[Problem] = problems if problems is not None else []

    def add(self, path: Sequence[str | int], message: str) -> None:
        self.problems.append(Problem(self.file, self.lines.line(path), key_path(path), message))


def read_yaml(path: Path, file: str) -> tuple[Any, LineMap, list[Problem]]:
    """Read and parse one YAML file; ``file`` is the name problems carry (relative to the mesh root)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, LineMap(), [Problem(file, None, "", f"not UTF-8 text: {exc.reason}")]
    except OSError as exc:
        return None, LineMap(), [Problem(file, None, "", f"cannot be read: {exc.strerror or exc}")]
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str) -> tuple[Any, LineMap, list[Problem]]:
    """Parse one YAML document into ``(data, lines, problems)``; malformed YAML is a problem, not a raise."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, LineMap(), [Problem(file, 1, "", "the file is empty; expected a mapping of keys")]
        builder = _Builder(loader, file)
        builder.lines[()] = root.start_mark.line + 1
        data = builder.build(root, ())
        return data, LineMap(builder.lines), builder.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "malformed YAML"
        return None, LineMap(), [Problem(file, line, "", f"malformed YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, LineMap(), [Problem(file, None, "", f"malformed YAML: {exc}")]
    finally:
        loader.dispose()


class _Builder:
    __slots__ = ("active", "construct", "file", "lines", "problems")

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.construct = loader.construct_object
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self.active: set[int] = set()

    def problem(self, node: Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, key_path(path), message))

    def build(self, node: Node, path: KeyPath) -> Any:
        if isinstance(node, ScalarNode):
            if node.tag in _AS_TEXT:
                return node.value
            try:
                return self.construct(node)
            except yaml.YAMLError as exc:
                self.problem(node, path, f"cannot read value {node.value!r}: {getattr(exc, 'problem', exc)}")
                return node.value
        if id(node) in self.active:
            self.problem(node, path, "recursive alias: a value that contains itself")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, path)
            if isinstance(node, MappingNode):
                return self._mapping(node, path, {})
            return None
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        out: list[Any] = []
        lines = self.lines
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            out.append(self.build(item, child))
        return out

    def _mapping(self, node: MappingNode, path: KeyPath, out: dict[str, Any]) -> dict[str, Any]:
        lines = self.lines
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self._merge(value_node, path, out, explicit)
                continue
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, path, "a key must be plain text, not a list or a mapping")
                continue
            key = key_node.value
            child = (*path, key)
            if key in explicit:
                self.problem(key_node, child, f"duplicate key {key!r} (first given on line {lines[child]})")
            explicit.add(key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child)
        return out

    def _merge(self, value: Node, path: KeyPath, out: dict[str, Any], explicit: set[str]) -> None:
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problem(source, path, "a merge key '<<' needs a mapping or a list of mappings")
                continue
            merged = self._mapping(source, path, {})
            for key, item in merged.items():
                if key not in explicit and key not in out:
                    out[key] = item
