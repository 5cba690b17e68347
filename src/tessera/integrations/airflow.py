"""Apache Airflow: build a mesh's products from a DAG, through the same gates as ``tessera build``
(docs/orchestrators.md, Airflow).

``TesseraBuildOperator`` builds a selection in the task's process (the publish path of docs/architecture.md:
quality, governance and version gates, then one Delta commit). A product a gate refuses fails the task with
the gate's message (product, rule, column) and is never retried: a retry would be refused the same way. Other
failures raise ``AirflowException`` and follow the task's retries. The task's XCom is a summary of what it
built. ``dag_from_mesh`` makes one DAG of a mesh: a task per product with a transform, wired by input ports,
run at the products' schedules put together (``tessera.integrations.due``). Where the OpenLineage provider is
installed, a task reports its inputs and outputs named as Tessera's own lineage events name them.

Needs Apache Airflow 3.1 or later (``pip install 'tessera[airflow]'``); the rest of Tessera never imports it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tessera
from tessera.errors import TesseraError
from tessera.integrations.due import combined_crons, is_due

try:
    from airflow.sdk import DAG, BaseOperator

    try:  # Airflow 3.2+; 3.1 has them only in airflow.exceptions, deprecated since
        from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
    except ImportError:
        from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError as exc:  # pragma: no cover - exercised where Airflow is missing
    raise TesseraError(
        f"tessera.integrations.airflow needs Apache Airflow 3.1 or later: pip install 'tessera[airflow]' ({exc})"
    ) from None

if TYPE_CHECKING:
    from tessera.model.product import Product

__all__ = ["TesseraBuildOperator", "dag_from_mesh"]

#: Outcomes of ``Mesh.build`` that count as built (the product's latest version is what its code makes).
_BUILT = frozenset({"published", "unchanged"})
#: Run types that follow the DAG's schedule; any other (manual, asset-triggered) builds every product.
_SCHEDULED_RUNS = frozenset({"scheduled", "backfill"})
#: A fixed default start: a DAG's start date should not move each time its file is parsed.
_DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


class TesseraBuildOperator(BaseOperator):  # type: ignore[misc]
    """Build the products ``selector`` names (an address or a selector such as ``sales.orders+``,
    ``domain:sales``, ``tag:pii``; or a list of them) in the mesh at ``mesh_path``.

    ``full_refresh`` rebuilds products whose code and inputs are unchanged; ``token`` (else ``$TESSERA_TOKEN``)
    acts as that principal on a mesh that enforces access; ``jobs`` bounds the build's worker processes. With
    ``only_when_due`` (set by ``dag_from_mesh``) a scheduled run skips the product unless it is due."""

    template_fields: Sequence[str] = ("selector", "mesh_path")
    ui_color = "#dbe9f6"

    def __init__(
        self,
        *,
        selector: str | Sequence[str],
        mesh_path: str | Path,
        full_refresh: bool = False,
        token: str | None = None,
        jobs: int | None = None,
        only_when_due: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.selector = selector
        self.mesh_path = str(mesh_path)
        self.full_refresh = full_refresh
        self.token = token
        self.jobs = jobs
        self.only_when_due = only_when_due
        self._lineage: tuple[str, list[str], list[str]] | None = None  # namespace, inputs, outputs

    @property
    def selectors(self) -> list[str]:
        return [self.selector] if isinstance(self.selector, str) else list(self.selector)

    def execute(self, context: Mapping[str, Any]) -> dict[str, Any]:
        try:
            with tessera.open(Path(self.mesh_path), token=self.token) as mesh:
                if self.only_when_due:
                    self._skip_unless_due(mesh, context)
                outcomes = mesh.build(self.selectors, full_refresh=self.full_refresh, jobs=self.jobs)
                built = [o.address for o in outcomes if o.status in _BUILT]
                self._lineage = _datasets(mesh, built)
        except TesseraError as exc:  # a wrong selector or mesh: the user's mistake, said once, not retried
            raise AirflowFailException(str(exc)) from None
        products = []
        for outcome in outcomes:
            first = outcome.message.splitlines()[0] if outcome.message else ""
            self.log.info("%s %s %s", outcome.address, outcome.status, first)
            products.append(_summary(outcome))
        refused = [o.message for o in outcomes if o.status == "refused"]
        failed = [o.message for o in outcomes if o.status == "failed"]
        if refused:
            raise AirflowFailException("\n\n".join(refused + failed))
        if failed:
            raise AirflowException("\n\n".join(failed))
        return {"mesh": self.mesh_path, "built": bool(built), "products": products}

    def _skip_unless_due(self, mesh: tessera.Mesh, context: Mapping[str, Any]) -> None:
        """In a scheduled run, skip a product that is not due (``tessera.integrations.due``)."""
        dag_run = context.get("dag_run")
        run_type = str(getattr(getattr(dag_run, "run_type", None), "value", getattr(dag_run, "run_type", "")))
        at = context.get("logical_date") or getattr(dag_run, "run_after", None)
        upstream = sorted(self.upstream_task_ids)
        pulled = context["ti"].xcom_pull(task_ids=upstream) if upstream else []
        summaries = pulled if isinstance(pulled, list) else [pulled]
        upstream_built = any(isinstance(s, dict) and s.get("built") for s in summaries)
        for address in self.selectors:
            product = mesh.spec.product(address)
            if product is None or is_due(
                product, at, upstream_built=upstream_built, manual=run_type not in _SCHEDULED_RUNS
            ):
                return
        raise AirflowSkipException(
            f"{', '.join(self.selectors)}: not due at {at} and nothing it reads was built"
        )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs and outputs of what this task built, for Airflow's OpenLineage provider: the same namespace
        and dataset names as Tessera's own events (``tessera.platform.observability.events``), so the graphs join."""
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset

        if self._lineage is None:
            return OperatorLineage()
        namespace, inputs, outputs = self._lineage
        return OperatorLineage(
            inputs=[Dataset(namespace=namespace, name=name) for name in inputs],
            outputs=[Dataset(namespace=namespace, name=name) for name in outputs],
        )


