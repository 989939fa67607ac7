"""The project's fleet-file setting against AWS's best setting, from a bench report.

AWS's frontier is every point of the ``aws-target-tracking``, ``aws-target-tracking-tuned`` and
``aws-scheduled`` frontiers (what a user can configure with Application Auto Scaling). Two
readings, both without interpolation between sweep points:

* AWS's SLO attainment at the project's GPU-hours: the best attainment of any AWS point that
  costs no more than the project;
* AWS's GPU-hours for the project's attainment: the cheapest AWS point that attains at least as
  much (None when no swept AWS setting does).
"""

from __future__ import annotations

from typing import Any

from .bench import FLOOR_KNOB
from .traffic import HOLDOUT

AWS_FRONTIER = ("aws-target-tracking", "aws-target-tracking-tuned", "aws-scheduled")


def aws_points(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**x, "policy": name}
        for name in AWS_FRONTIER
        if name in doc["policies"]
        for x in doc["policies"][name]["frontier"]
    ]


def best_at_cost(points: list[dict[str, Any]], gpu_hours: float) -> dict[str, Any] | None:
    """The AWS point attaining most for at most ``gpu_hours`` (None when none costs as little)."""
    cheaper = [x for x in points if x["gpu_hours"] <= gpu_hours]
    return max(cheaper, key=lambda x: x["slo_attainment"]) if cheaper else None


def versus_aws(doc: dict[str, Any], policy: str = "project") -> dict[str, Any]:
    """The project's setting and AWS's frontier at its cost and at its attainment."""
    mine = doc["policies"][policy]["default"]
    slo, gpu = mine["slo_attainment"]["mean"], mine["gpu_hours"]["mean"]
    points = aws_points(doc)
    better = [x for x in points if x["slo_attainment"] >= slo]
    at_cost = best_at_cost(points, gpu)
    for_slo = min(better, key=lambda x: x["gpu_hours"]) if better else None
    return {
        "project_slo_attainment": slo,
        "project_gpu_hours": gpu,
        "aws_slo_at_project_cost": None if at_cost is None else at_cost["slo_attainment"],
        "aws_setting_at_project_cost": None
        if at_cost is None
        else {"policy": at_cost["policy"], **at_cost["knob"]},
        "aws_gpu_hours_for_project_slo": None if for_slo is None else for_slo["gpu_hours"],
        "aws_setting_for_project_slo": None
        if for_slo is None
        else {"policy": for_slo["policy"], **for_slo["knob"]},
    }


def _pct(x: float | None) -> str:
    return "none" if x is None else f"{100 * x:.1f} %"


def label(name: str) -> str:
    """A scenario's name in a table; held-out ones (``sim.holdout``) say so."""
    return f"{name} (held out)" if name in HOLDOUT else name


def _setting(s: dict[str, Any] | None) -> str:
    if s is None:
        return "-"
    knobs = ", ".join(f"{k} {v:g}" for k, v in s.items() if k != "policy")
    return f"{s['policy']} ({knobs})"


def _at_cost(v: dict[str, Any]) -> str:
    """The table cell for AWS's best point at no more cost than the project (``versus_aws``)."""
    if v["aws_slo_at_project_cost"] is None:
        return "no AWS setting costs as little"
    return f"{_pct(v['aws_slo_at_project_cost'])} {_setting(v['aws_setting_at_project_cost'])}"


def _verdict(slo: float, gpu: float, aws_slo: float | None, aws_gpu: float | None) -> str:
    """AWS leads when, at no more cost, it attains 0.5 points more, or it attains as much for
    2 % fewer GPU-hours; the project leads when the reverse holds on both readings."""
    if (aws_slo is not None and aws_slo > slo + 0.005) or (
        aws_gpu is not None and aws_gpu < 0.98 * gpu
    ):
        return "AWS leads"
    if (aws_slo is None or slo > aws_slo + 0.005) and (aws_gpu is None or aws_gpu > 1.02 * gpu):
        return "project leads"
    return "level"


