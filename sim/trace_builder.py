"""Build a replayable trace from a live inference component's CloudWatch history.

``python -m sim trace --endpoint E --component C --days N --out trace.csv`` reads the
component's per-minute ``Invocations`` and writes a CSV in the bundled Azure trace's format
(``TIMESTAMP,ContextTokens,GeneratedTokens``) that ``sim.traffic.load_trace`` and every
``--trace`` option read back.

What it reads: namespace ``AWS/SageMaker``, metric ``Invocations``, statistic ``Sum``, period
60 s, dimension ``InferenceComponentName`` (the per-component invocation metrics SageMaker
publishes for inference components; ``EndpointName``/``VariantName`` would count the whole
endpoint's traffic, every component together). ``--component`` is the inference component's
name; when nothing is found under it, the project's naming (``<endpoint>-<model>``, see
``config.fleet.Model.component_name``) is tried, so the fleet file's model name works too.

Limits it respects: CloudWatch keeps 1-minute data for 15 days (GetMetricData's documentation
in botocore), so ``--days`` is 1 to 15. It asks for one day (1,440 one-minute points) per
request and follows ``NextToken`` until each day is complete.

How it turns counts into requests: each minute's ``Sum`` of invocations becomes that many
arrivals spread uniformly at random within the minute (seeded: the same ``--seed`` gives the
same file). A minute with no datapoint is a minute without traffic; how many there were is
reported. Token counts are drawn per request from ``--prompt-tokens`` and ``--output-tokens``:

* ``const:N`` - every request has N tokens;
* ``lognormal:mean=M,sigma=S`` - lognormal with mean M tokens and log-space sigma S, rounded,
  at least 1;
* ``sample:PATH`` - drawn from a CSV in the bundled trace's format (its ``ContextTokens`` for
  prompts, ``GeneratedTokens`` for outputs); ``sample:azure-code`` is the bundled trace, the
  default for both.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .traffic import TRACES, load_trace

NAMESPACE = "AWS/SageMaker"
METRIC = "Invocations"
DIMENSION = "InferenceComponentName"
PERIOD_S = 60
RETENTION_DAYS = 15  # 1-minute datapoints are kept 15 days
POINTS_PER_REQUEST = 1440  # one day of minutes per GetMetricData window
DEFAULT_TOKENS = "sample:azure-code"

IntArray = npt.NDArray[np.int64]


class TraceError(ValueError):
    """A trace that cannot be built; the message says what was wrong and what is allowed."""


# --- Token-count distributions ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenDistribution:
    """Draws per-request token counts; ``spec`` is what the user wrote."""

    spec: str
    draw: Callable[[np.random.Generator, int], IntArray]


_FORMS = "const:N, lognormal:mean=M,sigma=S or sample:PATH (a trace CSV, or sample:azure-code)"


def parse_distribution(spec: str, column: str) -> TokenDistribution:
    """Parse ``spec`` for the trace column ``column`` (``ContextTokens`` or ``GeneratedTokens``)."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise TraceError(f"token distribution {spec!r} is not understood; allowed: {_FORMS}")
    if kind == "const":
        n = _number(spec, rest)
        if n < 1 or n != int(n):
            raise TraceError(f"{spec!r}: const needs a whole number of tokens >= 1; got {rest}")
        return TokenDistribution(spec, lambda rng, size: np.full(size, int(n), dtype=np.int64))
    if kind == "lognormal":
        params = _keywords(spec, rest, ("mean", "sigma"))
        mean, sigma = params["mean"], params["sigma"]
        if mean < 1:
            raise TraceError(f"{spec!r}: mean must be >= 1 token; got {mean:g}")
        if not 0 <= sigma <= 5:
            raise TraceError(f"{spec!r}: sigma must be from 0 to 5; got {sigma:g}")
        mu = math.log(mean) - sigma**2 / 2  # so that the distribution's mean is ``mean``

        def lognormal(rng: np.random.Generator, size: int) -> IntArray:
            values = np.rint(rng.lognormal(mu, sigma, size))
            return np.maximum(values, 1).astype(np.int64)

        return TokenDistribution(spec, lognormal)
    if kind == "sample":
        path = TRACES.get(rest, Path(rest))
        try:
            trace = load_trace(path)
        except ValueError as exc:
            raise TraceError(f"{spec!r}: {exc.args[0]}") from None
        pool = (trace.prompt_tokens if column == "ContextTokens" else trace.output_tokens).astype(
            np.int64
        )
        return TokenDistribution(spec, lambda rng, size: pool[rng.integers(0, pool.size, size)])
    raise TraceError(f"token distribution {spec!r}: unknown kind {kind!r}; allowed: {_FORMS}")


