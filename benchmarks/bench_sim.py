"""Simulator speed: one hour of the Azure code trace and 24 hours of synthetic traffic, each under
all four policies. Goals: <= 10 s and <= 60 s on a 2-core machine.

Run with ``make bench`` (or ``python benchmarks/bench_sim.py``); prints a table and writes
benchmarks/results/sim.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.fleet import DEFAULT_FLEET, load_fleet  # noqa: E402
from sim.policies import POLICIES  # noqa: E402
from sim.run import replay  # noqa: E402

CASES = (
    ("azure-code, 1 h, 4 policies", "azure-code", None, 10.0),
    ("diurnal, 24 h, 4 policies", "diurnal", 86_400.0, 60.0),
)


def main() -> int:
    fleet = load_fleet(DEFAULT_FLEET)
    rows = []
    for label, trace, duration_s, goal_s in CASES:
        start = time.perf_counter()
        results = replay(fleet, trace, POLICIES, seed=0, duration_s=duration_s)
        elapsed = time.perf_counter() - start
        requests = len(results[0].workload)
        rows.append(
            {
                "case": label,
                "requests_per_policy": requests,
                "seconds": elapsed,
                "goal_s": goal_s,
                "within_goal": elapsed <= goal_s,
                "requests_per_s": requests * len(POLICIES) / elapsed,
            }
        )
    print(f"{'case':32} {'requests':>10} {'seconds':>8} {'goal':>6} {'req/s':>10}")
    for r in rows:
        print(
            f"{r['case']:32} {r['requests_per_policy']:>10} {r['seconds']:>8.2f} "
            f"{r['goal_s']:>6.0f} {r['requests_per_s']:>10.0f}"
            f"{'' if r['within_goal'] else '  OVER GOAL'}"
        )
    out = ROOT / "benchmarks" / "results" / "sim.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "cases": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r["within_goal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
