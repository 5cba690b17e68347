"""Limits on what a mesh file may cost to read: its size, its nodes, its nesting, each text in it.

A mesh file is written by people, some of whom may be hostile (a product folder in a pull request, a policy
file in a domain). Reading one is bounded so that a small file cannot take the process past a few hundred MB:

- ``MAX_FILE_BYTES`` (5 MiB): a bigger file is refused from its size alone, before a byte is read;
- ``MAX_NODES`` (200,000 values): counted on the parser's event stream before a node tree is built (the tree
  costs ~300 bytes a node), and again while the data is built, where alias expansion counts too — a 572-byte
  "billion laughs" file of aliases 10 deep and 10 wide stops at the budget instead of expanding to 10^10;
- ``MAX_DEPTH`` (64 levels) of nested mappings and lists;
- ``MAX_TEXT_CHARS`` (64 KiB) per scalar: a description, a purpose, a policy message.

Each limit is one ``Problem`` naming the file (and the line where there is one), never a raise.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tessera.errors import Problem

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_TEXT_CHARS",
    "count_nodes",
    "decode_text",
    "read_text",
    "size_text",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_TEXT_CHARS = 64 * 1024

#: Texts shorter than this cannot hold enough nodes to matter: the event pre-count is skipped for them.
_PRECOUNT_FROM = 256 * 1024

_CParser: type | None = getattr(yaml, "CParser", None)


def size_text(count: float) -> str:
    """``52428800`` → ``50.0 MB``; ``70000`` → ``68 KiB``."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.0f} KiB" if count >= 1024 else f"{int(count)} bytes"


def read_text(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    """A mesh file's text, or the problem that stops it: too big (checked before reading), not UTF-8, unreadable."""
    try:
        size = path.stat().st_size
        return decode_text(None if size > MAX_FILE_BYTES else path.read_bytes(), size, file)
    except OSError as exc:
        return None, [Problem(file, None, "", f"cannot be read: {exc.strerror or exc}")]


def decode_text(data: bytes | None, size: int, file: str) -> tuple[str | None, list[Problem]]:
    """The text of a file's ``data`` as ``read_text`` gives it (UTF-8, a BOM dropped, universal newlines), or
    the problem that stops it; ``data`` is None for a file of ``size`` bytes that is too big to be read. The
    mesh index (``tessera.spec.files``) decodes the bytes it hashed with it, so both read the same text."""
    if data is None or size > MAX_FILE_BYTES:
        message = (
            f"the file is {size_text(size)}; a mesh file may be at most {size_text(MAX_FILE_BYTES)} "
            "(keep data in data files, not in YAML)"
        )
        return None, [Problem(file, None, "", message)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(file, None, "", f"not UTF-8 text: {exc.reason}")]
    return (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text), []


def count_nodes(text: str, file: str) -> Problem | None:
    """For a long text, count its nodes on the event stream (constant memory); a problem past ``MAX_NODES``.
    Malformed YAML is left to the loader, which reports it with its line."""
    if len(text) < _PRECOUNT_FROM:
        return None
    parser = _CParser(text) if _CParser is not None else yaml.SafeLoader(text)
    nodes = 0
    try:
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return None
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    line = event.start_mark.line + 1 if event.start_mark is not None else None
                    message = (
                        f"more than {MAX_NODES:,} values; a mesh file may hold at most that many "
                        "(split it, or keep data in data files)"
                    )
                    return Problem(file, line, "", message)
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
