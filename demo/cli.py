"""``python -m demo``: the local end-to-end run, printed and written to an output folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.fleet import DEFAULT_FLEET, ConfigError, load_fleet

from .render import Style, intro_lines, summary_lines, timeline_lines, write_report
from .run import DEFAULT_DURATION_S, DEFAULT_SEED, run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="Replay a traffic spike through the real control-plane handlers on an "
        "embedded AWS (moto on loopback) in simulated time, then delete an "
        "endpoint and check its cleanup.",
    )
    parser.add_argument("--config", default=str(DEFAULT_FLEET), help="fleet file (YAML)")
    parser.add_argument(
        "--out",
        default="out/demo",
        help="folder for report.md, timeline.png and handler-logs.jsonl",
    )
    parser.add_argument(
        "--minutes",
        type=int,
        default=int(DEFAULT_DURATION_S // 60),
        help="simulated minutes to replay (at least 30)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="traffic seed")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    args = parser.parse_args(argv)
    if args.minutes < 30:
        parser.error(
            f"--minutes {args.minutes}: allowed: 30 or more (the spike starts at 1/6 "
            "of the run and scale-in needs its 10-minute window after it)"
        )
    try:
        fleet = load_fleet(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    style = Style(args.color == "always" or (args.color == "auto" and sys.stdout.isatty()))
    out_dir = Path(args.out)

    def progress(message: str) -> None:
        print(style.dim(message), file=sys.stderr, flush=True)

    result = run_demo(
        fleet,
        duration_s=args.minutes * 60.0,
        seed=args.seed,
        log_path=out_dir / "handler-logs.jsonl",
        progress=progress,
    )
    report = write_report(result, out_dir)
    for line in [
        *intro_lines(result, style),
        "",
        *timeline_lines(result, style),
        "",
        *summary_lines(result, style),
    ]:
        print(line)
    print(
        style.bold(f"Report written to {out_dir}/: {report.name}, timeline.png, handler-logs.jsonl")
    )
    return 0 if result.ok else 1