def _number(spec: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise TraceError(f"{spec!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise TraceError(f"{spec!r}: {text!r} is not a finite number")
    return value


def _keywords(spec: str, text: str, names: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in names:
            raise TraceError(f"{spec!r}: expected {', '.join(f'{n}=...' for n in names)}")
        out[key] = _number(spec, value.strip())
    missing = [n for n in names if n not in out]
    if missing:
        raise TraceError(f"{spec!r}: missing {', '.join(missing)}")
    return out


# --- CloudWatch ------------------------------------------------------------------------------


def _windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    step = timedelta(seconds=PERIOD_S * POINTS_PER_REQUEST)
    t = start
    while t < end:
        yield t, min(t + step, end)
        t += step


def fetch_invocations(
    cloudwatch: Any, component: str, start: datetime, end: datetime
) -> dict[datetime, int]:
    """Invocations per minute of ``component`` from ``start`` to ``end`` (UTC, minute-aligned).

    Minutes without a datapoint are absent from the result.
    """
    counts: dict[datetime, int] = {}
    query = {
        "Id": "invocations",
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": METRIC,
                "Dimensions": [{"Name": DIMENSION, "Value": component}],
            },
            "Period": PERIOD_S,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    for window_start, window_end in _windows(start, end):
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MetricDataQueries": [query],
                "StartTime": window_start,
                "EndTime": window_end,
                "ScanBy": "TimestampAscending",
                "MaxDatapoints": POINTS_PER_REQUEST,
            }
            if token:
                kwargs["NextToken"] = token
            page = cloudwatch.get_metric_data(**kwargs)
            for result in page.get("MetricDataResults", []):
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    minute = stamp.astimezone(UTC).replace(second=0, microsecond=0)
                    counts[minute] = counts.get(minute, 0) + round(value)
            token = page.get("NextToken")
            if not token:
                break
    return counts


# --- The trace -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceSummary:
    component: str  # the name data was found under
    start: datetime
    end: datetime
    requests: int
    minutes_with_data: int
    minutes_without_data: int
    out: Path

    def describe(self) -> str:
        total = self.minutes_with_data + self.minutes_without_data
        return (
            f"{self.out}: {self.requests} requests of {self.component} from "
            f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC; "
            f"{self.minutes_without_data} of {total} minutes had no Invocations datapoint "
            "(written as no traffic)"
        )


def build_trace(
    cloudwatch: Any,
    *,
    endpoint: str,
    component: str,
    days: float,
    out: Path,
    prompt_tokens: TokenDistribution,
    output_tokens: TokenDistribution,
    seed: int,
    now: datetime | None = None,
) -> TraceSummary:
    """Fetch ``days`` of history ending at ``now`` and write the trace to ``out``."""
    if not (math.isfinite(days) and 0 < days <= RETENTION_DAYS):
        raise TraceError(
            f"--days {days:g} is out of range; allowed: more than 0 and at most {RETENTION_DAYS} "
            "(CloudWatch keeps 1-minute datapoints for 15 days)"
        )
    if not out.parent.is_dir():
        raise TraceError(f"--out {out}: folder {out.parent} does not exist")
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=round(days * 1440))
    tried = [component]
    counts = fetch_invocations(cloudwatch, component, start, end)
    if not counts and not component.startswith(f"{endpoint}-"):
        tried.append(f"{endpoint}-{component}")
        counts = fetch_invocations(cloudwatch, tried[-1], start, end)
    if not counts:
        raise TraceError(
            f"no {NAMESPACE} {METRIC} datapoints for inference component "
            f"{' or '.join(repr(t) for t in tried)} between {start:%Y-%m-%d %H:%M} and "
            f"{end:%Y-%m-%d %H:%M} UTC; check the component name, the region, and that it served "
            f"traffic in the last {days:g} days"
        )
    rng = np.random.default_rng(seed)
    minutes = sorted(m for m, c in counts.items() if c > 0)
    per_minute = np.array([counts[m] for m in minutes], dtype=np.int64)
    base = np.array([(m - start).total_seconds() for m in minutes], dtype=np.float64)
    offsets = np.repeat(base, per_minute) + rng.random(int(per_minute.sum())) * PERIOD_S
    offsets.sort()
    prompts = prompt_tokens.draw(rng, offsets.size)
    outputs = output_tokens.draw(rng, offsets.size)
    _write(out, start, offsets, prompts, outputs)
    total_minutes = round((end - start).total_seconds() / PERIOD_S)
    return TraceSummary(
        tried[-1], start, end, int(offsets.size), len(counts), total_minutes - len(counts), out
    )


def _write(
    out: Path,
    start: datetime,
    offsets_s: npt.NDArray[np.float64],
    prompts: IntArray,
    outputs: IntArray,
) -> None:
    naive_start = start.replace(tzinfo=None)  # the bundled format has no zone: times are UTC
    tmp = out.with_name(out.name + ".tmp")  # the file appears whole or not at all
    try:
        _write_rows(tmp, naive_start, offsets_s, prompts, outputs)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TraceError(f"--out {out}: cannot write: {exc.strerror}") from None
    tmp.replace(out)


def _write_rows(
    tmp: Path,
    naive_start: datetime,
    offsets_s: npt.NDArray[np.float64],
    prompts: IntArray,
    outputs: IntArray,
) -> None:
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["TIMESTAMP", "ContextTokens", "GeneratedTokens"])
        for offset, p, o in zip(
            offsets_s.tolist(), prompts.tolist(), outputs.tolist(), strict=True
        ):
            stamp = naive_start + timedelta(seconds=offset)
            writer.writerow([stamp.strftime("%Y-%m-%d %H:%M:%S.%f"), p, o])


