"""Tessera: a self-serve data mesh platform. Data products as code, contract-gated publishing to Delta Lake,
a catalog, and one SDK, CLI and API.

    >>> import tessera
    >>> mesh = tessera.open("example-mesh")
    >>> orders = mesh.product("sales.orders").read()
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at runtime: `tessera --help` stays as quick as Python
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from tessera.platform import Mesh

__all__ = ["Mesh", "__version__", "open"]
__version__ = "0.1.0"


def open(path_or_url: str | Path, *, actor: str = "local", token: str | None = None) -> Mesh:
    """Open a mesh folder. Embedded mode is trusted and single-user unless mesh.yaml sets ``access.enforce``;
    ``token`` (else ``$TESSERA_TOKEN``) acts as that token's principal, with its grants."""
    from tessera.platform import Mesh

    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        from tessera.errors import NotImplementedYetError

        raise NotImplementedYetError(
            "remote meshes (tessera.open(URL)) need tessera serve, not available in this release"
        )
    return Mesh(path_or_url, actor=actor, token=token)


def __getattr__(name: str) -> Any:
    if name == "Mesh":
        from tessera.platform import Mesh

        return Mesh
    raise AttributeError(name)