def _summary(outcome: Any) -> dict[str, Any]:
    """One product's entry in the task's XCom."""
    entry: dict[str, Any] = {"address": outcome.address, "status": outcome.status}
    result = outcome.result
    if result is not None:
        return entry | {
            "release": f"{result.address}@v{result.delta_version}",
            "major": result.major,
            "version": result.delta_version,
            "contract_version": result.contract_version,
            "rows": result.rows,
        }
    return entry | ({"message": outcome.message} if outcome.message else {})


def _datasets(mesh: tessera.Mesh, built: list[str]) -> tuple[str, list[str], list[str]]:
    """The lineage namespace, what the built products read (products and sources) and the built products."""
    from tessera.lineage.openlineage import mesh_namespace

    inputs: dict[str, None] = {}
    for address in built:
        product = mesh.spec.product(address)
        for port in product.input_ports if product is not None else ():
            inputs.setdefault(port.address)
    settings = mesh.spec.settings
    return mesh_namespace(settings.name, settings.lineage), list(inputs), built


def _dag_schedule(products: Sequence[Product]) -> Any:
    from airflow.timetables.trigger import CronTriggerTimetable, MultipleCronTriggerTimetable

    crons = combined_crons(products)
    if not crons:
        return None
    if len(crons) == 1:
        return CronTriggerTimetable(crons[0], timezone="UTC")
    return MultipleCronTriggerTimetable(*crons, timezone="UTC")


def dag_from_mesh(
    mesh_path: str | Path,
    dag_id: str | None = None,
    schedule: Any = None,
    *,
    full_refresh: bool = False,
    token: str | None = None,
    task_kwargs: Mapping[str, Any] | None = None,
    **dag_kwargs: Any,
) -> DAG:
    """One DAG for the mesh at ``mesh_path``: a ``TesseraBuildOperator`` per product with a transform (task
    id = the product's address), each after the products it reads. ``schedule=None`` runs the DAG at the
    products' update frequencies put together and skips, in a scheduled run, the products that are not due
    (docs/orchestrators.md); any other value is Airflow's own ``schedule`` and every run builds every product.
    ``task_kwargs`` go to every task (``retries``, ``pool``...), ``dag_kwargs`` to the DAG."""
    root = Path(mesh_path).resolve()
    with tessera.open(root, token=token) as mesh:
        spec = mesh.spec
    products = [p for p in spec.products if p.transform is not None]  # pushed data is published elsewhere
    derived = schedule is None
    dag_kwargs.setdefault("start_date", _DEFAULT_START)
    dag_kwargs.setdefault("catchup", False)
    dag_kwargs.setdefault("tags", ["tessera"])
    dag_kwargs.setdefault("description", f"Tessera mesh {spec.settings.name}: {len(products)} products")
    dag = DAG(
        dag_id=dag_id or "tessera_" + re.sub(r"[^A-Za-z0-9_.-]", "_", spec.settings.name),
        schedule=_dag_schedule(products) if derived else schedule,
        **dag_kwargs,
    )
    tasks: dict[str, TesseraBuildOperator] = {}
    with dag:
        for product in products:
            tasks[product.address] = TesseraBuildOperator(
                task_id=product.address,
                selector=product.address,
                mesh_path=root,
                full_refresh=full_refresh,
                token=token,
                jobs=1,
                only_when_due=derived,
                # a product not due is skipped, and what reads it still runs; a failure stops what reads it
                trigger_rule="none_failed",
                **dict(task_kwargs or {}),
            )
    for product in products:
        for port in product.input_ports:
            if port.address in tasks:
                tasks[port.address] >> tasks[product.address]
    return dag
