"""The benchmark's files: report.json, report.md and frontier.png (SLO attainment vs GPU-hours)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .bench import FLOOR_KNOB

PERCENT_FIGURES = ("slo_attainment",)


def write_report(doc: dict[str, Any], out: Path, command: str) -> None:
    """Write ``doc`` (``sim.bench.report``) as report.json, report.md and frontier.png."""
    out.mkdir(parents=True, exist_ok=True)
    doc = {"command": command, **doc}
    (out / "report.json").write_text(
        json.dumps(doc, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(markdown(doc), encoding="utf-8")
    plot_frontier(doc, out / "frontier.png")


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not serializable: {value!r}")


def cell(figure: dict[str, Any] | None, *, percent: bool = False, digits: int = 1) -> str:
    """``mean [lo, hi]`` (in percent for attainment); ``-`` for a timing with no event."""
    if figure is None:
        return "-"
    scale, unit = (100.0, " %") if percent else (1.0, "")
    lo, hi = figure["ci95"]
    return (
        f"{scale * figure['mean']:.{digits}f}{unit} "
        f"[{scale * lo:.{digits}f}, {scale * hi:.{digits}f}]"
    )


def table(doc: dict[str, Any]) -> str:
    """The fleet-file setting of every policy: mean [95 % CI] over the seeds."""
    rows = [
        f"| policy | SLO attainment (TTFT <= {doc['slo_ttft_s']:g} s) | GPU-hours | "
        "spike to decision (s) | to first new copy (s) | to capacity (s) | "
        "new copies: warm / cached / uncached |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, p in doc["policies"].items():
        d = p["default"]
        paths = " / ".join(f"{v:.1f}" for v in d["paths"].values())
        rows.append(
            f"| {name} | {cell(d['slo_attainment'], percent=True)} | "
            f"{cell(d['gpu_hours'], digits=2)} | {cell(d['detection_s'], digits=0)} | "
            f"{cell(d['first_copy_s'], digits=0)} | {cell(d['time_to_capacity_s'], digits=0)} | "
            f"{paths} |"
        )
    return "\n".join(rows) + "\n"


def frontier_table(doc: dict[str, Any]) -> str:
    rows = ["| policy | knob | SLO attainment | GPU-hours |", "|---|---|---|---|"]
    for name, p in doc["policies"].items():
        for point in p["frontier"]:
            knob = ", ".join(f"{k} {v:g}" for k, v in point["knob"].items()) or "fleet file's"
            mark = " (fleet file)" if point["default"] else ""
            rows.append(
                f"| {name} | {knob}{mark} | {100 * point['slo_attainment']:.1f} % | "
                f"{point['gpu_hours']:.2f} |"
            )
    return "\n".join(rows) + "\n"


def markdown(doc: dict[str, Any]) -> str:
    """report.md."""
    idle = doc["idle_release_s"]
    idle_text = "the endpoint's cooldown_minutes" if idle is None else f"{idle:g} s"
    lines = [
        f"# Scaling policies on `{doc['trace']}`",
        "",
        f"`{doc['command']}`",
        "",
        f"Fleet `{doc['config']}`; {doc['seeds']} seed(s); reaction {doc['reaction_s']:g} s for "
        f"every policy; metric publishing {doc['publish_delay_s']:g} s; idle instances released "
        f"after {idle_text}; load x{doc['load']:g}. Figures: mean [95 % confidence interval] "
        "over the seeds; timings from the first breach of the offered load "
        "(docs/scaling-model.md); `-`: no such event.",
        "",
        "## Each policy at the fleet file's setting",
        "",
        table(doc),
        "## Frontiers (each policy's main knob; the minimum copy count too for "
        "aws-target-tracking-tuned and the project)",
        "",
        "![SLO attainment vs GPU-hours](frontier.png)",
        "",
        frontier_table(doc),
    ]
    return "\n".join(lines)


def plot_frontier(doc: dict[str, Any], path: Path) -> None:
    """SLO attainment against GPU-hours, one curve per policy, the fleet file's setting marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, p in doc["policies"].items():
        floors = [x for x in p["frontier"] if FLOOR_KNOB in x["knob"]]
        points = sorted(
            (x for x in p["frontier"] if FLOOR_KNOB not in x["knob"]), key=lambda x: x["gpu_hours"]
        )
        xs = [x["gpu_hours"] for x in points]
        ys = [100 * x["slo_attainment"] for x in points]
        (line,) = ax.plot(xs, ys, marker="o", ms=3, lw=1.2, label=name)
        if floors:
            ax.plot(
                [x["gpu_hours"] for x in floors],
                [100 * x["slo_attainment"] for x in floors],
                marker="s",
                ms=5,
                lw=0,
                color=line.get_color(),
                label=f"{name}, min copies raised",
            )
        for x in points:
            if x["default"]:
                ax.plot(
                    x["gpu_hours"],
                    100 * x["slo_attainment"],
                    marker="*",
                    ms=13,
                    color=line.get_color(),
                    markeredgecolor="black",
                )
    ax.set_xlabel("GPU-hours (mean over seeds)")
    ax.set_ylabel(f"requests with TTFT <= {doc['slo_ttft_s']:g} s (%)")
    ax.set_title(
        f"{doc['trace']}: {doc['seeds']} seed(s), reaction {doc['reaction_s']:g} s "
        "(star: fleet file's setting)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
