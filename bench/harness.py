"""What every benchmark's command line shares: running ``main`` and stopping on Ctrl-C."""

from __future__ import annotations

import sys
from collections.abc import Callable


def run_main(main: Callable[[], int], interrupted: str = "interrupted") -> None:
    """Exit with ``main()``'s status; on Ctrl-C say ``interrupted`` and exit 130 (128 + SIGINT)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(130)
