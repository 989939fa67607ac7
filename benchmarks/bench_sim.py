"""The policy benchmark and its speed: every scenario, every policy, every frontier point, 10
seeds, on every core; then the sensitivity to the delays nobody has measured.

Writes, under benchmarks/results/sim/: one folder per scenario with report.json, report.md and
frontier.png (what ``python -m sim bench`` writes), sensitivity.json, and benchmarks/results/
sim.json with the timings. Speed goals (2-core machine): the whole matrix in at most 300 s, one
1-hour trace with every policy and its frontier in at most 20 s.

Run with ``make bench`` (or ``python benchmarks/bench_sim.py [--seeds N]``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.fleet import DEFAULT_FLEET  # noqa: E402
from sim.bench import BenchSpec, bench, jobs, report, run_all  # noqa: E402
from sim.compare import (  # noqa: E402
    bar_table,
    defaults_table,
    same_minimum_table,
    versus_table,
)
from sim.report import write_report  # noqa: E402
from sim.run import Delays  # noqa: E402
from sim.traffic import HOLDOUT, MULTI_MODEL, MULTI_MODEL_DURATION_S, SCENARIOS  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
MATRIX_GOAL_S = 300.0
ONE_HOUR_GOAL_S = 20.0
# (name, config, traffic): every scenario on the default fleet, the multi-model scenario on its
# own 4-GPU fleet, the recorded Azure hour, then the held-out scenarios (sim/holdout.py: never
# tuned on; the summary labels them) on the default fleet.
MULTI_MODEL_FLEET = ROOT / "benchmarks" / "fleets" / "multi-model.yaml"


def cases() -> list[tuple[str, str, tuple[str, ...]]]:
    out: list[tuple[str, str, tuple[str, ...]]] = [
        (name, str(DEFAULT_FLEET), (name,)) for name in SCENARIOS if name not in HOLDOUT
    ]
    out.append((MULTI_MODEL, str(MULTI_MODEL_FLEET), (MULTI_MODEL,)))
    out.append(("azure-code", str(DEFAULT_FLEET), ("azure-code",)))
    out += [(name, str(DEFAULT_FLEET), (name,)) for name in HOLDOUT]
    return out


def sensitivity(seeds: int, processes: int) -> list[dict[str, object]]:
    """Each policy's fleet-file setting on one scenario with one delay changed at a time."""
    rows: list[dict[str, object]] = []
    variants = [
        ("step-spike", "reaction_s", [2.0, 15.0, 30.0, 60.0]),
        ("step-spike", "publish_delay_s", [10.0, 30.0, 60.0]),
        ("bursty", "idle_release_s", [60.0, 300.0, 1200.0]),
    ]
    for scenario, name, values in variants:
        for value in values:
            delays = dataclasses.replace(Delays(), **{name: value})
            spec = BenchSpec(
                str(DEFAULT_FLEET), (scenario,), seeds=seeds, delays=delays, frontier=False
            )
            doc = bench(spec, processes)
            for policy, p in doc["policies"].items():
                d = p["default"]
                rows.append(
                    {
                        "scenario": scenario,
                        "delay": name,
                        "value_s": value,
                        "policy": policy,
                        "slo_attainment": d["slo_attainment"],
                        "gpu_hours": d["gpu_hours"],
                        "detection_s": d["detection_s"],
                    }
                )
    return rows


