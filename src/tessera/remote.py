"""``tessera.open("http://host:8080", token=...)``: a mesh served by ``tessera serve``, read like a local one.

``RemoteMesh`` offers the SDK's reads over the REST API: ``product(address)`` (``read`` as Arrow through the
Arrow IPC stream, ``contract``, ``schema``, ``sla``, ``history``, ``quality``, ``lineage``), ``read``, ``query``,
``search``, ``show``, ``profiles``, ``lineage``, ``consumers``, ``usage``, ``slo`` and ``access`` (requests,
decisions, grants, audit), returning the local SDK's types: both satisfy ``tessera.sdk.MeshAPI``. What only the
mesh folder can do (publish, build, apply, ...) raises a ``TesseraError`` saying so. The server's problem+json
errors come back as the matching ``TesseraError`` subclasses (``tessera.problem_codec``); the server decides
what the token may see, exactly as it does for any client.
Needs ``httpx`` (``pip install 'tessera[remote]'``)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from tessera import errors as e
from tessera.access.model import AccessRequest, Grant
from tessera.model.address import Address
from tessera.problem_codec import from_problem

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

    from tessera.model.contract import Contract
    from tessera.model.profile import VersionProfile
    from tessera.platform.governing.consumers import ConsumerList
    from tessera.platform.observability.lineage import LineageGraph
    from tessera.platform.observability.slo import SloSummary
    from tessera.platform.observability.usage import UsageReport

__all__ = ["RemoteAccess", "RemoteMesh", "RemoteProduct"]

_T = TypeVar("_T")


def _error(response: httpx.Response) -> e.TesseraError:
    """The server's problem+json as the TesseraError it stands for (``tessera.problem_codec``)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    return from_problem(
        response.status_code,
        body,
        response.request.url.host,
        url=str(response.url),
        fallback_detail=response.reason_phrase,
    )


def _build(cls: type[_T], data: dict[str, Any]) -> _T:
    """A frozen model dataclass from its JSON form (ISO timestamps back to datetimes)."""
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            value = data[f.name]
            if isinstance(value, str) and f.name.endswith("_at"):
                value = datetime.fromisoformat(value.replace("Z", "+00:00"))
            values[f.name] = value
    return cls(**values)


