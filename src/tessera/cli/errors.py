"""One place that turns errors into a message and an exit code: no traceback for a user's mistake."""

from __future__ import annotations

import argparse
import sys
import warnings

__all__ = ["run_handled"]


def run_handled(args: argparse.Namespace) -> int:
    from tessera.cli.render import plain
    from tessera.errors import TesseraError

    def show_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"warning: {plain(message)}", file=sys.stderr)

    warnings.showwarning = show_warning
    try:
        code = args.handler(args)
        return int(code or 0)
    except TesseraError as exc:
        print(f"error: {plain(exc)}", file=sys.stderr)  # messages quote names and texts others wrote
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
