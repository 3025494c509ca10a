"""A one-line progress bar on a terminal's stderr, for work that takes more than a second.

``stderr_bar(what)`` returns ``progress(done, total)`` or ``None`` when stderr is not a terminal (CI logs, pipes),
so callers pass it on as an optional callback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Progress = Callable[[float, float], None]


def stderr_bar(what: str, *, delay: float = 1.0) -> Progress | None:
    """``progress(done, total)`` drawing ``what [#####.....] 40%`` after the first ``delay`` seconds."""
    if not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def show(done: float, total: float) -> None:
        if time.monotonic() - start < delay and done < total:
            return
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r{what} [{'#' * filled}{'.' * (width - filled)}] {100 * done / max(total, 1):3.0f}%"
                         + ("\n" if done >= total else ""))
        sys.stderr.flush()

    return show
