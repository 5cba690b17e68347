"""A mesh as Dagster software-defined assets: ``definitions("path/to/mesh")`` returns ``dagster.Definitions``.

- One asset per product, keyed ``[domain, name]``, grouped by domain, depending on its input ports' products;
  source tables outside the mesh (``source.crm.customers``) and products whose data is pushed are external
  assets (Dagster shows them, Tessera's sources and publishers fill them).
- Materialising an asset runs Tessera's build of that product alone (``Mesh.orchestration.materialise``), so
  the contract, consumer, policy and version gates still decide. A refused build fails the asset with the
  gate's message, after reporting the refused run's checks.
- The asset checks are the product's gate checks (its contract's rules and its consumers' expectations),
  reported from the gate's run just done (or, when the build found the product up to date, the run of its
  current version); a ``severity: error`` check is blocking.
- Materialisation metadata: the release (``sales.orders@v3``), rows, quality outcome, contract version,
  owner; the data version is ``<major>.<delta version>``.
- A sensor, ``tessera_upstream_versions``, requests a run of the products downstream of any product that
  gets a new version in the catalog (pushed by ``tessera publish`` or built elsewhere); its cursor holds the
  versions last seen, and its first tick only records them.

Needs ``pip install 'tessera[dagster]'``; Tessera itself never imports Dagster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import TesseraError

if TYPE_CHECKING:
    import dagster as dg

    from tessera.model.results import Check
    from tessera.platform.publishing.orchestration import DeclaredCheck, ProductNode

__all__ = ["INSTALL_HINT", "SENSOR_NAME", "asset_key", "definitions"]

INSTALL_HINT = "the Dagster integration needs dagster: pip install 'tessera[dagster]'"
SENSOR_NAME = "tessera_upstream_versions"
ACTOR = "dagster"


def _dagster() -> Any:
    try:
        import dagster
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != "dagster":
            raise
        raise TesseraError(INSTALL_HINT) from None
    return dagster


def asset_key(address: str) -> dg.AssetKey:
    """``sales.orders`` → ``AssetKey(["sales", "orders"])``; ``source.crm.customers`` → three parts."""
    return _dagster().AssetKey(address.split("."))  # type: ignore[no-any-return]


def definitions(
    mesh_path: str | Path, *, token: str | None = None, sensor_interval: int = 60
) -> dg.Definitions:
    """The mesh at ``mesh_path`` as Dagster assets, asset checks and the upstream-versions sensor.

    Builds act as ``token``'s principal (else ``$TESSERA_TOKEN``; none: trusted local use, audited as
    ``dagster``), as ``tessera build`` would."""
    lib = _dagster()
    from tessera.platform import Mesh

    root = Path(mesh_path).resolve()
    with Mesh(root, actor=ACTOR, token=token) as mesh:
        nodes = mesh.orchestration.products()
    assets: list[Any] = []
    sources = sorted({s for n in nodes for s in n.sources})
    assets.extend(lib.AssetSpec(asset_key(s), group_name="sources", kinds={"tessera"}) for s in sources)
    for node in nodes:
        if node.buildable:
            assets.append(_asset(lib, root, token, node))
        else:
            assets.append(
                lib.AssetSpec(
                    asset_key(node.address),
                    deps=[asset_key(a) for a in (*node.inputs, *node.sources)],
                    description=node.description or None,
                    group_name=node.domain,
                    owners=_owners(node.owner),
                    metadata=_static_metadata(node),
                    kinds={"tessera", "delta"},
                )
            )
    watched = sorted({a for n in nodes for a in n.inputs})
    sensor = _sensor(lib, root, token, watched, sensor_interval, [n for n in nodes if n.buildable])
    defs: dg.Definitions = lib.Definitions(assets=assets, sensors=[sensor])
    return defs


def _owners(owner: str | None) -> list[str]:
    """Dagster takes owners as emails or ``team:<name>``."""
    if not owner:
        return []
    return [owner if "@" in owner or owner.startswith("team:") else f"team:{owner}"]


def _static_metadata(node: ProductNode) -> dict[str, Any]:
    return {
        "tessera/address": node.address,
        "contract_version": node.contract_version,
        **({"owner": node.owner} if node.owner else {}),
    }


def _asset(dg: Any, root: Path, token: str | None, node: ProductNode) -> Any:
    key = asset_key(node.address)
    specs = [
        dg.AssetCheckSpec(c.name, asset=key, blocking=c.severity == "error", description=c.description)
        for c in node.checks
    ]

    def _build(context: Any) -> Iterator[Any]:
        from tessera.platform import Mesh
        from tessera.platform.publishing.orchestration import BuildRefusedError

        with Mesh(root, actor=ACTOR, token=token) as mesh:
            try:
                done = mesh.orchestration.materialise(node.address)
            except BuildRefusedError as exc:
                yield from _results(dg, key, node.checks, exc.checks, complete=False)
                raise dg.Failure(description=str(exc), metadata={"status": exc.status}) from None
            except TesseraError as exc:  # the mesh does not load, the caller may not build it, …
                raise dg.Failure(description=str(exc), metadata={"status": "failed"}) from None
        context.log.info(f"{done.release}: {done.status} ({done.quality}) {done.message}".strip())
        yield from _results(dg, key, node.checks, done.checks, complete=True)
        yield dg.MaterializeResult(
            metadata={
                "version": done.release,
                "status": done.status,
                "quality": done.quality,
                "contract_version": done.contract_version,
                "checks": _tally(done.checks),
                **({"rows": done.rows} if done.rows is not None else {}),
                **({"owner": node.owner} if node.owner else {}),
            },
            data_version=dg.DataVersion(f"{done.major}.{done.delta_version}"),
        )

    _build.__annotations__["context"] = dg.AssetExecutionContext  # Dagster reads the hint at run time
    return dg.asset(
        key=key,
        deps=[asset_key(a) for a in (*node.inputs, *node.sources)],
        description=node.description or None,
        group_name=node.domain,
        owners=_owners(node.owner),
        metadata=_static_metadata(node),
        check_specs=specs,
        kinds={"tessera", "delta"},
    )(_build)


def _tally(checks: Sequence[Check]) -> str:
    passed = sum(c.outcome == "passed" for c in checks)
    return f"{passed} of {len(checks)} passed"


def _results(
    dg: Any, key: Any, declared: Sequence[DeclaredCheck], ran: Sequence[Check], *, complete: bool
) -> Iterator[Any]:
    """A result for each declared check the run judged; with ``complete``, a failed one for a declared check
    it did not judge (Dagster expects every declared check of a materialised asset)."""
    by_name = {c.name: c for c in ran}
    for spec in declared:
        check = by_name.get(spec.name)
        severity = dg.AssetCheckSeverity.ERROR if spec.severity == "error" else dg.AssetCheckSeverity.WARN
        if check is None:
            if complete:
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name=spec.name,
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    description="not judged by this build's gate run (the contract changed since loading?)",
                )
            continue
        metadata: dict[str, Any] = {"metric": check.metric, "outcome": check.outcome}
        if check.column:
            metadata["column"] = check.column
        if check.threshold:
            metadata["threshold"] = check.threshold
        if check.measured is not None:
            metadata["measured"] = float(check.measured)
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=spec.name,
            passed=check.outcome == "passed",
            severity=severity,
            description=check.message or None,
            metadata=metadata,
        )


def _sensor(
    dg: Any, root: Path, token: str | None, watched: list[str], interval: int, buildable: list[ProductNode]
) -> Any:
    targets = [asset_key(n.address) for n in buildable]

    def _upstream(context: Any) -> Any:
        from tessera.platform import Mesh

        with Mesh(root, actor=ACTOR, token=token) as mesh:
            current = mesh.orchestration.latest_versions(watched)
            seen: Mapping[str, str] | None = json.loads(context.cursor) if context.cursor else None
            changed = sorted(a for a, v in current.items() if seen is not None and seen.get(a) != v)
            downstream = mesh.orchestration.downstream(changed) if changed else []
        context.update_cursor(json.dumps(current, sort_keys=True))
        if seen is None:
            return dg.SkipReason(
                f"first tick: recorded the versions of {len(current)} upstream products; "
                "a new version from now on starts a run"
            )
        if not downstream:
            return dg.SkipReason("no upstream product has a new version")
        news = ", ".join(f"{a}@{current[a]}" for a in changed)
        return dg.RunRequest(
            run_key=news,
            asset_selection=[asset_key(a) for a in downstream],
            tags={"tessera/new_versions": news[:200]},
        )

    _upstream.__annotations__["context"] = dg.SensorEvaluationContext
    return dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval,
        asset_selection=dg.AssetSelection.assets(*targets) if targets else None,
        description="Runs the products downstream of a product that gets a new version in Tessera's catalog.",
    )(_upstream)
