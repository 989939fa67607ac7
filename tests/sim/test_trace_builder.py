"""``python -m sim trace``: a replayable trace from a component's CloudWatch history (on moto)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from sim.cli import main
from sim.trace_builder import (
    TraceError,
    build_trace,
    fetch_invocations,
    parse_distribution,
)
from sim.traffic import load_trace

REGION = "us-east-1"
ENDPOINT, COMPONENT = "qwen3-8b", "qwen3-8b-chat"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def put(cloudwatch: Any, component: str, counts: Mapping[datetime, float]) -> None:
    """Publish per-minute Invocations the way SageMaker does (namespace, name, dimension)."""
    cloudwatch.put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "InferenceComponentName", "Value": component}],
                "Timestamp": minute,
                "Value": value,
                "Unit": "None",
            }
            for minute, value in counts.items()
        ],
    )


def build(cloudwatch: Any, out: Path, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "component": COMPONENT,
        "days": 1.0,
        "out": out,
        "prompt_tokens": parse_distribution("const:500", "ContextTokens"),
        "output_tokens": parse_distribution("lognormal:mean=40,sigma=0.5", "GeneratedTokens"),
        "seed": 1,
        "now": NOW,
    }
    kwargs.update(overrides)
    return build_trace(cloudwatch, **kwargs)


def test_each_minutes_invocations_become_requests_within_that_minute(
    cloudwatch: Any, tmp_path: Path
) -> None:
    # Three busy minutes an hour ago, then a minute with no datapoint (a gap), then one more.
    first = NOW - timedelta(hours=1)
    minutes = [first + timedelta(minutes=i) for i in (0, 1, 2, 4)]
    put(cloudwatch, COMPONENT, dict(zip(minutes, [5, 12, 3, 7], strict=True)))
    out = tmp_path / "trace.csv"
    summary = build(cloudwatch, out)

    assert summary.requests == 27
    assert summary.minutes_with_data == 4
    assert summary.minutes_without_data == 1440 - 4
    rows = out.read_text().splitlines()
    assert rows[0] == "TIMESTAMP,ContextTokens,GeneratedTokens"
    stamps = [datetime.fromisoformat(r.split(",")[0]).replace(tzinfo=UTC) for r in rows[1:]]
    per_minute = {m: sum(1 for s in stamps if m <= s < m + timedelta(minutes=1)) for m in minutes}
    assert list(per_minute.values()) == [5, 12, 3, 7]
    gap = first + timedelta(minutes=3)
    assert not any(gap <= s < gap + timedelta(minutes=1) for s in stamps)

    trace = load_trace(out)  # the simulator reads it back
    assert len(trace) == 27
    assert np.all(np.diff(trace.arrival_s) >= 0)
    assert set(trace.prompt_tokens.tolist()) == {500.0}
    assert trace.output_tokens.min() >= 1


def test_the_same_seed_writes_the_same_file(cloudwatch: Any, tmp_path: Path) -> None:
    put(cloudwatch, COMPONENT, {NOW - timedelta(minutes=30): 50})
    build(cloudwatch, tmp_path / "a.csv")
    build(cloudwatch, tmp_path / "b.csv")
    build(cloudwatch, tmp_path / "c.csv", seed=2)
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    assert (tmp_path / "a.csv").read_text() != (tmp_path / "c.csv").read_text()


def test_several_days_are_read_a_day_at_a_time(cloudwatch: Any) -> None:
    stamps = {NOW - timedelta(days=d, minutes=7): 2 for d in range(5)}
    put(cloudwatch, COMPONENT, stamps)
    got = fetch_invocations(cloudwatch, COMPONENT, NOW - timedelta(days=5), NOW)
    assert sorted(got) == sorted(stamps)


def test_the_fleet_files_model_name_finds_the_component(cloudwatch: Any, tmp_path: Path) -> None:
    put(cloudwatch, COMPONENT, {NOW - timedelta(minutes=5): 4})
    summary = build(cloudwatch, tmp_path / "t.csv", component="chat")
    assert summary.component == COMPONENT
    assert summary.requests == 4


def test_a_component_with_no_data_is_a_clear_error(cloudwatch: Any, tmp_path: Path) -> None:
    put(cloudwatch, "someone-else", {NOW - timedelta(minutes=5): 4})
    with pytest.raises(TraceError, match=r"no AWS/SageMaker Invocations datapoints .*'nope'"):
        build(cloudwatch, tmp_path / "t.csv", component="nope")
    assert not (tmp_path / "t.csv").exists()


def test_data_older_than_the_window_is_not_read(cloudwatch: Any, tmp_path: Path) -> None:
    put(cloudwatch, COMPONENT, {NOW - timedelta(days=3): 9, NOW - timedelta(minutes=3): 1})
    assert build(cloudwatch, tmp_path / "t.csv", days=2).requests == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("const:0", "whole number of tokens >= 1"),
        ("const:abc", "'abc' is not a number"),
        ("lognormal:mean=1000", "missing sigma"),
        ("lognormal:mean=1000,sigma=-1", "sigma must be from 0 to 5"),
        ("lognormal:mu=3,sigma=1", "expected mean=..., sigma=..."),
        ("uniform:1,9", "unknown kind 'uniform'"),
        ("500", "not understood"),
        ("sample:/no/such.csv", "cannot read the trace"),
    ],
)
def test_bad_token_distributions_say_what_is_allowed(spec: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        parse_distribution(spec, "ContextTokens")


def test_token_distributions_draw_what_they_say() -> None:
    rng = np.random.default_rng(0)
    lognormal = parse_distribution("lognormal:mean=1000,sigma=0.8", "ContextTokens").draw(
        rng, 20_000
    )
    assert abs(lognormal.mean() - 1000) < 30
    sample = parse_distribution("sample:azure-code", "GeneratedTokens").draw(rng, 1000)
    pool = load_trace(Path("sim/traces/AzureLLMInferenceTrace_code.csv")).output_tokens
    assert set(sample.tolist()) <= set(pool.astype(int).tolist())


def test_bad_arguments_fail_before_anything_is_written(
    cloudwatch: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(cloudwatch, COMPONENT, {NOW - timedelta(minutes=5): 4})
    base = ["trace", "--endpoint", ENDPOINT, "--component", COMPONENT, "--region", REGION]
    out = str(tmp_path / "t.csv")
    assert main([*base, "--days", "16", "--out", out]) == 2
    assert "at most 15" in capsys.readouterr().err
    assert main([*base, "--days", "0", "--out", out]) == 2
    assert main([*base, "--days", "1", "--out", str(tmp_path / "missing" / "t.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--days", "1", "--out", out, "--prompt-tokens", "const:-3"]) == 2
    assert "const needs" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_the_command_writes_a_trace_the_simulator_replays(
    cloudwatch: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(cloudwatch, COMPONENT, {NOW - timedelta(minutes=m): 10 for m in (2, 3, 4)})
    out = tmp_path / "mine.csv"
    argv = ["trace", "--endpoint", ENDPOINT, "--component", "chat", "--days", "1"]
    assert main([*argv, "--out", str(out), "--region", REGION, "--seed", "3"]) == 0
    assert "30 requests of qwen3-8b-chat" in capsys.readouterr().out
    assert len(load_trace(out)) == 30