def sensitivity_table(rows: list[dict[str, Any]]) -> str:
    """Per delay and value: each policy's SLO attainment and GPU-hours (means)."""
    out = []
    for delay in dict.fromkeys(r["delay"] for r in rows):
        mine = [r for r in rows if r["delay"] == delay]
        values = list(dict.fromkeys(r["value_s"] for r in mine))
        policies = list(dict.fromkeys(r["policy"] for r in mine))
        out += [
            f"{delay} on {mine[0]['scenario']} (SLO attainment, GPU-hours):",
            "",
            "| policy | " + " | ".join(f"{v:g} s" for v in values) + " |",
            "|---|" + "---|" * len(values),
        ]
        for policy in policies:
            cells = []
            for v in values:
                (r,) = [x for x in mine if x["policy"] == policy and x["value_s"] == v]
                cells.append(
                    f"{100 * r['slo_attainment']['mean']:.1f} %, {r['gpu_hours']['mean']:.2f}"
                )
            out.append(f"| {policy} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def summary_markdown(docs: dict[str, Any], rows: list[dict[str, Any]], seeds: int) -> str:
    return "\n".join(
        [
            f"# Benchmark summary ({seeds} seeds, reaction 30 s for every policy)",
            "",
            "## Every policy at the fleet file's setting (SLO attainment, GPU-hours)",
            "",
            defaults_table(docs),
            "## The project's setting against AWS's best (any swept target-tracking setting)",
            "",
            versus_table(docs),
            "## The project's setting against the bar (docs/scaling-model.md, section 4)",
            "",
            "Held out: traffic the project's default setting was never tuned on (sim/holdout.py).",
            "",
            bar_table(docs),
            "## The project's rules at the same minimum copy count as AWS's",
            "",
            "The project's fleet-file rules with its minimum copies raised as AWS's are "
            "(`min_copies`, swept for aws-target-tracking-tuned and the project alike): "
            "SLO attainment, GPU-hours and, in brackets, points over AWS's best frontier point "
            "(any target, any minimum) at no more cost.",
            "",
            same_minimum_table(docs),
            "## Sensitivity to the unmeasured delays (fleet file's settings)",
            "",
            sensitivity_table(rows),
        ]
    )


def write_summary_from_files() -> int:
    folder = OUT / "sim"
    docs = {}
    for name, _, _ in cases():
        path = folder / name / "report.json"
        if path.exists():
            docs[name] = json.loads(path.read_text(encoding="utf-8"))
    sens = folder / "sensitivity.json"
    rows = json.loads(sens.read_text(encoding="utf-8")) if sens.exists() else []
    seeds = max((d["seeds"] for d in docs.values()), default=0)
    (folder / "summary.md").write_text(summary_markdown(docs, rows, seeds), encoding="utf-8")
    print(f"wrote {(folder / 'summary.md').relative_to(ROOT)} ({len(docs)} scenarios)")
    return 0


def _cpu_s() -> float:
    """Processor seconds of this process and its finished workers."""
    me, workers = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + workers.ru_utime + workers.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-sensitivity", action="store_true")
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="rewrite summary.md from the reports already in benchmarks/results/sim/",
    )
    args = parser.parse_args()
    if args.summary_only:
        return write_summary_from_files()
    (OUT / "sim").mkdir(parents=True, exist_ok=True)
    specs = {name: BenchSpec(cfg, traffic, seeds=args.seeds) for name, cfg, traffic in cases()}

    # One hour of recorded traffic, every policy and its frontier (the interactive case).
    start = time.perf_counter()
    bench(specs["azure-code"], args.processes)
    one_hour_s = time.perf_counter() - start

    sens_s = None
    rows: list[dict[str, object]] = []
    if not args.no_sensitivity:
        start = time.perf_counter()
        rows = sensitivity(args.seeds, args.processes)
        sens_s = time.perf_counter() - start
        (OUT / "sim" / "sensitivity.json").write_text(
            json.dumps(rows, indent=2) + "\n", encoding="utf-8"
        )

    # The whole matrix in one pool over every core, the longest scenarios' jobs first (a week's
    # runs are the longest), so the short ones fill the cores at the end.
    length = {name: SCENARIOS[name].default_duration_s for name in SCENARIOS}
    length[MULTI_MODEL] = MULTI_MODEL_DURATION_S
    order = sorted(specs, key=lambda x: -length.get(x, 3600.0))
    todo = {name: jobs(specs[name]) for name in order}
    load_before = os.getloadavg()
    cpu_before = _cpu_s()
    start = time.perf_counter()
    done = iter(run_all([j for name in order for j in todo[name]], args.processes))
    matrix_s = time.perf_counter() - start
    matrix_cpu_s = _cpu_s() - cpu_before
    runs = 0
    summary: dict[str, object] = {}
    docs: dict[str, dict[str, object]] = {}
    cpu_per_scenario: dict[str, float] = {}
    for name in order:
        spec = specs[name]
        results = [(j, next(done)) for j in todo[name]]
        cpu_per_scenario[name] = sum(f["cpu_s"] for _, fs in results for f in fs)
        doc = report(spec, results)
        runs += sum(len(j.knobs) for j in todo[name])
        config = Path(spec.config).resolve().relative_to(ROOT)
        doc["config"] = str(config)  # the same on every checkout
        command = f"python -m sim bench --config {config} --trace {name} --seeds {spec.seeds}"
        write_report(doc, OUT / "sim" / name, command)
        docs[name] = doc
        summary[name] = {
            p: {
                "slo_attainment": v["default"]["slo_attainment"]["mean"],
                "gpu_hours": v["default"]["gpu_hours"]["mean"],
            }
            for p, v in doc["policies"].items()
        }
        print(f"{name}: {cpu_per_scenario[name]:.1f} s of processor time", flush=True)
    docs = {name: docs[name] for name in specs}  # the scenarios' order, not the run order
    (OUT / "sim" / "summary.md").write_text(
        summary_markdown(docs, rows if not args.no_sensitivity else [], args.seeds),
        encoding="utf-8",
    )
    load = os.getloadavg()
    timing = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processes": args.processes,
            # other work on the machine competes for the cores: the matrix's own processor
            # time (below) is what it costs, the wall-clock seconds what it took
            "load_average_1_5_15_before_matrix": [round(x, 2) for x in load_before],
            "load_average_1_5_15": [round(x, 2) for x in load],
            "platform": platform.platform(),
        },
        "seeds": args.seeds,
        "matrix": {
            "scenarios": list(specs),
            "runs": runs,
            "seconds": matrix_s,
            "processor_seconds": matrix_cpu_s,
            "processor_seconds_per_scenario": cpu_per_scenario,
            "goal_s": MATRIX_GOAL_S,
            "within_goal": matrix_s <= MATRIX_GOAL_S,
        },
        "one_hour_trace_all_policies_and_frontiers": {
            "seconds": one_hour_s,
            "goal_s": ONE_HOUR_GOAL_S,
            "within_goal": one_hour_s <= ONE_HOUR_GOAL_S,
        },
        "sensitivity_seconds": sens_s,
        "fleet_file_setting": summary,
    }
    (OUT / "sim.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    print(
        f"matrix: {runs} runs over {len(specs)} scenarios in {matrix_s:.1f} s (goal 300 s), "
        f"{matrix_cpu_s:.1f} s of processor time on {args.processes} processes"
    )
    print(f"azure-code, every policy and frontier: {one_hour_s:.1f} s (goal 20 s)")
    if sens_s is not None:
        print(f"sensitivity: {sens_s:.1f} s")
    print(f"load average during the run: {load[0]:.2f} (1 min), on {os.cpu_count()} cores")
    print(f"wrote {(OUT / 'sim').relative_to(ROOT)}/ and {(OUT / 'sim.json').relative_to(ROOT)}")
    ok = (
        timing["matrix"]["within_goal"]
        and timing["one_hour_trace_all_policies_and_frontiers"]["within_goal"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
