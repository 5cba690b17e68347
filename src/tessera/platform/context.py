"""The pieces a use case works with, opened once per mesh: spec, catalog, table store, engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tessera.catalog import Catalog
from tessera.engine import Engine, create_engine
from tessera.errors import NotFoundError
from tessera.model.product import MeshSettings, MeshSpec, Product
from tessera.storage import TableStore, table_uri

__all__ = ["Context"]


@dataclass
class Context:
    root: Path
    actor: str = "local"
    _spec: MeshSpec | None = field(default=None, repr=False)

    @property
    def spec(self) -> MeshSpec:
        if self._spec is None:
            from tessera.spec import load_mesh

            self._spec = load_mesh(self.root)
        return self._spec

    def reload(self) -> None:
        self._spec = None

    def load_for_build(self) -> MeshSpec:
        """The mesh with products that close a cycle left out (``spec.broken`` says which and why), so a
        build can go on around them; every other problem still stops it."""
        if self._spec is None:
            from tessera.spec import load_mesh

            self._spec = load_mesh(self.root, partial=True)
        return self._spec

    @cached_property
    def settings(self) -> MeshSettings:
        """``mesh.yaml`` alone when the products have not been loaded: reading the catalog needs no more."""
        if self._spec is not None:
            return self._spec.settings
        from tessera.spec import load_settings

        return load_settings(self.root)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog.open(self.settings.catalog_url)

    @cached_property
    def store(self) -> TableStore:
        return TableStore(self.settings.storage_options)

    def engine(self) -> Engine:
        return create_engine(self.settings.engine)

    def product(self, address: str) -> Product:
        product = self.spec.product(address)
        if product is None:
            known = ", ".join(p.address for p in self.spec.products[:20]) or "none"
            raise NotFoundError(f"no product {address!r} in this mesh (known: {known})")
        return product

    def table_uri(self, product: Product, major: int | None = None) -> str:
        return table_uri(self.settings.storage, product.domain, product.name, major or product.contract.major)

    def close(self) -> None:
        if "catalog" in self.__dict__:
            self.catalog.close()
