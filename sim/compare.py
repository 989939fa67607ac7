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

AWS_FRONTIER = ("aws-target-tracking", "aws-target-tracking-tuned", "aws-scheduled")


def aws_points(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**x, "policy": name}
        for name in AWS_FRONTIER
        if name in doc["policies"]
        for x in doc["policies"][name]["frontier"]
    ]


def versus_aws(doc: dict[str, Any], policy: str = "project") -> dict[str, Any]:
    """The project's setting and AWS's frontier at its cost and at its attainment."""
    mine = doc["policies"][policy]["default"]
    slo, gpu = mine["slo_attainment"]["mean"], mine["gpu_hours"]["mean"]
    points = aws_points(doc)
    cheaper = [x for x in points if x["gpu_hours"] <= gpu]
    better = [x for x in points if x["slo_attainment"] >= slo]
    at_cost = max(cheaper, key=lambda x: x["slo_attainment"]) if cheaper else None
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


def _setting(s: dict[str, Any] | None) -> str:
    if s is None:
        return "-"
    knobs = ", ".join(f"{k} {v:g}" for k, v in s.items() if k != "policy")
    return f"{s['policy']} ({knobs})"


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
        at_cost = (
            "no AWS setting costs as little"
            if aws_slo is None
            else f"{_pct(aws_slo)} {_setting(v['aws_setting_at_project_cost'])}"
        )
        for_slo = (
            "no AWS setting attains as much"
            if aws_gpu is None
            else f"{aws_gpu:.2f} {_setting(v['aws_setting_for_project_slo'])}"
        )
        rows.append(f"| {name} | {_pct(slo)}, {gpu:.2f} | {at_cost} | {for_slo} | {verdict} |")
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
        rows.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
