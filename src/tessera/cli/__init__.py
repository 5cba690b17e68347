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

    # --token acts like $TESSERA_TOKEN, --no-index like $TESSERA_NO_INDEX=1, for this command (and any worker
    # process it starts), then are unset
    overrides = {"TESSERA_TOKEN": args.token, "TESSERA_NO_INDEX": "1" if args.no_index else None}
    before = {name: os.environ.get(name) for name, value in overrides.items() if value is not None}
    os.environ.update({name: value for name, value in overrides.items() if value is not None})
    try:
        return run_handled(args)
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
