"""``python -m sim bench`` and ``plan``: report.json's interface, reproducibility, the planner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config.fleet import DEFAULT_FLEET
from sim.bench import BenchSpec, bench
from sim.cli import main
from sim.plan import choose, plan
from sim.policies import POLICIES

SHORT = ["--trace", "step-spike", "--duration-h", "0.5", "--seeds", "2", "--grid", "4,8"]


def ci(figure: object) -> None:
    assert isinstance(figure, dict)
    assert isinstance(figure["mean"], float)
    lo, hi = figure["ci95"]
    assert isinstance(lo, float) and isinstance(hi, float)
    assert lo <= figure["mean"] <= hi


def test_bench_writes_report_json_in_the_documented_interface(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    assert main(["bench", *SHORT, "--processes", "1", "--out", str(out)]) == 0
    assert {"report.json", "report.md", "frontier.png"} <= {p.name for p in out.iterdir()}
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["trace"] == "step-spike"
    assert doc["seeds"] == 2
    assert doc["reaction_s"] == 30.0
    assert list(doc["policies"]) == list(POLICIES)
    for name, p in doc["policies"].items():
        d = p["default"]
        ci(d["slo_attainment"])
        assert 0 <= d["slo_attainment"]["mean"] <= 1  # a fraction
        ci(d["gpu_hours"])
        for timing in ("detection_s", "first_copy_s", "time_to_capacity_s"):
            assert timing in d
            if d[timing] is not None:
                ci(d[timing])
        ci(p["endpoints"]["qwen3-8b"]["gpu_hours"])
        # Target tracking with a step scale-in and the project also sweep the minimum copy
        # count (MinCapacity, copies.min) at the fleet's target; the fleet's own minimum is 1.
        floors = (
            [{p["knob"]: 8.0, "min_copies": float(n)} for n in (2, 4, 6)]
            if name in ("aws-target-tracking-tuned", "project")
            else []
        )
        assert [x["knob"] for x in p["frontier"]] == [
            {p["knob"]: 4.0},
            {p["knob"]: 8.0},
            *floors,
        ], name
        for x in p["frontier"]:
            assert isinstance(x["slo_attainment"], float) and isinstance(x["gpu_hours"], float)
        marks = [x["default"] for x in p["frontier"]]
        assert marks == [False, True] + [False] * len(floors)  # the fleet's 8
    # The step spike is a breach for everyone: the project's decision is timed.
    assert doc["policies"]["project"]["default"]["detection_s"] is not None
    assert "| project |" in capsys.readouterr().out


def test_the_same_seeds_give_the_same_report() -> None:
    spec = BenchSpec(str(DEFAULT_FLEET), ("bursty",), seeds=2, grid=(8.0,), duration_s=1800.0)
    assert bench(spec, processes=1) == bench(spec, processes=2)
    other = BenchSpec(str(DEFAULT_FLEET), ("bursty",), seeds=3, grid=(8.0,), duration_s=1800.0)
    assert bench(other, processes=1) != bench(spec, processes=1)


def test_a_recorded_trace_at_its_own_rate_runs_once() -> None:
    spec = BenchSpec(
        str(DEFAULT_FLEET),
        ("azure-code",),
        seeds=10,
        grid=(8.0,),
        duration_s=600.0,
        policies=("project",),
    )
    assert bench(spec, processes=1)["seeds"] == 1


def test_the_planner_s_answer_meets_the_slo_when_replayed() -> None:
    # Given a spike and a target of 90 % within the SLO
    spec = BenchSpec(
        str(DEFAULT_FLEET),
        ("step-spike",),
        seeds=2,
        grid=(2.0, 4.0, 8.0),
        duration_s=1800.0,
        policies=("aws-target-tracking", "project"),
    )
    doc, text = plan(spec, 0.7, processes=1)
    chosen = choose(doc, 0.7)
    assert "project:" in text
    for name, point in chosen.items():
        if point is None:
            assert f"{name}: no setting meets it" in text
            continue
        # When that one setting is replayed on the same traffic and seeds
        knob = next(iter(point["knob"].values()))
        replay = bench(
            BenchSpec(
                spec.config,
                spec.traffic,
                seeds=2,
                grid=(knob,),
                duration_s=1800.0,
                policies=(name,),
            ),
            processes=1,
        )
        (again,) = [x for x in replay["policies"][name]["frontier"] if x["knob"] == point["knob"]]
        # Then it meets the target, at the cost the planner said
        assert again["slo_attainment"] >= 0.7
        assert again["gpu_hours"] == pytest.approx(point["gpu_hours"])
        # and it is the cheapest that does
        cheaper = [
            x
            for x in doc["policies"][name]["frontier"]
            if x["gpu_hours"] < point["gpu_hours"] and x["slo_attainment"] >= 0.7
        ]
        assert not cheaper


def test_plan_and_bench_reject_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--trace", "step-spike", "--slo", "1.5"]) == 2
    assert "--slo must be a fraction of requests, 0 < slo <= 1; got 1.5" in capsys.readouterr().err
    assert main(["bench", "--trace", "nope", "--out", "/tmp/unused"]) == 2
    assert "unknown trace 'nope'" in capsys.readouterr().err
    assert main(["bench", "--trace", "step-spike", "--floors", "2,x", "--out", "/tmp/unused"]) == 2
    assert "--floors '2,x': not a list of copy counts" in capsys.readouterr().err
    assert main(["bench", "--trace", "step-spike", "--floors", "0", "--out", "/tmp/unused"]) == 2
    assert "floors must be copy counts >= 1; got (0,)" in capsys.readouterr().err


def _point(slo: float, gpu: float, target: float) -> dict[str, object]:
    return {"knob": {"target": target}, "slo_attainment": slo, "gpu_hours": gpu}


def test_the_project_is_read_against_aws_s_frontier_at_its_cost_and_its_attainment() -> None:
    from sim.compare import versus_aws, versus_table

    # Given the project at 90 % for 10 GPU-hours and AWS's points around it
    doc: dict[str, Any] = {
        "policies": {
            "project": {
                "default": {"slo_attainment": {"mean": 0.90}, "gpu_hours": {"mean": 10.0}},
                "frontier": [],
            },
            "aws-target-tracking": {
                "frontier": [_point(0.85, 9.0, 8), _point(0.91, 10.5, 6), _point(0.95, 14.0, 3)]
            },
            "aws-target-tracking-tuned": {"frontier": [_point(0.88, 10.0, 8)]},
            "pre-caching": {"frontier": [_point(0.99, 1.0, 8)]},  # not one of AWS's best
        }
    }
    v = versus_aws(doc)
    # Then AWS's best at no more cost is tuned at 88 %, and AWS needs 10.5 GPU-hours for 90 %
    assert v["aws_slo_at_project_cost"] == 0.88
    assert v["aws_setting_at_project_cost"] == {"policy": "aws-target-tracking-tuned", "target": 8}
    assert v["aws_gpu_hours_for_project_slo"] == 10.5
    assert "| project leads |" in versus_table({"s": doc})
    # and a cheaper AWS point with the same attainment makes AWS the leader
    doc["policies"]["aws-target-tracking"]["frontier"].append(_point(0.90, 9.5, 7))
    assert "| AWS leads |" in versus_table({"s": doc})


def test_the_project_at_a_raised_minimum_is_read_against_aws_s_whole_frontier() -> None:
    from sim.compare import same_minimum, same_minimum_table

    def at(slo: float, gpu: float, knob: dict[str, float], default: bool = False) -> object:
        return {"knob": knob, "slo_attainment": slo, "gpu_hours": gpu, "default": default}

    # Given the project at its fleet file's minimum and at minimum 4, and AWS's points (one of
    # them at minimum 4 too)
    doc: dict[str, Any] = {
        "policies": {
            "project": {
                "frontier": [
                    at(0.80, 9.0, {"threshold": 4}),
                    at(0.84, 14.0, {"threshold": 8}, default=True),
                    at(0.91, 12.0, {"threshold": 8, "min_copies": 4}),
                ]
            },
            "aws-target-tracking-tuned": {
                "frontier": [
                    at(0.82, 14.0, {"target": 8}),
                    at(0.89, 11.5, {"target": 8, "min_copies": 4}),
                ]
            },
        }
    }
    rows = same_minimum(doc)
    # Then each is read against AWS's best point at no more cost, whatever its minimum
    assert [r["min_copies"] for r in rows] == [None, 4.0]
    assert [round(100 * r["gain"], 1) for r in rows] == [-5.0, 2.0]
    assert rows[0]["aws"]["knob"] == {"target": 8, "min_copies": 4}
    table = same_minimum_table({"bursty": doc})
    assert "| bursty | 84.0 %, 14.00 (-5.0) | 91.0 %, 12.00 (+2.0) |" in table
    # and a project point no AWS point costs as little as says so
    doc["policies"]["project"]["frontier"][2]["gpu_hours"] = 11.0
    assert "91.0 %, 11.00 (none costs as little)" in same_minimum_table({"bursty": doc})


def test_the_planner_says_how_to_set_a_raised_minimum() -> None:
    from sim.plan import fleet_lines

    spec = BenchSpec(str(DEFAULT_FLEET), ("step-spike",))
    point = {"knob": {"threshold": 8.0, "min_copies": 4.0}}
    lines = fleet_lines(spec, "project", point)
    assert lines[0].endswith("scaling.scale_out.threshold: 8, scaling.scale_in.threshold: 2")
    assert lines[1].startswith("minimum 4 copies per model")
    assert "copies.min and copies.initial" in lines[1]
    aws = fleet_lines(
        spec, "aws-target-tracking-tuned", {"knob": {"target": 8.0, "min_copies": 6.0}}
    )
    assert aws[0].endswith("HighResolution: 8")
    assert "MinCapacity" in aws[-1] and aws[-1].startswith("minimum 6 copies")
