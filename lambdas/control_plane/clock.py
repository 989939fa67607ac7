"""The control plane's one clock: wall time in Lambda, simulated time in tests and the demo."""

from __future__ import annotations

import time
from collections.abc import Callable

_source: Callable[[], float] = time.time


def now() -> float:
    """Seconds since the epoch, from the current source."""
    return _source()


def set_source(source: Callable[[], float] | None) -> None:
    """Read time from ``source`` (``None``: back to wall time)."""
    global _source
    _source = source or time.time
