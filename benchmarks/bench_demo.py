"""Local end-to-end run speed: the whole ``python -m demo`` story, from starting moto's server to
the cleanup checks. Goal: <= 60 s on a 2-core machine.

Run with ``make bench`` (or ``python benchmarks/bench_demo.py``); prints the figures and writes
benchmarks/results/demo.json. The time includes moto's server start, fleet creation, the replay,
the deletion and the report files (written to a temporary folder).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.fleet import DEFAULT_FLEET, load_fleet  # noqa: E402
from demo.render import write_report  # noqa: E402
from demo.run import run_demo  # noqa: E402

GOAL_S = 60.0


def main() -> int:
    fleet = load_fleet(DEFAULT_FLEET)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_demo(fleet, log_path=Path(tmp) / "handler-logs.jsonl")
        write_report(result, Path(tmp))
        elapsed_s = time.perf_counter() - start
    invocations = sum(result.invocations.values())
    row = {
        "case": f"default fleet, {result.duration_s / 60:.0f} simulated minutes, "
        f"{len(result.endpoints)} endpoints",
        "seconds": round(elapsed_s, 2),
        "goal_s": GOAL_S,
        "within_goal": elapsed_s <= GOAL_S,
        "simulated_s_per_wall_s": round(result.duration_s / elapsed_s, 1),
        "handler_invocations": invocations,
        "demo_api_calls": result.api_calls,
        "checks_passed": result.ok,
    }
    print(
        f"{row['case']}: {elapsed_s:.1f} s (goal <= {GOAL_S:.0f} s), "
        f"{row['simulated_s_per_wall_s']} simulated seconds per second, "
        f"{invocations} handler invocations, {result.api_calls} API calls by the demo, "
        f"checks {'passed' if result.ok else 'FAILED'}"
    )
    out = ROOT / "benchmarks" / "results" / "demo.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "results": [row],
            },
            indent=2,
        )
        + "\n"
    )
    return 0 if row["within_goal"] and result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