# --- Command line ----------------------------------------------------------------------------


def add_trace_parser(sub: Any) -> None:
    """Register ``trace`` on the ``python -m sim`` subcommands (``sim.cli``)."""
    t = sub.add_parser(
        "trace", help="build a replayable trace from a live component's CloudWatch history"
    )
    t.add_argument("--endpoint", required=True, help="endpoint name")
    t.add_argument(
        "--component",
        required=True,
        help="inference component name (or the fleet file's model name: ENDPOINT-MODEL is tried)",
    )
    t.add_argument(
        "--days", type=float, required=True, help=f"history to read, up to {RETENTION_DAYS}"
    )
    t.add_argument("--out", required=True, help="CSV to write (TIMESTAMP,ContextTokens,...)")
    t.add_argument("--region", default=None, help="AWS region (default: your AWS configuration)")
    t.add_argument("--prompt-tokens", default=DEFAULT_TOKENS, help=f"{_FORMS}")
    t.add_argument("--output-tokens", default=DEFAULT_TOKENS, help=f"{_FORMS}")
    t.add_argument("--seed", type=int, default=0, help="seed of arrival times and token draws")
    t.set_defaults(func=run_trace)


def run_trace(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        prompts = parse_distribution(args.prompt_tokens, "ContextTokens")
        outputs = parse_distribution(args.output_tokens, "GeneratedTokens")
        cloudwatch = boto3.client("cloudwatch", region_name=args.region)
        summary = build_trace(
            cloudwatch,
            endpoint=args.endpoint,
            component=args.component,
            days=args.days,
            out=Path(args.out),
            prompt_tokens=prompts,
            output_tokens=outputs,
            seed=args.seed,
        )
    except TraceError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"error: CloudWatch: {exc} (set --region and AWS credentials)", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0
