"""Column profiles as a reader may see them (``Reader.profiles``, the one door; docs/architecture.md).

A profile's counts are metadata, shown to whoever may see the product's page. Its values (minimum, maximum,
top values) are data of every row, so they are shown only to a caller who may read every row: trusted local use,
or a read grant without a row filter. Anyone else gets the counts and a note why. Sensitive columns never have
values stored at all (``tessera.quality.profiles``); a column the mesh's contract marks sensitive after the
profile was taken is shown counts only to a caller without clearance too (fail closed, as reads of older
versions are masked by the current classification, ``secure.release_columns``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tessera.catalog.profiles import version_profile
from tessera.model.profile import VersionProfile

if TYPE_CHECKING:
    from tessera.access.model import ReadAccess
    from tessera.platform.context import Context

__all__ = ["profiles_for"]

NOT_A_READER = "values are shown to readers of the product only"
FILTERED = "values are withheld: a row filter limits what you read, and profiles cover every row"


def profiles_for(
    ctx: Context, address: str, major: int | None, *, trusted: bool, access: ReadAccess | None
) -> VersionProfile | None:
    """The newest version's profiles of ``address`` (of ``major``), in the contract's column order, with values
    only for a caller who may read every row (``trusted``, or ``access`` without row filters; the reader
    passes what its caller may see); None when nothing is published."""
    contract = ctx.product(address).contract
    found = version_profile(ctx.catalog, address, major)
    if found is None:
        return None
    order = {name: i for i, name in enumerate(contract.column_names)}
    found = replace(
        found, columns=tuple(sorted(found.columns, key=lambda c: order.get(c.column, len(order))))
    )
    if trusted:
        return found
    if access is None or not access.clearance:
        hidden = contract.sensitive_columns
        found = replace(
            found,
            columns=tuple(
                replace(c.counts_only(), masked=True) if c.column in hidden else c for c in found.columns
            ),
        )
    if access is not None and not access.row_filters:
        return found
    return replace(
        found,
        columns=tuple(c.counts_only() for c in found.columns),
        withheld=NOT_A_READER if access is None else FILTERED,
    )
