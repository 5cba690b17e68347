"""The ``tessera`` command: parse, call the platform, render. Heavy libraries load only in the command that
needs them, so ``tessera --help`` stays as quick as Python itself."""

from __future__ import annotations

import os
import sys

from tessera.cli.parser import build_parser

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    if args.mesh is None:
        args.mesh = os.environ.get("TESSERA_MESH", ".")
    from tessera.cli.errors import run_handled

    return run_handled(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
