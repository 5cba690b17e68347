"""``python -m tessera``: the command line, as ``tessera``."""

import sys

from tessera.cli import main

sys.exit(main())
