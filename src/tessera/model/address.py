"""Addresses: ``sales.orders``, ``sales.orders@2.1.0`` (contract semver), ``sales.orders@2`` (a major),
``sales.orders@v17`` (a Delta version of the newest major's table) and ``sales.orders@1/v3`` (a Delta version
of an older major's table: each major is its own table, so its versions count from v0)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tessera.errors import AddressError

__all__ = ["NAME_PATTERN", "Address", "SelectorKind", "parse_semver"]

NAME_PATTERN = r"[a-z][a-z0-9_]*"
_ADDRESS = re.compile(rf"^(?P<domain>{NAME_PATTERN})\.(?P<product>{NAME_PATTERN})(?:@(?P<sel>[^@\s]+))?$")
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")

SelectorKind = Literal["latest", "semver", "major", "delta", "major_delta"]


def parse_semver(text: str) -> tuple[int, int, int]:
    """``"2.1.0"`` → ``(2, 1, 0)``; raises AddressError for anything else."""
    match = _SEMVER.match(text.strip())
    if not match:
        raise AddressError(f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    return int(match[1]), int(match[2]), int(match[3])


@dataclass(frozen=True, slots=True)
class Address:
    domain: str
    product: str
    selector: str | None = None

    @classmethod
    def parse(cls, text: str) -> Address:
        match = _ADDRESS.match(text.strip())
        if not match:
            raise AddressError(
                f"{text!r} is not a product address: expected <domain>.<product>[@version], "
                "e.g. sales.orders, sales.orders@2.1.0, sales.orders@2 or sales.orders@v17"
            )
        address = cls(match["domain"], match["product"], match["sel"])
        address.kind  # noqa: B018 - validates the selector eagerly
        return address

    @property
    def name(self) -> str:
        return f"{self.domain}.{self.product}"

    @property
    def kind(self) -> SelectorKind:
        sel = self.selector
        if sel is None or sel == "latest":
            return "latest"
        if re.fullmatch(r"v\d+", sel):
            return "delta"
        if re.fullmatch(r"\d+/v\d+", sel):
            return "major_delta"
        if re.fullmatch(r"\d+", sel):
            return "major"
        if _SEMVER.match(sel):
            return "semver"
        raise AddressError(
            f"{self.name}@{sel}: unknown version selector; use @MAJOR.MINOR.PATCH, @MAJOR, @vN (Delta version) "
            "or @MAJOR/vN (a Delta version of an older major)"
        )

    @property
    def delta_version(self) -> int:
        assert self.kind in {"delta", "major_delta"} and self.selector
        return int(self.selector.rsplit("v", 1)[1])

    @property
    def major(self) -> int:
        assert self.selector
        if self.kind == "major":
            return int(self.selector)
        if self.kind == "major_delta":
            return int(self.selector.split("/")[0])
        return parse_semver(self.selector)[0]

    def at(self, selector: str | None) -> Address:
        return Address(self.domain, self.product, selector)

    def __str__(self) -> str:
        return self.name if self.selector is None else f"{self.name}@{self.selector}"
