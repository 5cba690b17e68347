"""Contract compatibility: what changed between two versions of a contract, and whether consumers break.

``diff_contracts(old, new)`` lists every change as a :class:`Change`; ``is_breaking`` and ``required_bump``
turn the list into the version gate's verdict (docs/architecture.md, "The publish path" step 6); ``render_changes`` prints it as plain text.

Breaking (the new contract needs a major version):

* a column removed, or renamed (removed + added with the same logical type at the same position; the pair's
  other differences are reported under the new name);
* a type changed or narrowed, i.e. old values may not fit the new type: ``string``→``integer``,
  ``bigint``→``int``, ``decimal(10,2)``→``decimal(8,2)`` or ``decimal(10,4)`` (fewer scale or integer digits),
  ``varchar(20)``→``varchar(10)``, ``number``→``integer``, ``timestamp``→``date``, exact decimal ↔ float;
* nullability changed in **either** direction. Required → optional is breaking too, by choice: consumers
  relied on never reading a null there, and their joins, aggregates and non-null targets break when one comes;
* an enum value removed; a constraint tightened (pattern added or changed, ``minLength``/``minimum`` up,
  ``maxLength``/``maximum`` down, an exclusive bound replacing an inclusive one, an enum added, ``unique``
  added); the primary key changed; the contract ``id`` changed (downstream input ports name it).

Non-breaking (reported so reviewers see them): a column added, even a required one (readers do not select
what they do not know); a type widened (``int``→``bigint``, ``integer``→``number``, ``date``→``timestamp``,
longer ``varchar``, more decimal digits); an enum value added (the version gate's rule); a constraint loosened,
``unique`` dropped included; the column order; descriptions, business names, tags, classification, masking,
status, the table name; quality rules and SLA properties (they bind the producer, not the shape readers get).

Integer types are judged by width (no ``physicalType`` means 64-bit, as storage writes it); ``integer`` to a
decimal widens only when the decimal keeps enough integer digits. Decimal precision and scale come from
``Column.precision``/``scale`` when set, else from ``physicalType``. Values that do not compare (a bound
changed from a number to a date string) count as tightened: when in doubt, the gate asks for a major.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tessera.errors import AddressError
from tessera.model.address import parse_semver
from tessera.model.changes import Change, ChangeKind, ChangeWhat, breaking, compare, fine, short, values
from tessera.model.compat_rules import quality_changes, sla_changes
from tessera.model.contract import Column, Contract

__all__ = [
    "Change",
    "ChangeKind",
    "ChangeWhat",
    "diff_contracts",
    "is_breaking",
    "reads_as",
    "render_changes",
    "required_bump",
]


_Bound = tuple[Any, bool]  # (value, exclusive)
_Interval = tuple[Any, bool, Any, bool]  # (low, low inclusive, high, high inclusive)


# --- types --------------------------------------------------------------------------------------------------

_INT_BITS = {"tinyint": 8, "int8": 8, "byte": 8, "smallint": 16, "int16": 16, "short": 16, "int": 32,
             "int32": 32, "integer": 32, "bigint": 64, "int64": 64, "long": 64}  # fmt: skip
_INT_DIGITS = {8: 3, 16: 5, 32: 10, 64: 19}
_FLOAT32 = frozenset({"float", "real", "float4"})
_DECIMAL = re.compile(r"^(?:decimal|numeric|number)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
_LENGTH = re.compile(r"^(?:n?varchar|n?char|character(?: varying)?|string|text)\s*\(\s*(\d+)\s*\)$")


@dataclass(frozen=True, slots=True)
class _Type:
    family: str
    bits: int | None = None  # integers and floats
    precision: int | None = None  # decimals
    scale: int = 0
    length: int | None = None  # bounded strings
    physical: str | None = None  # other types, judged by name only


def _type(column: Column) -> _Type:
    physical = " ".join((column.physical_type or "").lower().split())
    family = column.logical_type
    if family == "integer":
        return _Type(family, bits=_INT_BITS.get(physical, 64))
    if family == "number":
        match = _DECIMAL.match(physical)
        precision = column.precision if column.precision is not None else (int(match[1]) if match else None)
        scale = column.scale if column.scale is not None else (int(match[2] or 0) if match else 0)
        if precision is not None:
            return _Type(family, precision=precision, scale=scale)
        return _Type(family, bits=32 if physical in _FLOAT32 else 64)
    if family == "string":
        match = _LENGTH.match(physical)
        return _Type(family, length=int(match[1]) if match else None)
    if family in ("date", "timestamp", "boolean"):
        return _Type(family)
    return _Type(family, physical=physical.replace(" ", "") or None)


def _compare_types(old: _Type, new: _Type) -> Literal["same", "widened", "narrowed", "changed"]:
    """Whether every value of ``old`` fits ``new`` (widened), may not (narrowed) or is of another kind."""
    pair = (old.family, new.family)
    if old == new:
        return "same"
    if pair == ("date", "timestamp"):
        return "widened"
    if pair in (("timestamp", "date"), ("number", "integer")):
        return "narrowed"
    if pair == ("integer", "number"):
        fits = new.precision is None or new.precision - new.scale >= _INT_DIGITS[old.bits or 64]
        return "widened" if fits else "narrowed"
    if old.family != new.family or (old.precision is None) != (new.precision is None):
        return "changed"  # another logical type, or exact decimal <-> floating point
    if old.bits is not None and new.bits is not None:
        return "widened" if new.bits > old.bits else "narrowed"
    if old.precision is not None and new.precision is not None:
        wider = new.scale >= old.scale and new.precision - new.scale >= old.precision - old.scale
        return "widened" if wider else "narrowed"
    if old.family == "string":
        wider = new.length is None or (old.length is not None and new.length > old.length)
        return "widened" if wider else "narrowed"
    return "same" if old.physical is None or new.physical is None else "changed"


def _type_label(column: Column, typ: _Type, logical: bool = False) -> str:
    physical = (column.physical_type or "").strip()
    if typ.precision is not None and "(" not in physical:
        physical = f"decimal({typ.precision},{typ.scale})"
    if not physical:
        return "integer (64-bit)" if typ.family == "integer" else typ.family
    return f"{typ.family} ({physical})" if logical and not physical.startswith(typ.family) else physical


def _type_change(old: Column, new: Column) -> Change | None:
    old_type, new_type = _type(old), _type(new)
    verdict = _compare_types(old_type, new_type)
    if verdict == "same":
        return None
    logical = old.logical_type != new.logical_type
    a, b = _type_label(old, old_type, logical), _type_label(new, new_type, logical)
    message = f"column {new.name!r} type changed from {a} to {b}"
    if verdict == "widened":
        return fine(new.name, "type-widened", f"{message} (widened)")
    if verdict == "narrowed":
        return breaking(new.name, "type-narrowed", f"{message} (narrowed)")
    return breaking(new.name, "type-changed", message)


# --- constraints --------------------------------------------------------------------------------------------


def _bound(inclusive: Any, exclusive: Any, lower: bool) -> _Bound | None:
    """The effective bound: the tighter of ``minimum`` and ``exclusiveMinimum`` (or of the maxima)."""
    if exclusive is None:
        return None if inclusive is None else (inclusive, False)
    if inclusive is None:
        return (exclusive, True)
    order = compare(exclusive, inclusive) or 0
    return (exclusive, True) if order == 0 or (order > 0) == lower else (inclusive, False)


def _constraint(name: str, tighter: bool, message: str) -> Change:
    if tighter:
        return breaking(name, "constraint-tightened", message)
    return fine(name, "constraint-loosened", message)


def _bound_change(
    name: str, label: str, old: _Bound | None, new: _Bound | None, lower: bool
) -> Change | None:
    """A lower or upper bound that moved: ``minLength``, ``maxLength``, ``minimum``, ``maximum``."""
    if old == new:
        return None
    if old is None or new is None:
        tighter = old is None
    elif (order := compare(new[0], old[0])) == 0:
        tighter = new[1] and not old[1]
    else:
        tighter = order is None or (order > 0) == lower

    def text(bound: _Bound | None) -> str:
        if bound is None:
            return "none"
        if label.endswith("Length"):
            return str(bound[0])
        return f"{'>' if lower else '<'}{'' if bound[1] else '='} {bound[0]!r}"

    verdict = "tightened" if tighter else "loosened"
    return _constraint(name, tighter, f"column {name!r} {label} {verdict} from {text(old)} to {text(new)}")


def _constraint_changes(old: Column, new: Column) -> list[Change]:
    name, subject = new.name, f"column {new.name!r}"
    changes: list[Change] = []
    if old.pattern != new.pattern:
        was = "added" if old.pattern is None else f"changed from {old.pattern!r} to"
        message = f"{subject} pattern {was} {new.pattern!r}"
        if new.pattern is None:
            message = f"{subject} pattern {old.pattern!r} removed"
        changes.append(_constraint(name, new.pattern is not None, message))
    bounds = (
        ("minLength", old.min_length, None, new.min_length, None, True),
        ("maxLength", old.max_length, None, new.max_length, None, False),
        ("minimum", old.minimum, old.exclusive_minimum, new.minimum, new.exclusive_minimum, True),
        ("maximum", old.maximum, old.exclusive_maximum, new.maximum, new.exclusive_maximum, False),
    )
    for label, a, a_ex, b, b_ex, lower in bounds:
        if change := _bound_change(name, label, _bound(a, a_ex, lower), _bound(b, b_ex, lower), lower):
            changes.append(change)
    if (old.enum is None or new.enum is None) and old.enum != new.enum:
        message = f"{subject} enum removed (any value allowed)"
        if new.enum is not None:
            message = f"{subject} enum added: {values(new.enum)}"
        changes.append(_constraint(name, new.enum is not None, message))
    elif old.enum is not None and new.enum is not None:
        if removed := [v for v in old.enum if v not in new.enum]:
            message = f"{subject} enum values removed: {values(removed)}"
            changes.append(breaking(name, "enum-value-removed", message))
        if added := [v for v in new.enum if v not in old.enum]:
            changes.append(fine(name, "enum-value-added", f"{subject} enum values added: {values(added)}"))
    if old.unique and not new.unique:
        changes.append(fine(name, "unique-removed", f"{subject} is no longer unique"))
    elif new.unique and not old.unique:
        changes.append(breaking(name, "unique-added", f"{subject} became unique"))
    return changes


# --- columns and the table ----------------------------------------------------------------------------------


def _tags_change(column: str | None, old: Iterable[str], new: Iterable[str]) -> list[Change]:
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    parts = [f"added {values(added)}"] * bool(added) + [f"removed {values(removed)}"] * bool(removed)
    subject = f"column {column!r}" if column else "table"
    return [fine(column, "tags-changed", f"{subject} tags {' and '.join(parts)}")] if parts else []


def _column_changes(old: Column, new: Column) -> list[Change]:
    name, subject = new.name, f"column {new.name!r}"
    changes = [c for c in [_type_change(old, new)] if c]
    if new.required and not old.required:
        changes.append(breaking(name, "became-required", f"{subject} became required (was nullable)"))
    elif old.required and not new.required:
        message = f"{subject} became optional (was required): readers may now see nulls"
        changes.append(breaking(name, "became-optional", message))
    changes += _constraint_changes(old, new)
    if old.classification != new.classification:
        was, now = old.classification or "none", new.classification or "none"
        message = f"{subject} classification changed from {was} to {now}"
        if old.sensitive != new.sensitive:
            message += " (now sensitive)" if new.sensitive else " (no longer sensitive)"
        changes.append(fine(name, "classification-changed", message))
    if old.masking != new.masking:
        message = f"{subject} masking changed from {old.masking or 'none'} to {new.masking or 'none'}"
        changes.append(fine(name, "masking-changed", message))
    texts: tuple[tuple[ChangeWhat, str, str | None, str | None], ...] = (
        ("description-changed", "description", old.description, new.description),
        ("business-name-changed", "business name", old.business_name, new.business_name),
    )
    for what, label, a, b in texts:
        if a != b:
            changes.append(fine(name, what, f"{subject} {label} changed from {short(a)} to {short(b)}"))
    return changes + _tags_change(name, old.tags, new.tags) + quality_changes(name, old.quality, new.quality)


def _renames(old: Contract, new: Contract) -> dict[str, Column]:
    """Removed columns whose position now holds an added column of the same logical type."""
    renames: dict[str, Column] = {}
    for index, column in enumerate(old.columns):
        if new.column(column.name) is None and index < len(new.columns):
            candidate = new.columns[index]
            if old.column(candidate.name) is None and candidate.logical_type == column.logical_type:
                renames[column.name] = candidate
    return renames


def _table_changes(old: Contract, new: Contract) -> list[Change]:
    changes: list[Change] = []
    if old.id != new.id:
        message = f"contract id changed from {old.id!r} to {new.id!r}: downstream input ports name the old id"
        changes.append(breaking(None, "contract-id-changed", message))
    if old.table != new.table:
        changes.append(fine(None, "table-renamed", f"table renamed from {old.table!r} to {new.table!r}"))
    if old.status != new.status:
        changes.append(fine(None, "status-changed", f"status changed from {old.status} to {new.status}"))
    if old.description != new.description:
        message = f"table description changed from {short(old.description)} to {short(new.description)}"
        changes.append(fine(None, "description-changed", message))
    return changes + _tags_change(None, old.tags, new.tags)


def diff_contracts(old: Contract, new: Contract) -> tuple[Change, ...]:
    """Every difference from ``old`` to ``new`` that a consumer or a reviewer cares about, in a stable order:
    the table, its columns (in the old order, then the added ones), key and order, quality rules, SLA."""
    changes = _table_changes(old, new)
    renames = _renames(old, new)
    for column in old.columns:
        twin = new.column(column.name)
        if column.name in renames:
            message = f"column {column.name!r} renamed to {renames[column.name].name!r}"
            changes.append(breaking(column.name, "column-renamed", message))
            changes += _column_changes(column, renames[column.name])
        elif twin is None:
            message = f"column {column.name!r} removed (was {_type_label(column, _type(column))})"
            changes.append(breaking(column.name, "column-removed", message))
        else:
            changes += _column_changes(column, twin)
    renamed_to = {c.name for c in renames.values()}
    for column in new.columns:
        if old.column(column.name) is None and column.name not in renamed_to:
            nullability = "required" if column.required else "optional"
            message = f"column {column.name!r} added ({_type_label(column, _type(column))}, {nullability})"
            changes.append(fine(column.name, "column-added", message))
    if old.primary_key != new.primary_key:
        message = f"primary key changed from ({', '.join(old.primary_key)}) to ({', '.join(new.primary_key)})"
        changes.append(breaking(None, "primary-key-changed", message))
    kept = [n for n in old.column_names if new.column(n)]
    if kept != (moved := [n for n in new.column_names if old.column(n)]):
        changes.append(fine(None, "columns-reordered", f"column order changed from {kept} to {moved}"))
    return tuple(changes + quality_changes(None, old.quality, new.quality) + sla_changes(old, new))


def is_breaking(changes: Iterable[Change]) -> bool:
    return any(change.kind == "breaking" for change in changes)


def required_bump(old_version: str, new_version: str, changes: Iterable[Change]) -> str | None:
    """Why ``new_version`` cannot follow ``old_version`` given ``changes``; None when it can.

    A version never goes down; a changed contract needs a higher version; a breaking change needs a higher
    major (0.x included: readers, deprecation windows and input ports are keyed on the major)."""
    changes = tuple(changes)
    try:
        old, new = parse_semver(old_version), parse_semver(new_version)
    except AddressError as exc:
        return f"contract version: {exc}"
    if new < old:
        return (
            f"contract version {new_version} is lower than the published {old_version}; versions only go up"
        )
    if (breaking := [c.message for c in changes if c.kind == "breaking"]) and new[0] <= old[0]:
        return (
            f"{len(breaking)} breaking change(s) need a major version bump, but "
            f"{old_version} → {new_version} keeps major {old[0]}: "
            f"set the version to {old[0] + 1}.0.0 ({'; '.join(breaking)})"
        )
    if changes and new == old:
        return (
            f"the contract changed but its version is still {new_version}: raise it "
            f"(e.g. to {old[0]}.{old[1] + 1}.0; these changes are not breaking)"
        )
    return None


def render_changes(changes: Iterable[Change]) -> str:
    """A plain-text table, breaking changes first, then a one-line summary."""
    items = sorted(changes, key=lambda c: c.kind != "breaking")
    if not items:
        return "no changes"
    rows = [
        ("KIND", "COLUMN", "CHANGE", "DETAIL"),
        *((c.kind, c.column or "-", c.what, c.message) for c in items),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]) for row in rows]
    breaking = sum(c.kind == "breaking" for c in items)
    noun = "change" if len(items) == 1 else "changes"
    summary = f"{len(items)} {noun}: {breaking} breaking, {len(items) - breaking} non-breaking"
    return "\n".join([*lines, "", summary])


def reads_as(actual: Column, expected: Column) -> str | None:
    """Why a consumer expecting ``expected`` cannot read the producer's ``actual`` column as it expects
    (``integer, but the column is number (decimal(10,2))``), or None when it can: the same logical type (an integer reads as a number, a date as a timestamp), and with
    a ``physicalType`` expected, values that fit it (the contract diff's own rule, ``_compare_types``)."""
    if not expected.typed:
        return None
    have, want = actual.logical_type, expected.logical_type
    if have != want and (have, want) not in (("integer", "number"), ("date", "timestamp")):
        return f"{want}, but the column is {_type_label(actual, _type(actual), True)}"
    bounded = bool((expected.physical_type or "").strip()) or expected.precision is not None
    if bounded and _compare_types(_type(actual), _type(expected)) not in ("same", "widened"):
        theirs = _type_label(actual, _type(actual), True)
        return f"{_type_label(expected, _type(expected), True)}, but the column is {theirs}"
    return None
