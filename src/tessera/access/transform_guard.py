"""A SQL transform reads its declared inputs and nothing else, and runs as one SELECT on a locked connection.

Two layers, the same two that hold a reader's SQL (:mod:`tessera.access.secure_query`), each enough alone:

1. **The guard** (:func:`check_transform`). DuckDB's parser and sqlglot's must each see one SELECT; the tree is
   walked with the reader's allowlist (no statement but a query, no function that reads files, settings or the
   host, no value generator of unbounded size, no table function but ``unnest``/``range``/``generate_series``,
   no name that looks like a file, no reserved ``__tessera`` name). Every table it reads must be one of its input ports (``domain.product`` or
   ``source.<system>.<table>``) or a CTE in scope. Each refusal names the line of the offending token, so
   ``tessera validate`` and ``tessera build`` report the same ``file:line``. What runs is the SQL sqlglot
   generates from the tree it checked, with the inputs quoted, never the text as written.
2. **The connection** (``access/sealing.py``: ``sandbox``, ``seal``). A fresh DuckDB connection that sees no Python
   variables; once the inputs are registered on it, it may open only their data files (``allowed_paths``),
   nothing else (``enable_external_access = false``: no other file, no ``ATTACH``/``COPY``/``INSTALL``, no
   network), its memory, threads and time are bounded (``limits:``, ``transformTimeout``), and its
   configuration is locked before the transform runs.

A refused transform never runs: nothing is read, written or published.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import sqlglot
from sqlglot import TokenType, exp

from tessera.access.secure_query import (
    _FORBIDDEN,
    INTERNAL_PREFIX,
    _cte_bound,
    _table_problem,
    blocked_function,
    function_name,
    generated_size_problem,
)
from tessera.model.sqltext import MAX_NESTING, nesting_depth

__all__ = ["CheckedTransform", "Refusal", "check_transform"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a transform may not run: the line (1-based) of the offending token, the token, what is wrong."""

    line: int
    token: str
    message: str


@dataclass(frozen=True, slots=True)
class CheckedTransform:
    """A transform the guard let through: the SQL to run (inputs quoted) and the input ports it reads."""

    sql: str
    reads: tuple[str, ...]


def _statement_lines(code: str) -> list[int]:
    """The line each statement of ``code`` starts on (comments skipped), by sqlglot's tokenizer."""
    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(code)
    except sqlglot.errors.SqlglotError:
        return [1]
    lines: list[int] = []
    fresh = True
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            fresh = True
        elif fresh:
            lines.append(token.line)
            fresh = False
    return lines or [1]


def _line(node: exp.Expr, fallback: int) -> int:
    """The line of ``node``'s first token sqlglot placed (a function name, an identifier, a literal)."""
    for found in node.walk():
        line = found.meta.get("line") if isinstance(found, exp.Expr) else None
        if isinstance(line, int):
            return line
    return fallback