def versus_table(docs: dict[str, dict[str, Any]]) -> str:
    """One row per scenario: the project's setting against AWS's frontier."""
    rows = [
        "| scenario | project: SLO attainment, GPU-hours | AWS's best SLO at that cost | "
        "AWS's GPU-hours for the project's SLO | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, doc in docs.items():
        v = versus_aws(doc)
        slo, gpu = v["project_slo_attainment"], v["project_gpu_hours"]
        aws_slo, aws_gpu = v["aws_slo_at_project_cost"], v["aws_gpu_hours_for_project_slo"]
        verdict = _verdict(slo, gpu, aws_slo, aws_gpu)
        at_cost = _at_cost(v)
        for_slo = (
            "no AWS setting attains as much"
            if aws_gpu is None
            else f"{aws_gpu:.2f} {_setting(v['aws_setting_for_project_slo'])}"
        )
        rows.append(
            f"| {label(name)} | {_pct(slo)}, {gpu:.2f} | {at_cost} | {for_slo} | {verdict} |"
        )
    return "\n".join(rows) + "\n"


def defaults_table(docs: dict[str, dict[str, Any]]) -> str:
    """Every policy at the fleet file's setting: SLO attainment (mean) and GPU-hours."""
    names = list(next(iter(docs.values()))["policies"])
    rows = [
        "| scenario | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for scenario, doc in docs.items():
        cells = []
        for name in names:
            d = doc["policies"][name]["default"]
            cells.append(f"{100 * d['slo_attainment']['mean']:.1f} %, {d['gpu_hours']['mean']:.2f}")
        rows.append(f"| {label(scenario)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


# The bar the project is held to (issue "Beat AWS's best configuration"): never below AWS's
# frontier by more than half a point; where load recurs or trends, 5 points more at the same
# GPU-hours or at most 0.85x the GPU-hours for the same attainment; on the step spike, the
# first decision at least 20 s sooner than aws-target-tracking. The held-out scenarios
# (``sim.holdout``, never tuned on) are held to the first: never below the frontier.
BAR_TOLERANCE = 0.005
BAR_MORE_SLO = 0.05
BAR_GPU_RATIO = 0.85
BAR_DETECTION_S = 20.0
TRENDING = ("bursty", "ramp", "diurnal-week")
SPIKE = "step-spike"


def _mean(figure: dict[str, Any] | None) -> float | None:
    return None if figure is None else figure["mean"]


def bar(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The project's default setting on scenario ``name`` against the bar.

    ``gain``: points of attainment over AWS's best point at no more cost; when no AWS point
    costs as little, over AWS's cheapest point (``gain_bound``: AWS at the project's cost could
    only attain as much or less, so the gain is at least this). ``ratio``: the project's
    GPU-hours over the cheapest AWS point's that attains as much; when none does, over the
    dearest AWS point's (``ratio_bound``: at most this). ``detection_gain_s``: on the spike,
    aws-target-tracking's mean spike-to-decision time less the project's.
    """
    v = versus_aws(doc)
    slo, gpu = v["project_slo_attainment"], v["project_gpu_hours"]
    points = aws_points(doc)
    at_cost, for_slo = v["aws_slo_at_project_cost"], v["aws_gpu_hours_for_project_slo"]
    gain_bound = at_cost is None and bool(points)
    reference = (
        min(points, key=lambda x: x["gpu_hours"])["slo_attainment"] if gain_bound else at_cost
    )
    ratio_bound = for_slo is None and bool(points)
    dearest = max(points, key=lambda x: x["gpu_hours"])["gpu_hours"] if ratio_bound else for_slo
    gain = None if reference is None else slo - reference
    ratio = None if not dearest else gpu / dearest
    out: dict[str, Any] = {
        **v,
        "gain": gain,
        "gain_bound": gain_bound,
        "ratio": ratio,
        "ratio_bound": ratio_bound,
        "never_below": gain is None or gain >= -BAR_TOLERANCE,
        "held_out": name in HOLDOUT,
        "clearly_above": None,
        "detection_gain_s": None,
    }
    if name in TRENDING:
        out["clearly_above"] = (gain is not None and gain >= BAR_MORE_SLO) or (
            ratio is not None and ratio <= BAR_GPU_RATIO
        )
    if name == SPIKE:
        aws = _mean(
            doc["policies"].get("aws-target-tracking", {}).get("default", {}).get("detection_s")
        )
        mine = _mean(doc["policies"]["project"]["default"]["detection_s"])
        out["detection_gain_s"] = None if aws is None or mine is None else aws - mine
    return out


def bar_table(docs: dict[str, dict[str, Any]]) -> str:
    """One row per scenario: the project's default setting against the bar, met or missed."""
    rows = [
        "| scenario | project: SLO attainment, GPU-hours | AWS's best SLO at that cost | "
        "points over it | GPU-hours vs AWS for the same SLO | bar | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, doc in docs.items():
        b = bar(name, doc)
        slo, gpu = b["project_slo_attainment"], b["project_gpu_hours"]
        at_cost = _at_cost(b)
        gain = (
            "-"
            if b["gain"] is None
            else f"{'>= ' if b['gain_bound'] else ''}{100 * b['gain']:+.1f}"
        )
        ratio = (
            "-" if b["ratio"] is None else f"{'< ' if b['ratio_bound'] else ''}{b['ratio']:.2f}x"
        )
        wanted = ["never below (-0.5)"]
        met = [b["never_below"]]
        if b["clearly_above"] is not None:
            wanted.append("+5 points or <= 0.85x")
            met.append(b["clearly_above"])
        if name == SPIKE:
            d = b["detection_gain_s"]
            wanted.append(f"decision >= 20 s sooner ({'-' if d is None else f'{d:.0f} s'})")
            met.append(d is not None and d >= BAR_DETECTION_S)
        verdict = "; ".join("met" if m else "**missed**" for m in met)
        rows.append(
            f"| {label(name)} | {_pct(slo)}, {gpu:.2f} | {at_cost} | {gain} | {ratio} | "
            f"{'; '.join(wanted)} | {verdict} |"
        )
    return "\n".join(rows) + "\n"


def floor_of(point: dict[str, Any]) -> float | None:
    """A frontier point's raised minimum copy count (None: the fleet file's own minimum)."""
    value = point["knob"].get(FLOOR_KNOB)
    return None if value is None else float(value)


def same_minimum(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's fleet-file rules at each minimum copy count of its frontier (the fleet
    file's own first), each against AWS's whole frontier: ``gain`` is the project's attainment
    less AWS's best at no more cost (None when no AWS point costs as little)."""
    points = aws_points(doc)
    project = doc["policies"]["project"]
    default = next(x["knob"] for x in project["frontier"] if x["default"])
    # The fleet file's rules: its own point, and those that add only a raised minimum to it.
    mine = [
        x
        for x in project["frontier"]
        if {k: v for k, v in x["knob"].items() if k != FLOOR_KNOB} == default
    ]
    out = []
    for x in sorted(mine, key=lambda x: floor_of(x) or 0.0):
        best = best_at_cost(points, x["gpu_hours"])
        out.append(
            {
                "min_copies": floor_of(x),
                "slo_attainment": x["slo_attainment"],
                "gpu_hours": x["gpu_hours"],
                "aws": best,
                "gain": None if best is None else x["slo_attainment"] - best["slo_attainment"],
            }
        )
    return out


def same_minimum_table(docs: dict[str, dict[str, Any]]) -> str:
    """One row per scenario: the project's rules at each minimum copy count, points over AWS's
    best frontier point (any target, any minimum) at no more cost."""
    floors = sorted({r["min_copies"] for doc in docs.values() for r in same_minimum(doc)} - {None})
    rows = [
        "| scenario | fleet file's minimum | "
        + " | ".join(f"min {f:g} copies" for f in floors)
        + " |",
        "|---|---|" + "---|" * len(floors),
    ]
    for name, doc in docs.items():
        by_floor = {r["min_copies"]: r for r in same_minimum(doc)}
        cells = []
        for f in [None, *floors]:
            r = by_floor.get(f)
            if r is None:
                cells.append("-")
                continue
            gain = "none costs as little" if r["gain"] is None else f"{100 * r['gain']:+.1f}"
            cells.append(f"{_pct(r['slo_attainment'])}, {r['gpu_hours']:.2f} ({gain})")
        rows.append(f"| {label(name)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
