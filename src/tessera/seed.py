"""The seed pattern's classes: ``DataDomain``, ``DataProduct``, ``DataProductInterface``."""

from tessera.platform.publishing.seed import DataDomain, DataProduct, DataProductInterface  # noqa: TID251

__all__ = ["DataDomain", "DataProduct", "DataProductInterface"]