def _duckdb_kinds(code: str) -> list[str] | str:
    """The statement kinds DuckDB's own parser sees, or its error's first line."""
    try:
        return [s.type.name for s in duckdb.extract_statements(code)]
    except duckdb.Error as exc:
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _quiet() -> Iterator[None]:
    """sqlglot logs a warning for SQL it keeps as a raw command (``LOAD x``): the refusal says it instead."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _statements(code: str) -> tuple[list[exp.Expr], Refusal | None]:
    try:
        with _quiet():
            return [s for s in sqlglot.parse(code, read="duckdb") if s is not None], None
    except sqlglot.errors.ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line = error.get("line")
        message = f"the SQL does not parse: {error.get('description', exc)}"
        return [], Refusal(line if isinstance(line, int) else 1, "", message)
    except sqlglot.errors.SqlglotError as exc:
        text = str(exc).strip()
        return [], Refusal(1, "", f"the SQL does not parse: {text.splitlines()[0] if text else exc}")


def _shape(code: str, statements: Sequence[exp.Expr]) -> Refusal | None:
    """One SELECT, by both parsers (the statements' lines are looked up only for a refusal)."""
    if len(statements) != 1:
        starts = _statement_lines(code)
        names = ", ".join(type(s).__name__.upper() for s in statements) or "none"
        second = statements[1] if len(statements) > 1 else None
        line = _line(second, starts[min(1, len(starts) - 1)]) if second is not None else starts[0]
        message = f"a transform is one SELECT statement; found {len(statements)} ({names}): keep the SELECT"
        return Refusal(line, "", message)
    first = statements[0]
    if not isinstance(first, exp.Query):
        kind = str(first.this).upper() if isinstance(first, exp.Command) else type(first).__name__.upper()
        return Refusal(_statement_lines(code)[0], kind, f"a transform is one SELECT statement, not {kind}")
    kinds = _duckdb_kinds(code)
    if isinstance(kinds, str):
        return Refusal(_statement_lines(code)[0], "", f"the SQL does not parse: {kinds}")
    if kinds != ["SELECT"]:
        starts = _statement_lines(code)
        return Refusal(
            starts[-1] if len(kinds) > 1 else starts[0],
            "",
            f"a transform is one SELECT statement; DuckDB reads {len(kinds)}: {', '.join(kinds) or 'none'}",
        )
    return None


def _for_transforms(message: str) -> str:
    """A reader's refusal, worded for a transform (which reads its input ports, sources included)."""
    return message.replace(
        "read products by address (domain.product)",
        "read input ports by address (domain.product, source.<system>.<table>)",
    ).replace("products by address", "input ports by address")


def _node_refusal(node: exp.Expr, owner: str, declared: Sequence[str]) -> tuple[str, str] | None:
    """What the reader's allowlist and the input ports say of one node: (token, why), or None: it may stay."""
    if isinstance(node, _FORBIDDEN):
        kind = type(node).__name__.upper()
        return kind, f"{kind} is not allowed in a transform, only one SELECT"
    if isinstance(node, exp.Identifier) and str(node.name).lower().startswith(INTERNAL_PREFIX):
        return node.name, f"the name {node.name!r} is reserved"
    if isinstance(node, exp.Func) and (why := blocked_function(node) or generated_size_problem(node)):
        return function_name(node), _for_transforms(why)
    if not isinstance(node, exp.Table):
        return None
    if problem := _table_problem(node, catalogs=True):
        token = function_name(node.this) if isinstance(node.this, exp.Func) else node.name
        return token, _for_transforms(problem)
    if not isinstance(node.this, exp.Identifier) or _cte_bound(node):
        return None
    name = ".".join(p for p in (node.catalog, node.db, node.name) if p).lower()
    if name in declared:
        return None
    hint = ", ".join(declared) or "none"
    return name, (
        f"the transform reads {name!r}, which is not an input port of {owner} (inputs: {hint}); "
        "declare it in product.odps.yaml inputPorts"
    )


def _within(node: exp.Expr, refused: set[int]) -> bool:
    """Whether an ancestor of ``node`` was refused already (one refusal per offending token)."""
    parent = node.parent
    while parent is not None:
        if id(parent) in refused:
            return True
        parent = parent.parent
    return False


def check_transform(
    code: str, inputs: Iterable[str], owner: str
) -> tuple[CheckedTransform | None, tuple[Refusal, ...]]:
    """Check the SQL transform of product ``owner`` whose input ports are ``inputs`` (see the module
    docstring): the checked transform, or None and every refusal found (one per offending token). The
    answer depends only on the three strings, so a build that checks before it runs checks once."""
    if nesting_depth(code) > MAX_NESTING:
        return None, (Refusal(1, "", f"the SQL nests deeper than {MAX_NESTING} levels of brackets"),)
    try:
        return _checked(code, tuple(sorted({a.lower() for a in inputs})), owner)
    except RecursionError:
        return None, (Refusal(1, "", "the SQL nests too deeply to be checked"),)


@lru_cache(maxsize=512)
def _checked(
    code: str, declared: tuple[str, ...], owner: str
) -> tuple[CheckedTransform | None, tuple[Refusal, ...]]:
    statements, failed = _statements(code)
    if failed is not None:
        return None, (failed,)
    if (shape := _shape(code, statements)) is not None:
        return None, (shape,)
    tree = statements[0]
    refusals: dict[str, Refusal] = {}
    reads: list[str] = []
    refused: set[int] = set()
    for node in list(tree.walk()):
        if refused and _within(node, refused):
            continue
        refusal = _node_refusal(node, owner, declared)
        if refusal is not None:  # placed only now: finding a line walks the node
            token, message = refusal
            refusals.setdefault(message, Refusal(_line(node, _statement_lines(code)[0]), token, message))
            refused.add(id(node))
            continue
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) and not _cte_bound(node):
            parts = [p.lower() for p in (node.catalog, node.db, node.name) if p]
            for key, part in zip(("catalog", "db", "this")[-len(parts) :], parts, strict=True):
                node.set(key, exp.to_identifier(part, quoted=True))
            if (address := ".".join(parts)) not in reads:
                reads.append(address)
    if refusals:
        return None, tuple(refusals.values())
    sql = tree.sql(dialect="duckdb")
    if _duckdb_kinds(sql) != ["SELECT"]:  # the generated SQL must be what was checked: one SELECT
        message = "the SQL cannot be checked: sqlglot and DuckDB read it differently"
        return None, (Refusal(_statement_lines(code)[0], "", message),)
    return CheckedTransform(sql, tuple(reads)), ()
