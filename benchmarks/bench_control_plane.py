"""Control-plane benchmark: decisions per second of the pure core, and handler import cost.

A Lambda cold start pays for every import, so each handler module's import time is measured in
a fresh interpreter and reported as a ratio to importing boto3 alone (which every handler
needs anyway). Median of several runs. Prints the figures and writes
benchmarks/results/control_plane.json.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdas.control_plane.decision import (  # noqa: E402
    History,
    ReadyTimes,
    ScalingSpec,
    Snapshot,
    Step,
    Trigger,
    decide,
)

REPEATS = 7
HANDLERS = ("control_plane.scaler", "control_plane.cache_tracker", "control_plane.cleanup")


def decisions_per_second(n: int = 200_000) -> float:
    spec = ScalingSpec(
        "ep",
        "c",
        1,
        64,
        8.0,
        60,
        (Step(0.0, 50), Step(0.5, 100), Step(1.0, 200)),
        4,
        2.0,
        300,
        1,
        10,
        1,
        1,
        64,
        ReadyTimes(30.0, 258.0, 525.0),
    )
    history = History(last_scale_out_at=0.0, last_scale_in_at=0.0)
    snaps = [
        Snapshot(
            trigger,
            True,
            float(v % 40),
            10,
            1 + v % 60,
            1 + v % 60,
            1.0,
            v % 3,
            v % 60,
            bool(v % 2),
        )
        for v in range(1000)
        for trigger in Trigger
    ]
    start = time.perf_counter()
    for i in range(n):
        decide(snaps[i % len(snaps)], spec, history, 10_000.0)
    return n / (time.perf_counter() - start)


def import_seconds(module: str) -> float:
    """Import time of ``module`` in a fresh interpreter with the Lambda asset root on the path."""
    code = (
        "import time, sys; sys.path.insert(0, 'lambdas'); t = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": "", "POWERTOOLS_SERVICE_NAME": "bench"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def median_import(module: str) -> float:
    return statistics.median(import_seconds(module) for _ in range(REPEATS))


def main() -> None:
    rate = decisions_per_second()
    boto3_s = median_import("boto3")
    handlers = {}
    for module in HANDLERS:
        seconds = median_import(module)
        handlers[module] = {
            "import_s": round(seconds, 4),
            "ratio_to_boto3": round(seconds / boto3_s, 2),
        }
    result = {
        "decisions_per_s": round(rate),
        "boto3_import_s": round(boto3_s, 4),
        "handlers": handlers,
        "repeats": REPEATS,
    }
    print(f"decide(): {rate:,.0f} decisions/s")
    print(f"import boto3 alone: {boto3_s * 1000:.0f} ms (median of {REPEATS})")
    for module, figures in handlers.items():
        print(
            f"import {module}: {figures['import_s'] * 1000:.0f} ms "
            f"= {figures['ratio_to_boto3']:.2f} x boto3"
        )
    out = ROOT / "benchmarks" / "results" / "control_plane.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
