"""The CEL engine without its command line: ``cel`` (the common-expression-language package) imports its
interactive REPL from its ``__init__`` (typer, prompt_toolkit, pygments: ~0.3 s of imports), which no policy
evaluation uses. This module loads the package's compiled core and its function library only, and leaves a
``cel`` package in ``sys.modules`` that names what the real one exports, so a later ``import cel`` (or
``import cel.cli``) still works.

    from tessera.governance.celpy import cel, stdlib
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = ["cel", "stdlib"]


def _load() -> tuple[Any, Any]:
    package = sys.modules.get("cel")
    if package is None:
        spec = importlib.util.find_spec("cel")
        if spec is None or spec.submodule_search_locations is None:  # pragma: no cover - a dependency
            raise ModuleNotFoundError("the 'common-expression-language' package (cel) is not installed")
        package = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
        sys.modules["cel"] = package
        try:
            core = importlib.import_module("cel.cel")
            library = importlib.import_module("cel.stdlib")
        except BaseException:
            del sys.modules["cel"]
            raise
        for name in getattr(core, "__all__", ()):  # what `from .cel import *` gives the real package
            setattr(package, name, getattr(core, name))
        package.cel = core  # type: ignore[attr-defined]
        package.stdlib = library  # type: ignore[attr-defined]
    core = package.cel if isinstance(getattr(package, "cel", None), ModuleType) else package
    return core, importlib.import_module("cel.stdlib")


if TYPE_CHECKING:  # the real package's types
    import cel
    from cel import stdlib
else:
    cel, stdlib = _load()
