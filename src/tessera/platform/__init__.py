"""The use cases (plan, apply, build, publish, read, query, test, repair) behind one facade: ``Mesh``."""

from tessera.platform.build import BuildOutcome
from tessera.platform.mesh import Mesh
from tessera.platform.product_handle import ProductHandle
from tessera.platform.provision import Plan, Step
from tessera.platform.publish import PublishResult
from tessera.platform.reading import DeprecatedVersionWarning, Release

__all__ = [
    "BuildOutcome",
    "DeprecatedVersionWarning",
    "Mesh",
    "Plan",
    "ProductHandle",
    "PublishResult",
    "Release",
    "Step",
]
