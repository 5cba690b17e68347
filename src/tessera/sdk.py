"""The SDK's one contract for a data consumer: what ``tessera.open(path)`` (a ``Mesh``) and
``tessera.open("http://...", token=...)`` (a ``RemoteMesh``) both offer, with the same types and the same errors.

    def revenue(mesh: MeshAPI) -> pa.Table:      # a mesh folder or a served mesh, alike
        return mesh.query("select country, sum(amount) from sales.orders group by country")

``MeshAPI`` and ``ProductAPI`` are ``typing.Protocol`` classes: mypy checks at the end of this module that both
implementations satisfy them, and ``tests/sdk/test_sdk.py`` runs one set of calls against a folder and a served mesh
(docs/architecture.md, SDK). Errors are the same classes on both sides (``tessera.problem_codec``).

Left out, and why:

- writes (``publish``, ``build``, ``apply``, ``plan``, ``repair``, ``erase``, ``test``, consumer registration):
  they stay with the mesh folder; a remote mesh refuses them with a clear error.
- ``as_principal=`` on ``read``/``query``: acting as someone else is for trusted local use; remotely the token
  is the principal.
- ``access``: both have one, but the local ``Access`` also manages principals, tokens and groups, which the
  REST API does not offer; the remote ``RemoteAccess`` covers requests, decisions, grants and the audit log.
- ``search`` filters (remote ``domain=``/``tag=``/``owner=``/``pii=``): the local search ranks every product;
  the Protocol has what both take.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from types import TracebackType

    import pyarrow as pa

    from tessera.model.contract import Contract
    from tessera.model.profile import VersionProfile
    from tessera.platform.governing.consumers import ConsumerList
    from tessera.platform.observability.lineage import LineageGraph
    from tessera.platform.observability.slo import SloSummary
    from tessera.platform.observability.usage import UsageReport

__all__ = ["SEARCH_HIT", "SHOWN", "MeshAPI", "ProductAPI"]

#: What a ``search`` hit holds on both sides.
SEARCH_HIT = (
    "address",
    "name",
    "domain",
    "description",
    "owner",
    "tags",
    "status",
    "contract_version",
    "score",
)
#: What ``show`` holds on both sides.
SHOWN = (
    "address", "name", "domain", "description", "owner", "tags", "status", "contract_version", "columns",
    "upstream", "downstream", "majors", "roles", "created_at", "updated_at",
)  # fmt: skip


@runtime_checkable
class ProductAPI(Protocol):
    """``mesh.product("sales.orders")``: one product's data and metadata, as the caller may see them."""

    @property
    def address(self) -> str: ...

    def read(
        self, version: str | int | None = None, *, columns: list[str] | None = None, limit: int | None = None
    ) -> pa.Table:
        """The latest version, or ``version`` (``"2.1.0"``, ``2``, ``"v17"``, ``"1/v3"``), masked and filtered."""
        ...

    @property
    def contract(self) -> Contract: ...

    @property
    def schema(self) -> dict[str, Any]: ...

    @property
    def sla(self) -> dict[str, Any]: ...

    def history(self) -> list[dict[str, Any]]: ...

    def quality(self, limit: int = 20) -> list[dict[str, Any]]: ...

    def lineage(self, version: str | None = None) -> dict[str, Any]: ...


@runtime_checkable
class MeshAPI(Protocol):
    """A mesh, for a data consumer: find products, read and query them, and what is known about them."""

    def product(self, address: str) -> ProductAPI: ...

    def read(self, address: str, *, columns: list[str] | None = None, limit: int | None = None) -> pa.Table:
        """A product version (``sales.orders``, ``sales.orders@v3``) as the caller may see it."""
        ...

    def query(self, sql: str) -> pa.Table:
        """One SELECT over products by address, masked and filtered for the caller."""
        ...

    def search(self, text: str, limit: int = 20, *, sort: str = "relevance") -> list[dict[str, Any]]:
        """Products ranked alike on both sides (``sort="popular"``: most used first); each hit has at least
        ``SEARCH_HIT`` (a local hit also carries the catalog row, a remote one ``pii``)."""
        ...

    def search_result(self, text: str, limit: int = 20, sort: str = "relevance") -> dict[str, Any]:
        """``{"results": [...], "corrections": {...}}``: the hits and the typo corrections made."""
        ...

    def show(self, address: str) -> dict[str, Any]:
        """The product's catalog entry: at least ``SHOWN``, with the same values on both sides (a local one
        also has storage details, a remote one its latest version and quality)."""
        ...

    def profiles(self, address: str, major: int | None = None) -> VersionProfile | None: ...

    def lineage(
        self, node: str, *, direction: str = "both", depth: int | None = None, as_of: str | None = None
    ) -> LineageGraph: ...

    def consumers(self, address: str) -> ConsumerList: ...

    def usage(self, address: str | None = None, since: Any = None) -> UsageReport:
        """Reads, queries, readers and rows read per product (readers' names for admins and owners only)."""
        ...

    def slo(self, address: str | None = None, *, window: str | None = None) -> SloSummary:
        """SLOs with error budgets over a rolling window; a remote one product's carry their daily series."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> MeshAPI: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


if TYPE_CHECKING:  # mypy holds both implementations to the contract, member by member
    from tessera.platform.mesh import Mesh
    from tessera.platform.product_handle import ProductHandle
    from tessera.remote import RemoteMesh, RemoteProduct

    def _local_mesh(mesh: Mesh) -> MeshAPI:
        return mesh

    def _local_product(handle: ProductHandle) -> ProductAPI:
        return handle

    def _remote_mesh(mesh: RemoteMesh) -> MeshAPI:
        return mesh

    def _remote_product(handle: RemoteProduct) -> ProductAPI:
        return handle
