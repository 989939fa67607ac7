"""Command line: ``python -m sim coldstart ...`` and ``python -m sim replay ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from config.instance_types import INSTANCE_TYPES

from .coldstart import PATHS, cold_start


def _coldstart(args: argparse.Namespace) -> int:
    try:
        paths = cold_start(args.instance_type, image_gb=args.image_gb, model_gb=args.model_gb,
                           network_gbps=args.network_gbps)
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
        row = (x.provisioning_s, x.image_pull_s, x.model_download_s, x.container_start_s,
               x.weights_load_s, x.total_s)
        print(f"{p:>13}  " + "  ".join(f"{v:>12.0f}s" for v in row))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("coldstart", help="phase times of a new copy, by path")
    c.add_argument("--instance-type", required=True,
                   help=f"one of {', '.join(sorted(INSTANCE_TYPES))}")
    c.add_argument("--image-gb", type=float, required=True, help="compressed image size")
    c.add_argument("--model-gb", type=float, required=True, help="model artifacts size")
    c.add_argument("--network-gbps", type=float, default=None,
                   help="override the instance type's published bandwidth")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_coldstart)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the exit status."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))
