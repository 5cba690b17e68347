"""A mesh with one broken product file still loads into Dagster, as ``tessera build`` still builds around it:
the broken product is an asset whose materialisation fails with the file:line problem, what reads it does not
build, and the rest of the mesh materialises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tessera.scaffold import write_example_mesh

dg = pytest.importorskip(
    "dagster", reason="dagster is not installed: pip install -e '.[dagster]' (CI has it)"
)

from tessera.integrations.dagster import asset_key, definitions  # noqa: E402


def test_a_broken_product_fails_its_asset_and_the_rest_still_loads_and_builds(tmp_path: Path) -> None:
    root = tmp_path / "example"
    write_example_mesh(root, scale=0.05)
    product_file = root / "domains/finance/products/revenue/product.odps.yaml"
    with product_file.open("a") as out:
        out.write("this: [is not closed\n")

    defs = definitions(root)  # before: SpecError, and with it every asset of the mesh gone from Dagster

    revenue = asset_key("finance.revenue")
    assert revenue in {a.key for a in defs.resolve_asset_graph().asset_nodes}
    result = dg.materialize(list(defs.assets or []), raise_on_error=False)
    assert not result.success
    failures = {f.step_key: f for f in result.get_step_failure_events()}
    [failure] = failures.values()
    assert failure.step_key == revenue.to_python_identifier()
    message = failure.step_failure_data.user_failure_data.description
    assert re.search(r"domains/finance/products/revenue/product\.odps\.yaml:\d+: malformed YAML", message)
    built = {m.asset_key for m in result.get_asset_materialization_events()}
    assert asset_key("sales.orders") in built and revenue not in built