def _dated(value: Any) -> Any:
    """JSON as the local SDK returns it: every ``*_at`` ISO timestamp, at any depth, back to a datetime."""
    if isinstance(value, list):
        return [_dated(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: datetime.fromisoformat(item.replace("Z", "+00:00"))
        if key.endswith("_at") and isinstance(item, str)
        else _dated(item)
        for key, item in value.items()
    }


class _Chunks(io.RawIOBase):
    """A response body as a file, so Arrow reads the IPC stream batch by batch as it arrives."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class RemoteMesh:
    """A mesh behind ``tessera serve``. ``token`` (else ``$TESSERA_TOKEN``) is sent as a bearer token."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        try:
            import httpx
        except ModuleNotFoundError:  # pragma: no cover - depends on the installation
            raise e.TesseraError("a remote mesh needs httpx: pip install 'tessera[remote]'") from None
        self.url = url.rstrip("/")
        token = token or os.environ.get("TESSERA_TOKEN") or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return f"RemoteMesh({self.url!r})"

    # -- transport ---------------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise e.TransientError(f"cannot reach the mesh at {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._send(method, path, **kwargs).json()

    def _arrow(self, method: str, path: str, **kwargs: Any) -> pa.Table:
        import httpx
        import pyarrow as pa

        try:
            with self._http.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                with pa.ipc.open_stream(io.BufferedReader(_Chunks(response.iter_bytes()))) as reader:
                    return reader.read_all()
        except httpx.HTTPError as exc:
            raise e.TransientError(f"cannot reach the mesh at {self.url}: {exc}") from None

    # -- reads -------------------------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The mesh's name and who the server takes the caller for."""
        result: dict[str, Any] = self._json("GET", "/")
        return result

    def product(self, address: str) -> RemoteProduct:
        return RemoteProduct(self, address)

    def profiles(self, address: str, major: int | None = None) -> VersionProfile | None:
        """Column profiles of the newest version, as ``Mesh.profiles`` (values only for readers of every row)."""
        from tessera.model.profile import VersionProfile

        params = {"major": major} if major is not None else {}
        found = self._json("GET", f"{RemoteProduct(self, address)._path}/profiles", params=params)
        return None if found is None else VersionProfile.from_dict(found)

    def read(
        self,
        address: str,
        *,
        columns: list[str] | None = None,
        limit: int | None = None,
        as_principal: str | None = None,
    ) -> pa.Table:
        """A product version (``sales.orders``, ``sales.orders@v3``) as the token's principal may see it."""
        if as_principal is not None:
            self._unsupported("reading as another principal (as_principal)")
        parsed = Address.parse(address)
        return self.product(parsed.name).read(parsed.selector, columns=columns, limit=limit)

    def query(self, sql: str, *, as_principal: str | None = None) -> pa.Table:
        """One SELECT over products by address, masked and filtered for the token's principal."""
        if as_principal is not None:
            self._unsupported("querying as another principal (as_principal)")
        return self._arrow("POST", "/query", json={"sql": sql, "format": "arrow"})

    def search(self, text: str, limit: int = 20, **filters: Any) -> list[dict[str, Any]]:
        """Ranked like ``tessera catalog search``; ``domain``, ``tag``, ``owner``, ``pii`` filter."""
        params = {"q": text, "limit": limit, **{k: v for k, v in filters.items() if v is not None}}
        result: list[dict[str, Any]] = self._json("GET", "/search", params=params)
        return result

    def search_result(self, text: str, limit: int = 20, sort: str = "relevance") -> dict[str, Any]:
        """``search``'s ``results`` and the ``corrections`` made for terms found in no product (as
        ``Mesh.search_result``), with the server's ``total`` and ``facets``."""
        params = {"q": text, "limit": limit, "sort": sort, "facets": True}
        result: dict[str, Any] = self._json("GET", "/search", params=params)
        return result

    def domains(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/domains")
        return result

    def show(self, address: str) -> dict[str, Any]:
        """The product's catalog page; its timestamps as datetimes, as ``Mesh.show`` returns them."""
        domain, product = Address.parse(address).name.split(".")
        result: dict[str, Any] = _dated(self._json("GET", f"/products/{domain}/{product}"))
        return result

    def consumers(self, address: str) -> ConsumerList:
        """Who relies on ``address`` and on what (``Mesh.consumers``)."""
        from tessera.platform.governing.consumers import listed_from_dict

        domain, product = Address.parse(address).name.split(".")
        return listed_from_dict(self._json("GET", f"/products/{domain}/{product}/consumers"))

    def lineage(
        self, node: str, *, direction: str = "both", depth: int | None = None, as_of: str | None = None
    ) -> LineageGraph:
        """The lineage graph around a product or one of its columns (``sales.orders.amount``)."""
        from tessera.platform.observability.lineage import LineageGraph

        parts = node.split(".")
        if len(parts) not in (2, 3):
            raise e.AddressError(f"{node!r}: expected DOMAIN.PRODUCT or DOMAIN.PRODUCT.COLUMN")
        params: dict[str, Any] = {"direction": direction}
        if len(parts) == 3:
            params["column"] = parts[2]
        if depth is not None:
            params["depth"] = depth
        if as_of is not None:
            params["as_of"] = as_of
        data = self._json("GET", f"/products/{parts[0]}/{parts[1]}/lineage", params=params)
        return LineageGraph(
            data["root"],
            data["level"],
            set(data["nodes"]),
            {(edge["from"], edge["to"], edge["kind"]) for edge in data["edges"]},
        )

    def usage(self, address: str | None = None, since: Any = None) -> UsageReport:
        """``Mesh.usage``: the ``UsageReport`` the server counted for the token's principal."""
        from tessera.platform.observability.usage import report_from_dict

        params = {"since": since.isoformat() if isinstance(since, datetime) else since} if since else {}
        path = "/usage"
        if address is not None:
            domain, product = Address.parse(address).name.split(".")
            path = f"/products/{domain}/{product}/usage"
        return report_from_dict(self._json("GET", path, params=params))

    def status(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json("GET", "/status")
        return result

    def slo(self, address: str | None = None, *, window: str | None = None) -> SloSummary:
        """SLOs with error budgets, as ``Mesh.slo``; one product's carry their daily series (``series=True``)."""
        from tessera.platform.observability.slo import summary_from_dict

        params = {"window": window} if window else {}
        path = "/slo"
        if address is not None:
            domain, product = Address.parse(address).name.split(".")
            path = f"/products/{domain}/{product}/slo"
        return summary_from_dict(self._json("GET", path, params=params))

    @property
    def access(self) -> RemoteAccess:
        return RemoteAccess(self)

    # -- what only the mesh folder can do ----------------------------------------------------------------------
    def _unsupported(self, what: str) -> NoReturn:
        raise e.TesseraError(
            f"{what} is not available on a remote mesh ({self.url}); run it where the mesh folder is, "
            "e.g. with the tessera CLI there"
        )

    def publish(self, address: str, data: Any) -> NoReturn:
        self._unsupported("publishing")

    def build(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._unsupported("building")

    def apply(self) -> NoReturn:
        self._unsupported("apply")

    def plan(self) -> NoReturn:
        self._unsupported("plan")

    def validate(self) -> NoReturn:
        self._unsupported("validate")

    def test(self, address: str, data: Any | None = None) -> NoReturn:
        self._unsupported("testing a product")

    def repair(self) -> NoReturn:
        self._unsupported("repair")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteMesh:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RemoteProduct:
    """``mesh.product("sales.orders")`` on a remote mesh: the same reads as a local ``ProductHandle``."""

    def __init__(self, mesh: RemoteMesh, address: str) -> None:
        parsed = Address.parse(address)
        if parsed.selector is not None:
            raise e.AddressError(f"{address}: name the product here and the version in read(version=...)")
        self.mesh = mesh
        self.address = parsed.name
        self._path = f"/products/{parsed.domain}/{parsed.product}"

    def __repr__(self) -> str:
        return f"<remote product {self.address}>"

    def read(
        self, version: str | int | None = None, *, columns: list[str] | None = None, limit: int | None = None
    ) -> pa.Table:
        """The latest version, or ``version`` (``"2.1.0"``, ``2``, ``"v17"``, ``"1/v3"``), as Arrow."""
        params: dict[str, Any] = {"format": "arrow"}
        if version not in (None, "latest"):
            params["version"] = str(version)
        if columns:
            params["columns"] = ",".join(columns)
        if limit is not None:
            params["limit"] = limit
        return self.mesh._arrow("GET", f"{self._path}/data", params=params)

    @property
    def schema(self) -> dict[str, Any]:
        result: dict[str, Any] = self.mesh._json("GET", f"{self._path}/schema")
        return result

    @property
    def sla(self) -> dict[str, Any]:
        result: dict[str, Any] = self.mesh._json("GET", f"{self._path}/sla")
        return result

    @property
    def contract(self) -> Contract:
        """The product's contract as the mesh folder declares it: the server's ODCS document, parsed into the
        same ``Contract`` a local handle returns (its ``path`` is the URL it came from)."""
        from tessera.spec.contract import parse_contract

        document = self.mesh._json("GET", f"{self._path}/contract", params={"format": "json"})
        return parse_contract(document, path=f"{self.mesh.url}/api/v1{self._path}/contract")

    def history(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.mesh._json("GET", f"{self._path}/versions")
        return result

    def quality(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest quality runs, timestamps as datetimes (as a local handle returns them)."""
        result: list[dict[str, Any]] = _dated(
            self.mesh._json("GET", f"{self._path}/quality", params={"limit": limit})
        )
        return result

    def lineage(self, version: str | None = None) -> dict[str, Any]:
        """Upstream and downstream products, and the column edges of the newest version (or ``version``)."""
        params = {"as_of": version} if version else {}
        result: dict[str, Any] = self.mesh._json("GET", f"{self._path}/lineage/summary", params=params)
        return result

    # The seed's DataProductInterface names.
    def get_schema(self) -> dict[str, Any]:
        return self.schema

    def get_sla(self) -> dict[str, Any]:
        return self.sla

    def get_lineage(self) -> dict[str, Any]:
        return self.lineage()


class RemoteAccess:
    """``mesh.access`` on a remote mesh: access requests and decisions, grants, the audit log."""

    def __init__(self, mesh: RemoteMesh) -> None:
        self.mesh = mesh

    def request_access(
        self, address: str, purpose: str, principal: str | None = None
    ) -> tuple[AccessRequest, bool]:
        body = {"product": address, "purpose": purpose, "principal": principal}
        data = self.mesh._json("POST", "/access-requests", json=body)
        return _build(AccessRequest, data), bool(data["created"])

    def requests(self, status: str = "pending", address: str | None = None) -> list[AccessRequest]:
        params = {"status": status, **({"product": address} if address else {})}
        return [_build(AccessRequest, r) for r in self.mesh._json("GET", "/access-requests", params=params)]

    def approve(
        self,
        request_id: int,
        *,
        expires_days: int | None = None,
        row_filter: str | None = None,
        reason: str | None = None,
    ) -> tuple[AccessRequest, Grant]:
        body = {"expires_days": expires_days, "row_filter": row_filter, "reason": reason}
        data = self.mesh._json("POST", f"/access-requests/{int(request_id)}/approve", json=body)
        return _build(AccessRequest, data["request"]), _build(Grant, data["grant"])

    def reject(self, request_id: int, reason: str | None = None) -> AccessRequest:
        data = self.mesh._json("POST", f"/access-requests/{int(request_id)}/reject", json={"reason": reason})
        return _build(AccessRequest, data)

    def grants(
        self, *, principal: str | None = None, scope: str | None = None, include_inactive: bool = False
    ) -> list[Grant]:
        params: dict[str, Any] = {"all": include_inactive}
        params.update({k: v for k, v in (("principal", principal), ("scope", scope)) if v})
        return [_build(Grant, g) for g in self.mesh._json("GET", "/grants", params=params)]

    def grant(
        self,
        privilege: str,
        scope: str,
        principal: str,
        *,
        row_filter: str | None = None,
        clearance: bool = False,
        expires_days: int | None = None,
    ) -> tuple[Grant, bool]:
        body = {
            "privilege": privilege,
            "scope": scope,
            "principal": principal,
            "row_filter": row_filter,
            "clearance": clearance,
            "expires_days": expires_days,
        }
        data = self.mesh._json("POST", "/grants", json=body)
        return _build(Grant, data), bool(data["created"])

    def revoke(self, grant_id: int) -> Grant:
        return _build(Grant, self.mesh._json("DELETE", f"/grants/{int(grant_id)}"))

    def audit(self, since: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **({"since": since} if since else {})}
        result: list[dict[str, Any]] = self.mesh._json("GET", "/audit", params=params)
        return result
