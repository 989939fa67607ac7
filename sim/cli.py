"""Command line: ``python -m sim coldstart ...``, ``python -m sim replay ...`` and
``python -m sim trace ...`` (``sim.trace_builder``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from config.coldstart import PATHS, cold_start
from config.fleet import DEFAULT_FLEET, ConfigError, load_fleet
from config.instance_types import INSTANCE_TYPES

from .policies import POLICIES
from .trace_builder import add_trace_parser
from .traffic import SCENARIOS, TRACES


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


def _replay(args: argparse.Namespace) -> int:
    from .report import table, write_report
    from .run import replay

    policies = list(POLICIES) if args.policy == "all" else [args.policy]
    try:
        fleet = load_fleet(args.config)
        results = replay(
            fleet,
            args.trace,
            policies,
            seed=args.seed,
            load=args.load,
            duration_s=None if args.duration_h is None else args.duration_h * 3600,
            endpoint=args.endpoint,
            model=args.model,
            progress=sys.stderr.isatty() and not args.quiet,
        )
    except (ConfigError, KeyError, ValueError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    command = "python -m sim " + " ".join(sys.argv[1:] if args.argv is None else args.argv)
    doc = write_report(results, Path(args.out), command)
    print(table(doc), end="")
    print(f"report: {Path(args.out) / 'report.md'}")
    return 0


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

    r = sub.add_parser("replay", help="replay traffic under each policy and write a report")
    r.add_argument("--config", default=str(DEFAULT_FLEET), help="fleet file")
    r.add_argument(
        "--trace",
        required=True,
        help=f"a scenario ({', '.join(SCENARIOS)}), a bundled trace "
        f"({', '.join(TRACES)}) or a path to a CSV in the Azure trace format",
    )
    r.add_argument("--policy", default="all", choices=[*POLICIES, "all"])
    r.add_argument("--out", default="out/sim", help="folder for report.json, report.md, PNGs")
    r.add_argument("--seed", type=int, default=0, help="seed of synthetic traffic and --load")
    r.add_argument(
        "--load",
        type=float,
        default=1.0,
        help="multiply the request rate, bursts kept in place (default 1)",
    )
    r.add_argument(
        "--duration-h",
        type=float,
        default=None,
        help="length of a scenario, or cut a trace (hours)",
    )
    r.add_argument("--endpoint", default=None, help="endpoint to simulate (default: first)")
    r.add_argument("--model", default=None, help="model of that endpoint (default: first)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=_replay)

    add_trace_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    args.argv = None if argv is None else list(argv)
    return int(args.func(args))
