"""Plan, then apply: the difference between the mesh folder and the catalog/storage, as an
immutable plan that can be printed, then applied idempotently with every earlier step undone on failure."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection

from tessera import catalog as cat
from tessera.errors import ProvisioningError
from tessera.model.product import Domain, Product
from tessera.platform.context import Context

if TYPE_CHECKING:
    from tessera.access.model import Action as AccessAction

__all__ = ["Plan", "Step", "apply", "ensure_registered", "plan"]

Action = Literal["add", "update", "remove"]
Target = Literal["domain", "product", "contract", "storage", "principal"]


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    target: Target
    name: str
    detail: str = ""
    #: What a principal step rides on: the domain (``domain:NAME``) or product whose file names the principal.
    scope: str = ""

    def __str__(self) -> str:
        sign = {"add": "+", "update": "~", "remove": "-"}[self.action]
        return f"{sign} {self.target} {self.name}" + (f"  ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    #: The consumers of each product whose contract changes, with what the change breaks of theirs
    #: (``platform/governing/consumer_gate.ConsumerImpact``): shown for review, applied by nothing.
    consumers: tuple[Any, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.steps

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [
                {"action": s.action, "target": s.target, "name": s.name, "detail": s.detail}
                for s in self.steps
            ],
            "consumers": [c.as_dict() for c in self.consumers],
        }


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _domain_doc(domain: Domain) -> dict[str, Any]:
    return {
        "name": domain.name,
        "description": domain.description,
        "owner": domain.owner,
        "team": domain.team,
        "members": [[m.username, m.role] for m in domain.members],
        "sources": [[t.address, t.uri, t.format] for s in domain.source_systems for t in s.tables],
    }


def _product_digest(product: Product, uri: str) -> str:
    return _digest({"document": product.document, "contract": product.contract.hash, "storage": uri})


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def plan(ctx: Context) -> Plan:
    spec, catalog = ctx.spec, ctx.catalog
    steps: list[Step] = []
    known_domains = {d["name"]: d for d in catalog.domains()}
    for domain in spec.domains:
        row = known_domains.pop(domain.name, None)
        if row is None:
            steps.append(Step("add", "domain", domain.name, domain.owner))
        elif row["hash"] != _digest(_domain_doc(domain)):
            steps.append(Step("update", "domain", domain.name, "domain.yaml changed"))
    known_products = {p["address"]: p for p in catalog.products()}
    locations = catalog.storage_locations()
    for product in spec.products:
        uri = ctx.table_uri(product)
        row = known_products.pop(product.address, None)
        version = product.contract.version
        if row is None:
            steps.append(Step("add", "product", product.address, f"contract {version}"))
            steps.append(Step("add", "contract", product.address, f"{product.contract.id} {version}"))
        else:
            if row["hash"] != _product_digest(product, uri):
                steps.append(Step("update", "product", product.address, "product.odps.yaml changed"))
            if row["contract_hash"] != product.contract.hash:
                detail = f"{row['contract_version']} → {version}"
                if row["contract_version"] == version:
                    detail += (
                        ": changed without a version bump; publishing it will be refused until it has one"
                    )
                steps.append(Step("update", "contract", product.address, detail))
        if uri not in locations:
            steps.append(Step("add", "storage", uri, product.address))
    steps += _principal_steps(ctx)
    for address in known_products:
        steps.append(Step("remove", "product", address, "no longer in the mesh folder; data is kept"))
    for name in known_domains:
        steps.append(Step("remove", "domain", name, "no longer in the mesh folder"))
    return Plan(tuple(steps), _consumers(ctx, steps))


def _consumers(ctx: Context, steps: list[Step]) -> tuple[Any, ...]:
    """Who relies on each product whose contract the plan changes, and what the change breaks of theirs."""
    from tessera.platform.governing.consumer_gate import impacts

    changed = [s.name for s in steps if s.target == "contract" and s.action == "update"]
    return tuple(i for address in changed for i in impacts(ctx, address, ctx.product(address).contract))


def _people(ctx: Context) -> dict[str, tuple[str, str, str | None]]:
    """Everyone the mesh files give a role (domain owners, product members) → (why, scope, display name)."""
    people: dict[str, tuple[str, str, str | None]] = {}
    for domain in ctx.spec.domains:
        people.setdefault(domain.owner, (f"owner of domain {domain.name}", f"domain:{domain.name}", None))
    for product in ctx.spec.products:
        for m in product.members:
            people.setdefault(m.username, (f"{m.role} of {product.address}", product.address, m.name))
    return people


def _principal_steps(ctx: Context) -> list[Step]:
    """A user principal for each person the files name who is not one yet (so `token create` knows them)."""
    from tessera.access.identity import is_principal_name, list_principals

    known = {p.name for p in list_principals(ctx.catalog)}
    return [
        Step("add", "principal", name, why, scope)
        for name, (why, scope, _) in _people(ctx).items()
        if name and name not in known and is_principal_name(name)
    ]


def _register(ctx: Context, conn: Connection, product: Product) -> None:
    uri = ctx.table_uri(product)
    cat.register_product(conn, product, uri, _product_digest(product, uri))
    cat.register_storage(conn, uri, product.address)


def apply(
    ctx: Context, the_plan: Plan | None = None, *, fail_after: Callable[[Step], None] | None = None
) -> Plan:
    """Make the catalog and storage match the folder. Storage folders are made first and removed again if
    anything later fails; catalog changes are one transaction. ``fail_after`` is a test seam."""
    the_plan = the_plan or plan(ctx)
    if the_plan.empty:
        return the_plan
    for step in the_plan.steps:  # every step first: a refusal changes nothing
        action, resource = _needs(step)
        ctx.authorize(action, resource)
    spec = ctx.spec
    created: list[Path] = []
    try:
        with ctx.catalog.transaction() as conn:
            for step in the_plan.steps:
                _apply_step(ctx, conn, step, created)
                if fail_after is not None:
                    fail_after(step)
            cat.append_audit(
                conn, ctx.actor, "apply", spec.settings.name, {"changes": [str(s) for s in the_plan.steps]}
            )
    except Exception as exc:
        for path in reversed(created):
            shutil.rmtree(path, ignore_errors=True)
        if isinstance(exc, ProvisioningError):
            raise
        raise ProvisioningError(f"apply failed and was rolled back, nothing changed: {exc}") from exc
    return the_plan


def _apply_step(ctx: Context, conn: Connection, step: Step, created: list[Path]) -> None:
    spec = ctx.spec
    if step.target == "domain":
        domain = spec.domain(step.name)
        if step.action == "remove" or domain is None:
            cat.unregister_domain(conn, step.name)
        else:
            doc = _domain_doc(domain)
            cat.register_domain(conn, domain, doc, _digest(doc))
    elif step.target in {"product", "contract"}:
        product = spec.product(step.name)
        if step.action == "remove" or product is None:
            cat.retire_product(conn, step.name)
        else:
            _register(ctx, conn, product)
    elif step.target == "principal":
        from tessera.access.identity import declare_principal

        display = _people(ctx).get(step.name, ("", "", None))[2]
        declare_principal(conn, step.name, ctx.actor, step.detail, display)
    elif step.target == "storage":
        if _is_local(step.name):
            path = Path(step.name.removeprefix("file://"))
            missing = [p for p in (path, *path.parents) if not p.exists()]
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ProvisioningError(
                    f"cannot create the storage location {path} for {step.detail}: {exc}; "
                    "apply was rolled back, nothing changed"
                ) from None
            if missing:
                created.append(missing[-1])
        cat.register_storage(conn, step.name, step.detail)


def _needs(step: Step) -> tuple[AccessAction, str]:
    """What the caller must hold for a step: ``publish`` on a product to register or update it (its owners
    apply their own changes), ``admin`` to remove a product and for any change to a domain."""
    if step.target == "domain":
        return "admin", f"domain:{step.name}"
    if (
        step.target == "principal"
    ):  # rides on the file that names it: its domain's admin, its product's publish
        return ("admin" if step.scope.startswith("domain:") else "publish"), step.scope
    address = step.detail if step.target == "storage" else step.name
    return ("admin" if step.action == "remove" else "publish"), address


def ensure_registered(ctx: Context, product: Product) -> None:
    """Publishing a product that was never applied registers it (and its domain) first."""
    row = ctx.catalog.product_row(product.address)
    uri = ctx.table_uri(product)
    if row is not None and row["hash"] == _product_digest(product, uri) and not row["retired"]:
        return
    domain = ctx.spec.domain(product.domain)
    with ctx.catalog.transaction() as conn:
        if domain is not None:
            doc = _domain_doc(domain)
            cat.register_domain(conn, domain, doc, _digest(doc))
        _register(ctx, conn, product)
