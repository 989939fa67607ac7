"""Running several policies over one workload, with an optional progress bar."""

from __future__ import annotations

from collections.abc import Sequence

from config.fleet import Fleet

from .policies import make_policy
from .simulator import Component, RunResult, simulate
from .traffic import workload


def replay(
    fleet: Fleet,
    trace: str,
    policies: Sequence[str],
    *,
    seed: int = 0,
    load: float = 1.0,
    duration_s: float | None = None,
    endpoint: str | None = None,
    model: str | None = None,
    progress: bool = False,
) -> list[RunResult]:
    """Simulate ``trace`` under each of ``policies`` (same component, same requests)."""
    component = Component.from_fleet(fleet, endpoint, model)
    w = workload(trace, seed=seed, duration_s=duration_s, load=load)
    makers = [make_policy(name) for name in policies]  # unknown names fail before any work
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=round(w.duration_s * len(makers)), unit="sim-s", leave=False)
    results = []
    try:
        for policy in makers:
            if bar is not None:
                bar.set_description(policy.name)
            results.append(
                simulate(component, w, policy, progress=None if bar is None else bar.update)
            )
    finally:
        if bar is not None:
            bar.close()
    return results
