"""The copy speed model lives in ``config.serving`` (the synth sizes copies for the SLO with it,
and the configuration may not import the simulator). This module keeps the old import path
working for code that still uses it; new code imports ``config.serving``."""

from config.serving import (
    PUBLISHED,
    TOLERANCE,
    CopySpeed,
    Published,
    batch1_rates,
    copy_speed,
)

__all__ = ["PUBLISHED", "TOLERANCE", "CopySpeed", "Published", "batch1_rates", "copy_speed"]
