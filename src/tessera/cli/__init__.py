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
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    if not getattr(args, "handler", None):
        build_parser(words).print_help()
        return 2
    if args.mesh is None:
        args.mesh = os.environ.get("TESSERA_MESH", ".")
    from tessera.cli.errors import run_handled

    if args.token is None:
        return run_handled(args)
    # --token acts like $TESSERA_TOKEN for this command (and any worker process it starts), then is unset
    before = os.environ.get("TESSERA_TOKEN")
    os.environ["TESSERA_TOKEN"] = args.token
    try:
        return run_handled(args)
    finally:
        if before is None:
            os.environ.pop("TESSERA_TOKEN", None)
        else:
            os.environ["TESSERA_TOKEN"] = before


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
