"""Figures and files of a replay: report.json, report.md, capacity.png and coldstart.png.

Time to capacity is measured against the offered load, which does not depend on the policy: the
requests in flight if every request started on arrival (``offered_concurrency``), averaged over a
minute. An under-capacity episode starts when that exceeds what the serving copies can hold
(copies x ``max_concurrency``) and ends when serving capacity covers it again; its length is the
time to capacity. With one copy of 16 slots and a step to 36 requests in flight, the episode
lasts until the third copy serves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from config.coldstart import PATHS

from .simulator import TICK_S, Component, RunResult, describe
from .traffic import Workload

SMOOTHING_TICKS = 6  # one minute of 10 s ticks


def offered_concurrency(workload: Workload, component: Component, ticks: int) -> np.ndarray:
    """Mean requests in flight per 10 s tick if none ever waited (policy independent).

    The integral of N(t) = starts(<= t) - ends(<= t) over each tick, from cumulative sums: for
    times x_i, the integral up to e of #(x_i <= t) is sum over x_i < e of (e - x_i).
    """
    s = component.model.serving
    start = workload.arrival_s
    end = np.sort(start + workload.service_time_s(s.prefill_tokens_per_s, s.decode_tokens_per_s))
    edges = np.arange(ticks + 1, dtype=np.float64) * TICK_S

    def integral(x: np.ndarray) -> np.ndarray:
        cumulative = np.r_[0.0, np.cumsum(x)]
        k = np.searchsorted(x, edges, side="left")
        return k * edges - cumulative[k]

    area = np.diff(integral(start) - integral(end))
    return np.asarray(area / TICK_S, dtype=np.float64)


def smooth(values: np.ndarray, ticks: int = SMOOTHING_TICKS) -> np.ndarray:
    """Trailing mean over ``ticks`` ticks."""
    if values.size == 0:
        return values
    cumulative = np.r_[0.0, np.cumsum(values)]
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(0, idx - ticks)
    return np.asarray((cumulative[idx] - cumulative[lo]) / (idx - lo), dtype=np.float64)


def capacity_episodes(result: RunResult) -> list[dict[str, float | None]]:
    """Under-capacity episodes: start, and seconds until serving capacity covered the load
    (None if it never did before the run ended)."""
    tl = result.timeline
    ticks = len(tl.t_s)
    offered = smooth(offered_concurrency(result.workload, result.component, ticks))
    capacity = np.asarray(tl.serving_copies, dtype=np.float64) * result.component.max_concurrency
    under = offered > capacity
    episodes: list[dict[str, float | None]] = []
    k = 0
    while k < ticks:
        if not under[k]:
            k += 1
            continue
        j = k
        while j < ticks and under[j]:
            j += 1
        start = tl.t_s[k] - TICK_S
        episodes.append(
            {
                "start_s": start,
                "time_to_capacity_s": (tl.t_s[j] - TICK_S - start) if j < ticks else None,
            }
        )
        k = j
    return episodes


def summarize(result: RunResult) -> dict[str, Any]:
    """Everything report.json holds for one policy."""
    summary = describe(result)
    episodes = capacity_episodes(result)
    done = [e["time_to_capacity_s"] for e in episodes if e["time_to_capacity_s"] is not None]
    summary["capacity_episodes"] = episodes
    summary["time_to_capacity_mean_s"] = float(np.mean(done)) if done else None
    summary["time_to_capacity_max_s"] = (
        None if len(done) < len(episodes) else (float(max(done)) if done else 0.0)
    )
    summary["actions"] = [
        {"at_s": a.at_s, "from": a.from_copies, "to": a.to_copies, "reason": a.reason}
        for a in result.actions
    ]
    return summary


def _fmt(value: float | None, unit: str = "s", digits: int = 1) -> str:
    if value is None:
        return "failed" if unit == "s" else "n/a"
    return f"{value:.{digits}f}{unit}"


def write_report(results: list[RunResult], out: Path, command: str) -> dict[str, Any]:
    """Write report.json, report.md and the plots into ``out``; return the JSON document."""
    out.mkdir(parents=True, exist_ok=True)
    first = results[0]
    c, w = first.component, first.workload
    doc: dict[str, Any] = {
        "command": command,
        "workload": {"name": w.name, "requests": len(w), "duration_s": w.duration_s},
        "component": {
            "endpoint": c.endpoint.name,
            "model": c.model.name,
            "instance_type": c.endpoint.instance_type,
            "copies_per_instance": c.copies_per_instance,
            "max_concurrency_per_copy": c.max_concurrency,
            "slo_ttft_s": c.slo_ttft_s,
        },
        "cold_start": {p: c.paths[p].to_dict() for p in PATHS},
        "policies": {r.policy: summarize(r) for r in results},
    }
    (out / "report.json").write_text(
        json.dumps(doc, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    (out / "report.md").write_text(markdown(doc), encoding="utf-8")
    plot_capacity(results, out / "capacity.png")
    plot_coldstart(c, out / "coldstart.png")
    return doc


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not serializable: {value!r}")


def table(doc: dict[str, Any]) -> str:
    """The per-policy markdown table."""
    slo = doc["component"]["slo_ttft_s"]
    rows = [
        f"| policy | SLO attainment (wait <= {slo:g} s) | p50 wait | p99 wait | "
        "time to capacity, mean / max | GPU-hours | scale actions | flaps | "
        "failed + timed out |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in doc["policies"].items():
        episodes = len(p["capacity_episodes"])
        worst = p["time_to_capacity_max_s"]
        worst_text = "not reached" if worst is None else f"{worst:.0f} s"
        mean = p["time_to_capacity_mean_s"]
        mean_text = "n/a" if mean is None else f"{mean:.0f} s"
        ttc = f"{mean_text} / {worst_text} ({episodes} episodes)" if episodes else "never short"
        rows.append(
            f"| {name} | {100 * p['slo_attainment']:.1f} % | {_fmt(p['p50_wait_s'])} | "
            f"{_fmt(p['p99_wait_s'])} | {ttc} | {p['gpu_hours']:.2f} | "
            f"{p['scale_actions']} | {p['flaps']} | "
            f"{p['failed_invocations']} + {p['timed_out_invocations']} |"
        )
    return "\n".join(rows) + "\n"


def markdown(doc: dict[str, Any]) -> str:
    """report.md."""
    w, c = doc["workload"], doc["component"]
    lines = [
        f"# Scaling policies on `{w['name']}`",
        "",
        f"`{doc['command']}`",
        "",
        f"{w['requests']} requests over {w['duration_s'] / 3600:.2f} h; component "
        f"`{c['endpoint']}/{c['model']}` on {c['instance_type']} ({c['copies_per_instance']} "
        f"copies per instance, {c['max_concurrency_per_copy']} concurrent requests per copy).",
        "",
        table(doc),
        "A failed wait (p99) means at least 1 % of requests failed (no copy) or timed out after "
        "60 s in the queue. Time to capacity: see docs/scaling-model.md.",
        "",
        "![demand vs ready capacity](capacity.png)",
        "",
        "## Cold start by path",
        "",
        "| path | provisioning | image pull | model download | container start | "
        "weights load | total |",
        "|---|---|---|---|---|---|---|",
    ]
    for path, ph in doc["cold_start"].items():
        lines.append(
            f"| {path} | {ph['provisioning_s']:.0f} s | {ph['image_pull_s']:.0f} s | "
            f"{ph['model_download_s']:.0f} s | {ph['container_start_s']:.0f} s | "
            f"{ph['weights_load_s']:.0f} s | {ph['total_s']:.0f} s |"
        )
    lines += ["", "![cold-start phases](coldstart.png)", ""]
    return "\n".join(lines)


def plot_capacity(results: list[RunResult], path: Path) -> None:
    """Demand vs ready capacity over time, one panel per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(n, 1, figsize=(11, 2.4 * n + 0.6), sharex=True, squeeze=False)
    first = results[0]
    ticks = len(first.timeline.t_s)
    offered = smooth(offered_concurrency(first.workload, first.component, ticks))
    hours = np.asarray(first.timeline.t_s) / 3600.0
    per = first.component.max_concurrency
    for ax, r in zip(axes[:, 0], results, strict=True):
        ax.plot(hours, offered, color="0.3", lw=0.8, label="offered load (requests in flight)")
        ax.plot(
            hours,
            np.asarray(r.timeline.serving_copies) * per,
            color="tab:green",
            lw=1.4,
            drawstyle="steps-post",
            label="serving capacity (copies x slots)",
        )
        ax.plot(
            hours,
            np.asarray(r.timeline.desired_copies) * per,
            color="tab:blue",
            lw=0.9,
            ls="--",
            drawstyle="steps-post",
            label="desired capacity",
        )
        ax.set_title(r.policy, loc="left", fontsize=10)
        ax.set_ylabel("requests")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("hours")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_coldstart(component: Component, path: Path) -> None:
    """Stacked phase bars for each path of a new copy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 2.8))
    colors = {
        "provisioning": "tab:gray",
        "transfer (pull | download)": "tab:orange",
        "container start": "tab:blue",
        "weights load": "tab:green",
    }
    for y, name in enumerate(PATHS):
        ph = component.paths[name]
        left = 0.0
        parts = (
            ("provisioning", ph.provisioning_s),
            ("transfer (pull | download)", max(ph.image_pull_s, ph.model_download_s)),
            ("container start", ph.container_start_s),
            ("weights load", ph.weights_load_s),
        )
        for label, width in parts:
            ax.barh(y, width, left=left, color=colors[label], label=label if y == 0 else None)
            left += width
        ax.text(left + 5, y, f"{ph.total_s:.0f} s", va="center", fontsize=9)
    ax.set_yticks(range(len(PATHS)), PATHS)
    ax.set_xlabel("seconds from the decision until the copy serves")
    ax.set_title(
        f"{component.endpoint.instance_type}: image {component.model.image_gb:g} GB, "
        f"model {component.model.model_gb:g} GB",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
