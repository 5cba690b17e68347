"""Policy evaluation on 1,000 products (issue 4, item 3: <= 2 s), every figure measured in this run.

The mesh is ``scale_mesh``'s 1,000 generated SQL products; the policies are the built-in library plus two of
the mesh's own (a global one with a ``match`` and a ``messageExpression``, and a domain one). Measured:

* building the 1,000 product documents (the catalog's facts read once) and evaluating every policy on each:
  the figure judged against the target;
* ``tessera govern``'s use case in process (documents, evaluation, the audit entry);
* the same expressions with ``cel-python`` (``celpy``) when it is installed, for the choice of engine.

    /work/venv/bin/python bench/bench_policies.py [--products N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from scale_mesh import make_scale_mesh  # noqa: E402

TARGET = 2.0

GLOBAL_POLICY = """\
name: keys_and_docs
description: keyed tables name their key; every column of a production product is described
match: "product.status == 'active'"
rules:
  - id: key_declared
    severity: warning
    expression: "size(contract.primaryKey) > 0 || !columns.exists(c, c.unique)"
    message: a unique column is not declared as the primary key
  - id: columns_described
    severity: info
    expression: "columns.all(c, c.description != null)"
    messageExpression: "'undescribed: ' + columns.filter(c, c.description == null).map(c, c.name).join(', ')"
"""

DOMAIN_POLICY = """\
name: sales_tags
description: sales products are tagged with their domain
rules:
  - id: domain_tag
    severity: error
    expression: "product.domain in product.tags"
    message: tag the product with its domain
"""


def _best(n: int, fn: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _celpy(policies: Any, documents: list[dict[str, Any]]) -> float | None:
    try:
        import celpy
        from celpy import celtypes
    except ImportError:
        return None
    env = celpy.Environment()
    programs = []
    for policy in policies.policies:
        for rule in policy.rules:
            programs.append(env.program(env.compile(rule.expression)))
    activations = [{k: celpy.json_to_cel(v) for k, v in d.items()} for d in documents]

    def run() -> int:
        count = 0
        for activation in activations:
            for program in programs:
                try:
                    count += program.evaluate(activation) is celtypes.BoolType(True)
                except Exception:
                    count += 0
        return count

    seconds, _ = _best(3, run)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build the mesh here and keep it")
    args = parser.parse_args()

    if args.keep:
        run(args.keep, args.products)
        return
    scratch = Path(tempfile.mkdtemp(prefix="tessera-bench-policies-"))
    try:
        run(scratch / "mesh", args.products)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(root: Path, products_wanted: int) -> None:
    if not (root / "mesh.yaml").exists():
        start = time.perf_counter()
        make_scale_mesh(root, products=products_wanted, rows=100)
        print(f"generated {products_wanted} products in {time.perf_counter() - start:.1f} s ({root})")
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies/keys_and_docs.yaml").write_text(GLOBAL_POLICY)
    (root / "domains/sales/policies").mkdir(parents=True, exist_ok=True)
    (root / "domains/sales/policies/sales_tags.yaml").write_text(DOMAIN_POLICY)

    import tessera
    from tessera.governance import CatalogFacts, evaluate, load_policies, product_document
    from tessera.platform.governing.govern import govern

    with tessera.open(root) as mesh:
        ctx = mesh.ctx
        spec = ctx.spec
        products = spec.products
        compile_s, policies = _best(1, lambda: load_policies(root, ()))
        rules = sum(len(p.rules) for p in policies.policies)

        def documents() -> list[dict[str, Any]]:
            facts = CatalogFacts.load(ctx.catalog)
            return [product_document(p, spec.domain(p.domain), spec.settings, facts) for p in products]

        def evaluate_all(docs: list[dict[str, Any]]) -> int:
            return sum(len(evaluate(policies, d)) for d in docs)

        docs_s, docs = _best(3, documents)
        eval_s, violations = _best(3, lambda: evaluate_all(docs))
        total = docs_s + eval_s
        govern_s, report = _best(3, lambda: govern(ctx))

    n = len(products)
    print(
        f"policies: {len(policies.policies)} ({rules} rules) compiled in {compile_s * 1000:.0f} ms; "
        f"{violations} violations on {n} products"
    )
    print(f"  product documents: {docs_s:.3f} s ({docs_s / n * 1000:.3f} ms a product)")
    print(f"  evaluation:        {eval_s:.3f} s ({eval_s / n * 1000:.3f} ms a product)")
    print(f"  govern use case:   {govern_s:.3f} s ({report.counts})")
    celpy_s = _celpy(policies, docs)
    if celpy_s is None:
        print("  cel-python: not installed (pip install cel-python to compare); skipped")
    else:
        print(f"  cel-python, the same rules: {celpy_s:.3f} s ({celpy_s / eval_s:.1f}x the cel evaluation)")
    verdict = "OK" if total <= TARGET else "MISSED"
    print(
        f"policy evaluation on {n} products: {total:.3f} s ({total / n * 1000:.3f} ms a product, "
        f"documents + every rule) - target <= {TARGET:.0f} s: {verdict}"
    )


if __name__ == "__main__":
    main()
