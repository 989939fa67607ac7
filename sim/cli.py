"""Command line: ``python -m sim coldstart|bench|plan|trace ...`` (trace: ``sim.trace_builder``).

``bench`` writes DIR/report.json holding at least (scripts rely on it)::

    {"trace": str, "seeds": int, "reaction_s": float,
     "policies": {NAME: {
         "default": {"slo_attainment": {"mean": float, "ci95": [lo, hi]},
                     "gpu_hours": {...}, "detection_s": {...} | null,
                     "first_copy_s": {...} | null, "time_to_capacity_s": {...} | null},
         "endpoints": {ENDPOINT: {"gpu_hours": {"mean": float, "ci95": [lo, hi]}}},
         "frontier": [{"knob": {...}, "slo_attainment": float, "gpu_hours": float}, ...]}}}

SLO attainment is a fraction; a timing with no event is null.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from config.coldstart import PATHS, cold_start
from config.fleet import DEFAULT_FLEET, ConfigError
from config.instance_types import INSTANCE_TYPES

from .bench import FLOORS, GRID, BenchSpec
from .policies import POLICIES
from .run import DEFAULT_DELAYS, Delays
from .trace_builder import add_trace_parser
from .traffic import HOLDOUT, MULTI_MODEL, SCENARIOS, TRACES


def _coldstart(args: argparse.Namespace) -> int:
    try:
        paths = cold_start(
            args.instance_type,
            image_gb=args.image_gb,
            model_gb=args.model_gb,
            network_gbps=args.network_gbps,
        )
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({p: paths[p].to_dict() for p in PATHS}, indent=2))
        return 0
    print(f"{args.instance_type}: image {args.image_gb} GB, model {args.model_gb} GB")
    header = ("path", "provisioning", "image pull", "download", "start", "load", "total")
    print("  ".join(f"{h:>13}" for h in header))
    for p in PATHS:
        x = paths[p]
        row = (
            x.provisioning_s,
            x.image_pull_s,
            x.model_download_s,
            x.container_start_s,
            x.weights_load_s,
            x.total_s,
        )
        print(f"{p:>13}  " + "  ".join(f"{v:>12.0f}s" for v in row))
    return 0


def _floors(text: str | None) -> tuple[int, ...]:
    if text is None:
        return FLOORS
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(
            f"--floors {text!r}: not a list of copy counts; allowed: whole numbers >= 1, "
            "comma-separated, or '' for none"
        ) from None


def _spec(args: argparse.Namespace) -> BenchSpec:
    grid = GRID if args.grid is None else tuple(float(x) for x in args.grid.split(","))
    return BenchSpec(
        config=args.config,
        traffic=tuple(args.trace),
        seeds=args.seeds,
        load=args.load,
        delays=Delays(args.reaction_s, args.publish_delay_s, args.idle_release_s),
        policies=POLICIES if args.policy == "all" else (args.policy,),
        grid=grid,
        floors=_floors(args.floors),
        duration_s=None if args.duration_h is None else args.duration_h * 3600,
    )


def _command(args: argparse.Namespace) -> str:
    return "python -m sim " + " ".join(sys.argv[1:] if args.argv is None else args.argv)


def _bench(args: argparse.Namespace) -> int:
    from .bench import bench
    from .report import table, write_report

    try:
        doc = bench(_spec(args), args.processes)
    except (ConfigError, KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    write_report(doc, Path(args.out), _command(args))
    print(table(doc), end="")
    print(f"report: {Path(args.out) / 'report.md'}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from .plan import plan
    from .report import write_report

    try:
        doc, text = plan(_spec(args), args.slo, args.processes)
    except (ConfigError, KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    if args.out:
        write_report(doc, Path(args.out), _command(args))
    print(text, end="")
    return 0


def _add_run_options(r: argparse.ArgumentParser) -> None:
    r.add_argument("--config", default=str(DEFAULT_FLEET), help="fleet file")
    r.add_argument(
        "--trace",
        required=True,
        action="append",
        help="traffic for every component: a scenario "
        f"({', '.join(n for n in SCENARIOS if n not in HOLDOUT)}), {MULTI_MODEL} "
        "(one shape per component of an endpoint), a bundled "
        f"trace ({', '.join(TRACES)}), a held-out scenario ({', '.join(HOLDOUT)}: never tuned "
        "on, sim/holdout.py) or a CSV in the Azure trace format; COMPONENT=TRACE gives "
        "one component its own (repeat the option)",
    )
    r.add_argument("--seeds", type=int, default=10, help="seeds of synthetic traffic (default 10)")
    r.add_argument(
        "--reaction-s",
        type=float,
        default=DEFAULT_DELAYS.reaction_s,
        help="alarm to capacity call, every policy (default 30)",
    )
    r.add_argument(
        "--publish-delay-s",
        type=float,
        default=DEFAULT_DELAYS.publish_delay_s,
        help="high-resolution metric publishing delay (default 30)",
    )
    r.add_argument(
        "--idle-release-s",
        type=float,
        default=None,
        help="seconds before an idle instance is released (default: the endpoint's "
        "scale_in_policy.cooldown_minutes)",
    )
    r.add_argument("--load", type=float, default=1.0, help="multiply the request rate (default 1)")
    r.add_argument("--duration-h", type=float, default=None, help="length of a scenario (hours)")
    r.add_argument("--policy", default="all", choices=[*POLICIES, "all"])
    r.add_argument(
        "--grid",
        default=None,
        help=f"knob values to sweep, comma-separated (default {','.join(f'{g:g}' for g in GRID)})",
    )
    r.add_argument(
        "--floors",
        default=None,
        help="minimum copy counts swept for aws-target-tracking-tuned at the fleet's target, "
        f"comma-separated, '' for none (default {','.join(map(str, FLOORS))})",
    )
    r.add_argument("--processes", type=int, default=None, help="worker processes (default: cores)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("coldstart", help="phase times of a new copy, by path")
    c.add_argument(
        "--instance-type", required=True, help=f"one of {', '.join(sorted(INSTANCE_TYPES))}"
    )
    c.add_argument("--image-gb", type=float, required=True, help="compressed image size")
    c.add_argument("--model-gb", type=float, required=True, help="model artifacts size")
    c.add_argument(
        "--network-gbps",
        type=float,
        default=None,
        help="override the instance type's published bandwidth",
    )
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_coldstart)

    b = sub.add_parser("bench", help="every policy and its frontier over seeds: report.json")
    _add_run_options(b)
    b.add_argument("--out", default="out/bench", help="folder for report.json, report.md, PNGs")
    b.set_defaults(func=_bench)

    p = sub.add_parser("plan", help="the cheapest setting per policy that meets an SLO")
    _add_run_options(p)
    p.add_argument(
        "--slo", type=float, required=True, help="fraction of requests within the TTFT SLO (0.99)"
    )
    p.add_argument("--out", default=None, help="also write the frontiers' report here")
    p.set_defaults(func=_plan)

    add_trace_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    args.argv = None if argv is None else list(argv)
    return int(args.func(args))
