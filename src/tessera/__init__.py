"""Tessera: a self-serve data mesh platform. Data products as code, contract-gated publishing to Delta Lake,
a catalog, and one SDK, CLI and API.

    >>> import tessera
    >>> mesh = tessera.open("example-mesh")
    >>> orders = mesh.product("sales.orders").read()
"""

from __future__ import annotations

from tessera.version import __version__

TYPE_CHECKING = False  # typing is not imported at runtime: `tessera --help` stays as quick as Python
if TYPE_CHECKING:
    from typing import overload
else:

    def overload(func: object) -> object:
        return func


if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from tessera.platform import Mesh
    from tessera.remote import RemoteMesh

__all__ = ["Mesh", "__version__", "open"]


@overload
def open(path_or_url: Path, *, actor: str = "local", token: str | None = None) -> Mesh: ...
@overload
def open(path_or_url: str, *, actor: str = "local", token: str | None = None) -> Mesh | RemoteMesh: ...  # noqa: F811
def open(path_or_url: str | Path, *, actor: str = "local", token: str | None = None) -> Mesh | RemoteMesh:  # noqa: F811
    """Open a mesh folder, or a mesh served by ``tessera serve`` (``http://host:8080``: a ``RemoteMesh``, read
    with the server's rules for the token). Embedded mode is trusted and single-user unless mesh.yaml sets
    ``access.enforce``; ``token`` (else ``$TESSERA_TOKEN``) acts as that token's principal, with its grants."""
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        from tessera.remote import RemoteMesh

        if actor != "local":
            from tessera.errors import TesseraError

            raise TesseraError("a remote mesh acts as its token's principal: pass token=, not actor=")
        return RemoteMesh(text, token=token)
    from tessera.platform import Mesh

    return Mesh(path_or_url, actor=actor, token=token)


def __getattr__(name: str) -> Any:
    if name == "Mesh":
        from tessera.platform import Mesh

        return Mesh
    raise AttributeError(name)
