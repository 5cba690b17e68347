"""YAML with line numbers: plain Python data plus a map from key path to line, and a problem collector.

PyYAML's composer (the C one when available) gives a node tree with marks; one walk over it builds the data
and records the 1-based line of every mapping key and sequence item under its key path, e.g.
``("schema", 0, "properties", 2, "logicalTyp")``. Scalars become JSON-compatible values: timestamps stay
strings (JSON Schema validates strings, and the canonical JSON hash needs them), keys are their source text.

Reading is bounded (``tessera.spec.bounds``): a file's size before it is read, its nodes before the tree is
built, and while building the values produced (alias expansion included), the nesting depth and each text's
length. A file past a limit is one problem, and nothing of it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tessera.errors import Problem
from tessera.spec.bounds import MAX_DEPTH, MAX_NODES, MAX_TEXT_CHARS, count_nodes, read_text, size_text

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

    def subset(self, paths: Sequence[KeyPath]) -> LineMap:
        """The lines of ``paths`` only: a smaller map that answers the same for them (each path's parents
        must be among ``paths`` for the nearest-parent answer to stay the same)."""
        return LineMap({p: self._lines[p] for p in paths if p in self._lines})


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

    def warn(self, path: Sequence[str | int], message: str) -> None:
        """A problem that is reported but refuses nothing (an error only under ``--strict``)."""
        self.problems.append(Problem(self.file, self.lines.line(path), key_path(path), message, "warning"))


def read_yaml(path: Path, file: str) -> tuple[Any, LineMap, list[Problem]]:
    """Read and parse one YAML file; ``file`` is the name problems carry (relative to the mesh root)."""
    text, problems = read_text(path, file)
    if text is None:
        return None, LineMap(), problems
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str) -> tuple[Any, LineMap, list[Problem]]:
    """Parse one YAML document into ``(data, lines, problems)``; malformed YAML is a problem, not a raise."""
    too_many = count_nodes(text, file)
    if too_many is not None:
        return None, LineMap(), [too_many]
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, LineMap(), [Problem(file, 1, "", "the file is empty; expected a mapping of keys")]
        builder = _Builder(loader, file)
        builder.lines[()] = root.start_mark.line + 1
        try:
            data = builder.build(root, ())
        except _OverBudget as exc:
            return None, LineMap(), [exc.problem]
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


class _OverBudget(Exception):
    """A limit of ``tessera.spec.bounds`` crossed while building: the file's one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Builder:
    __slots__ = ("active", "built", "construct", "file", "lines", "problems")

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.construct = loader.construct_object
        self.file = file
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self.active: set[int] = set()
        self.built = 0

    def problem(self, node: Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, key_path(path), message))

    def _stop(self, path: KeyPath, message: str) -> _OverBudget:
        line = self.lines.get(path[:1]) if path else None
        return _OverBudget(Problem(self.file, line, key_path(path[:1]), message))

    def build(self, node: Node, path: KeyPath) -> Any:
        self.built += 1
        if self.built > MAX_NODES:
            message = (
                f"more than {MAX_NODES:,} values, aliases expanded; a mesh file may hold at most that many"
            )
            raise self._stop(path, message)
        if isinstance(node, ScalarNode):
            if len(node.value) > MAX_TEXT_CHARS:
                size = size_text(len(node.value.encode("utf-8", "replace")))
                self.problem(
                    node, path, f"a text of {size}; a value may be at most {size_text(MAX_TEXT_CHARS)}"
                )
                return node.value[:MAX_TEXT_CHARS]
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
        if len(path) > MAX_DEPTH:
            raise self._stop(path, f"nested more than {MAX_DEPTH} levels deep")
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
