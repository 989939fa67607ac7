"""A fixed fleet against the autoscalers: what holding N copies from the start gives.

The frontiers of ``bench_sim.py`` sweep each policy's target; none sweeps the minimum copy count,
which a user can set too. This runs the default fleet with ``min = max = initial = N`` copies
and ``min_instances = N`` (``sim.fixed``: nothing ever scales) on the scenarios shorter than a
day, 10 seeds, and sets each against the project's fleet setting and AWS's best swept setting
at the project's cost, read from ``benchmarks/results/sim/<scenario>/report.json`` (run
``bench_sim.py`` first).

Writes benchmarks/results/sim/fixed.json and fixed.md. A fixed fleet needs the peak known in
advance and pays for it all day, so the bar (``sim.compare.bar``) does not count it; it shows
where scaling itself costs more than it saves.

Run with ``make bench`` (or ``python benchmarks/bench_sim_fixed.py [--seeds N]``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.fleet import DEFAULT_FLEET  # noqa: E402
from sim.bench import BenchSpec  # noqa: E402
from sim.compare import versus_aws  # noqa: E402
from sim.fixed import run_fixed  # noqa: E402
from sim.traffic import SCENARIOS  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "sim"
DAY_S = 86_400.0
COPIES = (4, 5, 6, 7, 8)


def short_scenarios() -> list[str]:
    """The synthetic scenarios shorter than a day, and the recorded Azure hour."""
    names = [n for n, s in SCENARIOS.items() if s.default_duration_s < DAY_S]
    return [*names, "azure-code"]


def _cell(figures: dict[str, Any]) -> str:
    return f"{100 * figures['slo_attainment']['mean']:.1f} %, {figures['gpu_hours']['mean']:.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = " | ".join(f"fixed {n}" for n in COPIES)
    lines = [
        f"| scenario | {head} | project | AWS's best at the project's cost |",
        "|---" * (len(COPIES) + 3) + "|",
    ]
    for row in rows:
        cells = " | ".join(_cell(row["fixed"][str(n)]) for n in COPIES)
        project = row["project"]
        mine = (
            "not benchmarked"
            if project is None
            else f"{100 * project['project_slo_attainment']:.1f} %, "
            f"{project['project_gpu_hours']:.2f}"
        )
        aws = project and project["aws_slo_at_project_cost"]
        theirs = "none costs as little" if aws is None else f"{100 * aws:.1f} %"
        lines.append(f"| {row['scenario']} | {cells} | {mine} | {theirs} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for scenario in short_scenarios():
        report = OUT / scenario / "report.json"
        doc = json.loads(report.read_text()) if report.exists() else None
        rows.append(
            {
                "scenario": scenario,
                "fixed": {
                    str(n): run_fixed(
                        BenchSpec(str(DEFAULT_FLEET), (scenario,), seeds=args.seeds), n
                    )
                    for n in COPIES
                },
                "project": None if doc is None else versus_aws(doc),
            }
        )
    seconds = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fixed.json").write_text(json.dumps({"seeds": args.seeds, "rows": rows}, indent=1))
    text = (
        f"# A fixed fleet against the autoscalers ({args.seeds} seeds; SLO attainment, "
        "GPU-hours)\n\n"
        "The default fleet held at N copies from the start (`benchmarks/bench_sim_fixed.py`); the "
        "project at its fleet setting and AWS's best swept setting at the project's cost from "
        "`bench_sim.py`'s reports.\n\n" + table(rows) + "\n"
    )
    (OUT / "fixed.md").write_text(text)
    print(text)
    print(f"{len(rows) * len(COPIES)} fixed fleets in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
